"""`python -m bot ...`: operator commands. Each sub-command imports its module lazily."""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser; each feature adds its sub-command here."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Assistant des inscriptions en ligne")
    sub = parser.add_subparsers(dest="command", required=True)
    # Sub-commands are registered below, one block per feature.
    # Account backend (bot/backend/commands.py).
    from bot.backend.commands import add_backend_commands

    add_backend_commands(sub)
    # A signed demo token of the portal for an account (bot/identity.py).
    token = sub.add_parser("token", help="jeton de démonstration signé pour un compte")
    token.add_argument("email")
    token.add_argument("--minutes", type=int, default=60, help="durée de validité (défaut : 60)")
    token.set_defaults(func=_token)
    # Help-desk deflection report (bot/analytics/commands.py).
    from bot.analytics.commands import add_report_command, add_review_command

    add_report_command(sub)
    # The help desk's review inbox, and its reviewed examples back into training (bot/analytics/review.py).
    add_review_command(sub)
    # Replay of recorded conversations through the trained model (bot/tools/replay.py).
    from bot.tools.replay import add_replay_command

    add_replay_command(sub)
    # Retention: delete old conversations from the tracker store (bot/tracker_store.py).
    purge = sub.add_parser("purge", help="supprimer les conversations plus anciennes que N jours")
    purge.add_argument("--older-than-days", type=int, default=None, metavar="N",
                       help="âge en jours (défaut : BOT_RETENTION_DAYS, 90)")
    purge.set_defaults(func=_purge)
    return parser


def _token(args: argparse.Namespace) -> int:
    """Print a signed demo token for the account of an email (what the portal would send)."""
    from datetime import timedelta

    from bot.identity import make_demo_token

    try:
        print(make_demo_token(args.email, timedelta(minutes=args.minutes)))
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def _purge(args: argparse.Namespace) -> int:
    """Delete the conversations whose last message is older than N days; print how many."""
    from bot.settings import get_settings
    from bot.tracker_store import purge_tracker_store

    days = get_settings().retention_days if args.older_than_days is None else args.older_than_days
    if days < 0:
        print("Erreur : le nombre de jours doit être positif ou nul.", file=sys.stderr)
        return 2
    print(f"{purge_tracker_store(days)} conversation(s) de plus de {days} jour(s) supprimée(s).")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bot ...`: operator commands. Each sub-command imports its module lazily."""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser; each feature adds its sub-command here."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Assistant des inscriptions en ligne")
    sub = parser.add_subparsers(dest="command", required=True)
    # Sub-commands are registered below, one block per feature.
    # Account backend and demo tokens (bot/backend/commands.py).
    from bot.backend.commands import add_backend_commands

    add_backend_commands(sub)
    # Help-desk deflection report (bot/analytics/commands.py).
    from bot.analytics.commands import add_report_command

    add_report_command(sub)
    return parser


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

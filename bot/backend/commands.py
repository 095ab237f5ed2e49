"""Operator commands `python -m bot backend migrate|seed|status EMAIL|expiries EMAIL`."""
from __future__ import annotations

import argparse
import sys
from datetime import date


def add_backend_commands(sub: argparse._SubParsersAction) -> None:
    """Register the `backend` sub-command (its modules are imported when it runs)."""
    backend = sub.add_parser("backend", help="base de données des comptes (démo)")
    actions = backend.add_subparsers(dest="backend_command", required=True)
    migrate = actions.add_parser("migrate", help="migrer la base seulement, sans données de démonstration")
    migrate.set_defaults(func=migrate_command)
    seed = actions.add_parser("seed", help="migrer la base et y mettre les données de démonstration")
    seed.add_argument("--reset", action="store_true", help="effacer d'abord toutes les données")
    seed.set_defaults(func=seed_command)
    status = actions.add_parser("status", help="état du compte en ligne d'un courriel")
    status.add_argument("email")
    status.set_defaults(func=status_command)
    expiries = actions.add_parser("expiries", help="échéance des cartes de la famille d'un compte lié")
    expiries.add_argument("email")
    expiries.add_argument("--today", type=date.fromisoformat, default=None, help="AAAA-MM-JJ")
    expiries.set_defaults(func=expiries_command)


def migrate_command(args: argparse.Namespace) -> int:
    from bot.backend.db import make_engine
    from bot.backend.setup import migrate
    from bot.settings import get_settings

    engine = make_engine(get_settings().database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    print("Schéma de la base des comptes à jour")
    return 0


def seed_command(args: argparse.Namespace) -> int:
    from bot.backend.setup import prepare_database
    from bot.settings import get_settings

    prepare_database(reset=args.reset)
    print(f"Base des comptes prête : {get_settings().database_url}")
    return 0


def status_command(args: argparse.Namespace) -> int:
    from bot.backend.factory import get_backend

    status = get_backend().account_status(args.email)
    if status.account_id is None:
        print("Aucun compte")
        return 1
    linked = f"lié au dossier {status.file_id}" if status.linked else "non lié"
    print(f"Compte {status.account_id} : {status.state.value}, {linked}")
    return 0


def expiries_command(args: argparse.Namespace) -> int:
    from bot.backend.factory import get_backend

    backend = get_backend()
    status = backend.account_status(args.email)
    if status.file_id is None:
        print("Aucun dossier lié à ce courriel", file=sys.stderr)
        return 1
    for expiry in backend.card_expiries(status.file_id, args.today or date.today()):
        print(f"{expiry.first_name} : {expiry.expires_on.isoformat()} ({expiry.status.value})")
    return 0


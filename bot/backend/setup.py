"""Prepare an account database: run the Alembic migrations, then seed the demo data of DESIGN.md."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from bot.backend.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (idempotent)."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrade the schema to `revision` (`base`: drop every table of the backend)."""
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


def prepare_database(database_url: str | None = None, *, reset: bool = False) -> None:
    """Migrate and seed the demo data (idempotent); `reset=True` first deletes every row.

    Default URL: settings (a SQLite file under var/, whose folder is created).
    """
    from bot.backend.seed import clear, seed
    from bot.settings import get_settings

    settings = get_settings()
    engine = make_engine(database_url or settings.database_url)
    try:
        migrate(engine)
        if reset:
            clear(engine)
        seed(engine, settings.card_hash_secret)
    finally:
        engine.dispose()

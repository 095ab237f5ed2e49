"""Backend fixtures: a migrated database on SQLite (a temp file) and on the real PostgreSQL.

BOT_TEST_BACKENDS=sqlite,postgres chooses the databases (default: both). PostgreSQL tests are
skipped with a message when the server (BOT_TEST_POSTGRES_URL, default postgres@127.0.0.1:5432/test)
does not answer; each test session creates its own database there and drops it afterwards.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bot.backend.db import make_engine
from bot.backend.seed import clear, seed
from bot.backend.service import AccountService
from bot.backend.setup import migrate
from bot.settings import get_settings

POSTGRES_ADMIN_URL = os.environ.get(
    "BOT_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


def _selected_backends() -> list[str]:
    chosen = os.environ.get("BOT_TEST_BACKENDS", "sqlite,postgres")
    return [name.strip() for name in chosen.split(",") if name.strip()]


def _postgres_problem() -> str | None:
    """None when PostgreSQL answers, else why not."""
    engine = create_engine(POSTGRES_ADMIN_URL, future=True, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means "does not answer"
        where = make_url(POSTGRES_ADMIN_URL)
        return f"PostgreSQL at {where.host}:{where.port} does not answer ({type(error).__name__})"
    finally:
        engine.dispose()
    return None


@pytest.fixture(
    scope="session",
    params=[pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else []) for name in
            _selected_backends()],
)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A URL of an empty database migrated to the latest revision, one per backend and test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('backend') / 'accounts.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    problem = _postgres_problem()
    if problem:
        pytest.skip(problem)
    name = f"bot_backend_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_engine(database_url) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def database_name(database_url) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


class FakeClock:
    """An injectable clock: `clock()` is the current time, `clock.advance(minutes=...)` moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 26, 14, 0, tzinfo=timezone.utc))


@pytest.fixture
def seeded(database_engine) -> Engine:
    """The database holding exactly the demo data of DESIGN.md (everything else deleted)."""
    clear(database_engine)
    seed(database_engine, get_settings().card_hash_secret)
    return database_engine


@pytest.fixture
def backend(seeded, clock) -> AccountService:
    """The SQLAlchemy backend on freshly seeded demo data, with the fake clock and no registration date."""
    return AccountService(seeded, get_settings().card_hash_secret, clock=clock, registration_date=lambda: None)


@dataclass(frozen=True)
class Demo:
    """Ids of the demo people of DESIGN.md in the seeded database."""

    marie_account: int
    jean_account: int
    marie_file: int
    lea_file: int
    jean_file: int
    sophie_file: int


@pytest.fixture
def demo(seeded) -> Demo:
    with seeded.connect() as connection:
        accounts = dict(connection.execute(text("SELECT email_key, id FROM accounts")).all())
        files = dict(connection.execute(text("SELECT first_name, id FROM citizen_files")).all())
    return Demo(
        marie_account=accounts["marie.tremblay@example.com"],
        jean_account=accounts["jean.gagnon@example.com"],
        marie_file=files["Marie"],
        lea_file=files["Léa"],
        jean_file=files["Jean"],
        sophie_file=files["Sophie"],
    )


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per backend table, to prove that nothing was written."""
    tables = ("families", "citizen_files", "accounts", "confirmation_requests", "attempts",
              "registrations", "amounts_due")
    with engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() for table in tables}


@pytest.fixture
def count_rows():
    """`count_rows(engine)` -> rows per backend table."""
    return row_counts


@pytest.fixture
def counts(seeded):
    """`counts()` -> rows per table of the seeded database."""
    return lambda: row_counts(seeded)

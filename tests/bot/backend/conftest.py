"""Backend fixtures: the account backend on SQLite (a temp file), the real PostgreSQL and in memory.

BOT_TEST_BACKENDS=sqlite,postgres,memory chooses the storage adapters (default: all three); `backend`
is `AccountService` on each of them, so the same security tests run against every adapter. PostgreSQL
tests are skipped with a message when the server (BOT_TEST_POSTGRES_URL, default
postgres@127.0.0.1:5432/test) does not answer; each test session creates its own database there and
drops it afterwards. `database_url` and `database_engine` (migrations, seed) run on the SQL databases only.
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
from bot.backend.sql_store import SqlAlchemyStore
from bot.backend.storage import AccountStore
from bot.settings import get_settings
from tests.bot.backend.memory_store import InMemoryStore

POSTGRES_ADMIN_URL = os.environ.get(
    "BOT_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
SQL_BACKENDS = ("sqlite", "postgres")


def _selected_backends() -> list[str]:
    chosen = os.environ.get("BOT_TEST_BACKENDS", "sqlite,postgres,memory")
    return [name.strip() for name in chosen.split(",") if name.strip()]


def _params(names: list[str]) -> list:
    return [pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else []) for name in names]


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


class Databases:
    """Migrated databases made on first use, one per SQL backend and test session, with their engines."""

    def __init__(self, tmp_path_factory) -> None:
        self._tmp = tmp_path_factory
        self._urls: dict[str, str] = {}
        self._engines: dict[str, Engine] = {}
        self._dropped: list[str] = []

    def url(self, name: str) -> str:
        if name not in self._urls:
            self._urls[name] = self._create(name)
        return self._urls[name]

    def engine(self, name: str) -> Engine:
        if name not in self._engines:
            self._engines[name] = make_engine(self.url(name))
        return self._engines[name]

    def _create(self, name: str) -> str:
        if name == "sqlite":
            url = f"sqlite:///{self._tmp.mktemp('backend') / 'accounts.db'}"
        else:
            problem = _postgres_problem()
            if problem:
                pytest.skip(problem)
            database = f"bot_backend_test_{uuid.uuid4().hex[:12]}"
            admin = create_engine(POSTGRES_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{database}"'))
            admin.dispose()
            self._dropped.append(database)
            url = make_url(POSTGRES_ADMIN_URL).set(database=database).render_as_string(hide_password=False)
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        return url

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        if not self._dropped:
            return
        admin = create_engine(POSTGRES_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for database in self._dropped:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory) -> Iterator[Databases]:
    made = Databases(tmp_path_factory)
    yield made
    made.close()


@pytest.fixture(scope="session", params=_params([n for n in _selected_backends() if n in SQL_BACKENDS]))
def database_url(request, databases) -> str:
    """A URL of a database migrated to the latest revision, one per SQL backend and test session."""
    return databases.url(request.param)


@pytest.fixture(scope="session")
def database_engine(database_url, databases) -> Engine:
    return databases.engine("sqlite" if database_url.startswith("sqlite") else "postgres")


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


@pytest.fixture(params=_params(_selected_backends()))
def store(request, databases) -> AccountStore:
    """A storage adapter holding exactly the demo data of DESIGN.md (everything else deleted)."""
    secret = get_settings().card_hash_secret
    if request.param == "memory":
        memory = InMemoryStore(secret)
        memory.seed_demo()
        return memory
    engine = databases.engine(request.param)
    clear(engine)
    seed(engine, secret)
    return SqlAlchemyStore(engine, secret)


@pytest.fixture
def backend(store, clock) -> AccountService:
    """The backend on freshly seeded demo data, with the fake clock and no registration date."""
    return AccountService(store, get_settings().card_hash_secret, clock=clock, registration_date=lambda: None)


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
def demo(store) -> Demo:
    """The demo ids, found through the storage protocol (any adapter)."""
    with store.session() as session:
        marie = session.account_by_email_key("marie.tremblay@example.com")
        jean = session.account_by_email_key("jean.gagnon@example.com")
        files = {last6: session.card_holders(last6)[0].id for last6 in ("123456", "987123", "654321", "246810")}
    assert marie is not None and jean is not None
    return Demo(
        marie_account=marie.id,
        jean_account=jean.id,
        marie_file=files["123456"],
        lea_file=files["987123"],
        jean_file=files["654321"],
        sophie_file=files["246810"],
    )


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per backend table, to prove that nothing was written."""
    tables = ("families", "citizen_files", "accounts", "confirmation_requests", "attempts",
              "registrations", "amounts_due")
    with engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() for table in tables}


def stored_rows(store: AccountStore) -> dict[str, int]:
    """Rows per table of any adapter under test."""
    if isinstance(store, SqlAlchemyStore):
        return row_counts(store.engine)
    assert isinstance(store, InMemoryStore)
    return store.row_counts()


def stored_text(store: AccountStore) -> str:
    """Everything the adapter under test holds about people, as text."""
    if isinstance(store, InMemoryStore):
        return store.dump()
    assert isinstance(store, SqlAlchemyStore)
    with store.engine.connect() as connection:
        return " ".join(
            str(row)
            for table in ("citizen_files", "attempts", "accounts")
            for row in connection.execute(text(f"SELECT * FROM {table}")).all()
        )


@pytest.fixture
def count_rows():
    """`count_rows(engine)` -> rows per backend table."""
    return row_counts


@pytest.fixture
def stored(store):
    """`stored()` -> everything the store under test holds about people, as text."""
    return lambda: stored_text(store)


@pytest.fixture
def counts(store):
    """`counts()` -> rows per table of the store under test."""
    return lambda: stored_rows(store)

"""The backend's health check (`ping`, what the action server's /ready runs): cheap, read-only, a short code."""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.backend.api import BackendUnavailable
from bot.backend.db import make_engine
from bot.backend.service import AccountService
from bot.backend.sql_store import SqlAlchemyStore
from bot.settings import get_settings
from tests.bot.backend.conftest import row_counts
from tests.bot.backend.memory_store import InMemoryStore

SECRET = get_settings().card_hash_secret


def test_every_adapter_answers_the_ping_with_a_short_code(backend):
    code = backend.ping()
    assert code in {"sqlite", "postgresql", "InMemoryStore"}


def test_the_ping_writes_nothing(backend, store):
    if not isinstance(store, SqlAlchemyStore):
        pytest.skip("row counts are read with SQL")
    before = row_counts(store.engine)
    backend.ping()
    assert row_counts(store.engine) == before


def test_a_database_never_migrated_is_down(tmp_path):
    store = SqlAlchemyStore(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"), SECRET)
    with pytest.raises(BackendUnavailable) as raised:
        AccountService(store, SECRET).ping()
    assert raised.value.cause == "OperationalError"


def test_an_unreachable_postgresql_is_down_with_its_class_not_its_url():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://assistant:s3cret@127.0.0.1:{port}/accounts"
    with pytest.raises(BackendUnavailable) as raised:
        AccountService(SqlAlchemyStore(make_engine(url), SECRET), SECRET).ping()
    assert raised.value.cause == "OperationalError"
    assert "s3cret" not in str(raised.value) and str(port) not in str(raised.value)


def test_a_busy_sqlite_writer_does_not_make_the_database_look_down(tmp_path):
    """The ping reads outside SQLAlchemy's transactions: no BEGIN IMMEDIATE waiting for the writer."""
    from bot.backend.setup import migrate

    path = tmp_path / "accounts.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert AccountService(SqlAlchemyStore(engine, SECRET), SECRET).ping() == "sqlite"
        assert time.monotonic() - started < 1
    finally:
        writer.execute("ROLLBACK")
        writer.close()


class _BrokenStore:
    """An adapter without a ping of its own, whose system fails."""

    @contextmanager
    def session(self, serialize=()) -> Iterator[object]:
        raise ConnectionRefusedError("10.0.0.5:9999 refused")
        yield  # pragma: no cover


def test_an_adapter_without_a_ping_is_read_through_the_storage_protocol():
    memory = InMemoryStore(SECRET)
    assert not hasattr(memory, "ping")
    assert AccountService(memory, SECRET).ping() == "InMemoryStore"
    with pytest.raises(BackendUnavailable) as raised:
        AccountService(_BrokenStore(), SECRET).ping()  # type: ignore[arg-type]
    assert raised.value.cause == "ConnectionRefusedError"
    assert "10.0.0.5" not in str(raised.value)

"""Engines for the account database: SQLite (the embedded default) or any SQLAlchemy URL."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url


def make_engine(database_url: str) -> Engine:
    """A 2.0-style engine; bound parameters never appear in error messages (they may be personal).

    SQLite: the file's folder is created, connections may cross threads, and every transaction starts
    with BEGIN IMMEDIATE so that two concurrent read-then-write transactions are serialized (the row
    locks PostgreSQL gets from SELECT ... FOR UPDATE).
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, future=True, hide_parameters=True, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        future=True,
        hide_parameters=True,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine

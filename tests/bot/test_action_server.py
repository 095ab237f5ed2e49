"""The action server's readiness: the account database read within a time limit, in a thread, said by a code."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from prometheus_client import REGISTRY

from bot import action_server
from bot.backend.db import make_engine
from bot.backend.service import AccountService
from bot.backend.setup import migrate
from bot.backend.sql_store import SqlAlchemyStore
from bot.settings import get_settings

SECRET = get_settings().card_hash_secret


def up_gauge() -> float | None:
    return REGISTRY.get_sample_value("assistant_component_up", {"component": "account_database"})


def sqlite_backend(path, migrated: bool = True) -> AccountService:
    engine = make_engine(f"sqlite:///{path}")
    if migrated:
        migrate(engine)
    return AccountService(SqlAlchemyStore(engine, SECRET), SECRET)


async def test_a_reachable_database_is_ready(tmp_path, monkeypatch):
    monkeypatch.setattr(action_server, "get_backend", lambda: sqlite_backend(tmp_path / "accounts.db"))
    result = await action_server.readiness(timeout=2)
    assert result.ready
    assert result.as_dict()["components"]["account_database"]["detail"] == "sqlite"
    assert up_gauge() == 1


async def test_a_broken_database_is_down_with_a_code(tmp_path, monkeypatch):
    monkeypatch.setattr(action_server, "get_backend", lambda: sqlite_backend(tmp_path / "none.db", migrated=False))
    result = await action_server.readiness(timeout=2)
    assert result.as_dict()["down"] == ["account_database"]
    assert result.checks["account_database"].detail == "OperationalError"
    assert up_gauge() == 0


async def test_a_hung_database_is_down_within_the_limit_and_the_loop_keeps_turning(monkeypatch):
    released = threading.Event()

    class Hung:
        def ping(self) -> str:
            released.wait(10)
            return "sqlite"

    monkeypatch.setattr(action_server, "get_backend", Hung)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.05)

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    result = await action_server.readiness(timeout=1)
    elapsed = time.monotonic() - started
    ticker.cancel()
    still_running = (await action_server.readiness(timeout=1)).checks["account_database"]
    released.set()
    await asyncio.sleep(0.2)  # the hung check's thread ends
    assert result.checks["account_database"].detail == "timeout"
    assert still_running.detail == "timeout"  # a check still hung is not started again in another thread
    # within its share of the limit, so the Rasa server (waiting the whole limit) hears "timeout" from here
    assert elapsed < 1 * action_server.ACCOUNT_CHECK_SHARE + 0.3
    assert ticks >= 5  # the check ran in a thread: the event loop was never held


@pytest.mark.parametrize("failure", [RuntimeError("postgresql://assistant:s3cret@db/accounts")])
async def test_an_unexpected_failure_is_said_by_its_class_only(monkeypatch, failure):
    class Failing:
        def ping(self) -> str:
            raise failure

    monkeypatch.setattr(action_server, "get_backend", Failing)
    result = await action_server.readiness(timeout=1)
    assert result.checks["account_database"].detail == "RuntimeError"
    assert "s3cret" not in str(result.as_dict())

"""Readiness of a Rasa instance: is every part it needs to answer a citizen there, and which one is not.

Checked concurrently, each within ``BOT_READINESS_TIMEOUT_SECONDS`` (2 s):

- ``model``: the agent is loaded with a model
- ``tracker_store``: a real query on the tracker store's events table (a dead database is otherwise
  hidden: the redacting store goes on from its memory of recent conversations, and Rasa's fail-safe
  wrapper from an in-memory store)
- ``lock_store``: Redis ``PING`` when the lock store is Redis (in memory: nothing to check)
- ``slot_vault``: Redis ``PING`` when the slot vault is Redis (``BOT_SLOT_VAULT_URL``)
- ``action_server``: ``GET /health`` of the action server of endpoints.yml
- ``account_database``: ``GET /ready`` of the action server (`bot.action_server`), which reads the account
  backend (only the action server uses it); ``action_server_down`` when the action server does not answer

A check's detail is a short code (``timeout``, an exception class, an HTTP status), never a message:
connection strings and passwords stay out of the answer, which needs no API token. The action server's
own ``/ready`` answers with the same body (`Readiness.as_dict`).
"""
from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bot import metrics
from bot.settings import get_settings

# What only this instance holds; the other parts are shared by every instance (see `Readiness.serving`).
INSTANCE_PARTS = frozenset({"model"})
COMPONENTS = ("model", "tracker_store", "lock_store", "slot_vault", "action_server", "account_database")
ACCOUNT_DATABASE = "account_database"
ACTION_SERVER_DOWN = "action_server_down"
# What a detail read from another server's answer may look like (else it is not repeated).
_SHORT_CODE = re.compile(r"[A-Za-z0-9_.-]{1,60}")

# Blocking checks (database, Redis) run here, so that a hung connection never holds Sanic's loop.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readiness")
# A blocking check still running from an earlier probe is not started again (a hung database would
# otherwise take a thread per probe).
_running: dict[str, Any] = {}


class Unhealthy(Exception):
    """A part answered, but not as it should; the message is a short code."""


@dataclass(frozen=True)
class Check:
    """One part's state: up or not, a short non-personal detail, how long the check took."""

    up: bool
    detail: str = "ok"
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"up": self.up, "detail": self.detail, "seconds": round(self.seconds, 4)}


@dataclass(frozen=True)
class Readiness:
    """Every part's check; ready when all are up."""

    checks: dict[str, Check]

    @property
    def ready(self) -> bool:
        return all(check.up for check in self.checks.values())

    @property
    def serving(self) -> bool:
        """Whether this instance can answer citizens: its own parts are up. Parts every instance shares
        (databases, Redis, the action server) may be down: each turn then gets the fault's answer with the
        call centre (`bot.faults`), which no other instance could do better."""
        return all(check.up for name, check in self.checks.items() if name in INSTANCE_PARTS)

    @property
    def down(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check.up]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not_ready",
            "down": self.down,
            "components": {name: check.as_dict() for name, check in self.checks.items()},
        }


def _unwrap(store: Any) -> Any:
    """The real tracker store under Rasa's wrappers (AwaitableTrackerStore, FailSafeTrackerStore)."""
    for _ in range(5):
        inner = getattr(store, "_tracker_store", None)
        if inner is None:
            return store
        store = inner
    return store


async def run_blocking(name: str, check: Callable[[], Any], timeout: float) -> Any:
    """Run a blocking check in the readiness threads within ``timeout``; one at a time per ``name``."""
    previous = _running.get(name)
    if previous is not None and not previous.done():
        raise TimeoutError("still waiting for the previous check")
    future = asyncio.get_running_loop().run_in_executor(_executor, check)
    _running[name] = future
    return await asyncio.wait_for(asyncio.shield(future), timeout)


async def timed(run: Callable[[], Awaitable[str | None]]) -> Check:
    """The `Check` of ``run``: up with its detail, or down with a short code of what went wrong."""
    started = time.perf_counter()
    try:
        detail = await run()
    except (asyncio.TimeoutError, TimeoutError):
        return Check(False, "timeout", time.perf_counter() - started)
    except Unhealthy as error:
        return Check(False, str(error), time.perf_counter() - started)
    except Exception as error:  # any failure means down; only its class is said
        return Check(False, type(error).__name__, time.perf_counter() - started)
    return Check(True, detail or "ok", time.perf_counter() - started)


def _sql_query(store: Any) -> None:
    import sqlalchemy as sa

    events = store.SQLEvent.__table__
    with store.engine.connect() as connection:
        connection.execute(sa.select(events.c.id).limit(1)).fetchall()


async def check_tracker_store(agent: Any, timeout: float) -> Check:
    async def run() -> str:
        store = _unwrap(getattr(agent, "tracker_store", None))
        if store is None:
            raise Unhealthy("not_configured")
        if hasattr(store, "engine") and hasattr(store, "SQLEvent"):
            await run_blocking("tracker_store", lambda: _sql_query(store), timeout)
            return store.engine.dialect.name
        await asyncio.wait_for(store.retrieve("readiness-probe"), timeout)
        return type(store).__name__

    return await timed(run)


def _redis_client(holder: Any, attribute: str) -> Any:
    client = getattr(holder, attribute, None) if holder is not None else None
    return client if client is not None and hasattr(client, "ping") else None


async def check_lock_store(agent: Any, timeout: float) -> Check:
    async def run() -> str:
        client = _redis_client(getattr(agent, "lock_store", None), "red")
        if client is None:
            return "in_memory"
        await run_blocking("lock_store", client.ping, timeout)
        return "redis"

    return await timed(run)


async def check_slot_vault(agent: Any, timeout: float) -> Check:
    async def run() -> str:
        vault = getattr(_unwrap(getattr(agent, "tracker_store", None)), "slot_vault", None)
        client = _redis_client(vault, "_redis")
        if client is None:
            return "in_memory"
        await run_blocking("slot_vault", client.ping, timeout)
        return "redis"

    return await timed(run)


def action_server_url(webhook_url: str, route: str) -> str:
    """A route of the action server (``/health``, ``/ready``) from its webhook URL (``http://host:5055/webhook``)."""
    base = webhook_url.split("?", 1)[0].rstrip("/")
    if base.endswith("/webhook"):
        base = base[: -len("/webhook")]
    return base + route


def action_server_health_url(webhook_url: str) -> str:
    """The action server's ``/health`` from its webhook URL."""
    return action_server_url(webhook_url, "/health")


async def _action_server_get(agent: Any, route: str, timeout: float) -> tuple[int, Any] | None:
    """``GET route`` of the action server of endpoints.yml: its status and, for 200 and 503, its JSON body;
    None when no action server is configured. Connection errors and non-JSON bodies raise."""
    import aiohttp

    endpoint = getattr(agent, "action_endpoint", None)
    if endpoint is None or not getattr(endpoint, "url", None):
        return None
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async with session.get(action_server_url(endpoint.url, route)) as response:
            body = await response.json(content_type=None) if response.status in (200, 503) else None
            return response.status, body


async def check_action_server(agent: Any, timeout: float) -> Check:
    async def run() -> str:
        try:
            answer = await _action_server_get(agent, "/health", timeout)
        except ValueError:  # Rasa SDK's /health answers JSON; anything else is not it
            raise Unhealthy("bad_answer") from None
        if answer is None:
            return "not_configured"
        if answer[0] != 200:
            raise Unhealthy(f"http_{answer[0]}")
        return "ok"

    return await timed(run)


def _reported_detail(body: Any, component: str) -> str | None:
    """The detail another server's readiness gives for ``component``, when it is a short code."""
    components = body.get("components") if isinstance(body, dict) else None
    check = components.get(component) if isinstance(components, dict) else None
    detail = check.get("detail") if isinstance(check, dict) else None
    return detail if isinstance(detail, str) and _SHORT_CODE.fullmatch(detail) else None


async def check_account_database(agent: Any, timeout: float) -> Check:
    """The account database as the action server sees it (its ``/ready``)."""

    async def run() -> str:
        import aiohttp

        try:
            answer = await _action_server_get(agent, "/ready", timeout)
        except aiohttp.ClientConnectionError:
            raise Unhealthy(ACTION_SERVER_DOWN) from None
        except ValueError:  # not JSON: not our action server's readiness
            raise Unhealthy("bad_answer") from None
        if answer is None:
            return "not_configured"
        status, body = answer
        detail = _reported_detail(body, ACCOUNT_DATABASE)
        if status == 200:
            return detail or "ok"
        raise Unhealthy(detail if status == 503 and detail else f"http_{status}")

    return await timed(run)


async def check_model(agent: Any) -> Check:
    async def run() -> str:
        if agent is None or not agent.is_ready():
            raise Unhealthy("not_loaded")
        return "loaded"

    return await timed(run)


async def readiness(agent: Any, timeout: float | None = None) -> Readiness:
    """Check every part of this Rasa instance concurrently; records ``assistant_component_up``."""
    limit = get_settings().readiness_timeout_seconds if timeout is None else timeout
    results = await asyncio.gather(
        check_model(agent),
        check_tracker_store(agent, limit),
        check_lock_store(agent, limit),
        check_slot_vault(agent, limit),
        check_action_server(agent, limit),
        check_account_database(agent, limit),
    )
    checks = dict(zip(COMPONENTS, results, strict=True))
    for name, check in checks.items():
        metrics.COMPONENT_UP.labels(name).set(1 if check.up else 0)
    return Readiness(checks)

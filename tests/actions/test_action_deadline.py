"""The action server's own Sanic app (Rasa SDK and the project's plugins), on a real port, against the SQLite
demo backend: an action call whose deadline has passed commits nothing, answers as for a database fault
and is counted as ``kind="deadline"``; one before its deadline writes as usual; /ready answers."""
from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client import REGISTRY
from sanic import Sanic
from sqlalchemy import create_engine, text

from bot import deadline

pytestmark = pytest.mark.usefixtures("demo_db")

ACTION = "action_email_confirmation_submit"
JEAN_EMAIL = "jean.gagnon@example.com"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest_asyncio.fixture
async def actions_url() -> AsyncIterator[str]:
    """The Rasa SDK's app with the project's actions and plugins, served on a free port in this loop."""
    from rasa_sdk.endpoint import create_app
    from rasa_sdk.plugin import plugin_manager

    Sanic.test_mode = True  # the SDK names every app "rasa_sdk"
    app = create_app("actions")
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.start_serving()
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


def action_call(domain: dict) -> dict[str, Any]:
    """Rasa's call of the email form's submit action, the form having read Jean's email."""
    parse_data = {"text": JEAN_EMAIL, "intent": {"name": "inform", "confidence": 0.99}, "entities": []}
    return {
        "next_action": ACTION,
        "sender_id": "deadline-conversation",
        "version": "3.6.21",
        "domain": domain,
        "tracker": {
            "sender_id": "deadline-conversation",
            "slots": {"form_email": JEAN_EMAIL},
            "latest_message": parse_data,
            "events": [{"event": "action", "name": "action_listen"},
                       {"event": "user", "text": JEAN_EMAIL, "parse_data": parse_data, "input_channel": "rest"}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "email_form",
        },
    }


def confirmation_requests(database_url: str) -> int:
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT COUNT(*) FROM confirmation_requests")).scalar_one())
    finally:
        engine.dispose()


def deadline_errors() -> float:
    return REGISTRY.get_sample_value("assistant_backend_errors_total", {"action": ACTION, "kind": "deadline"}) or 0.0


async def call(url: str, body: dict, headers: dict[str, str] | None = None) -> dict:
    async with aiohttp.ClientSession() as session, \
            session.post(f"{url}/webhook", json=body, headers=headers or {}) as response:
        assert response.status == 200
        return await response.json()


def handoff_reason(answer: dict) -> str | None:
    return next((e["value"] for e in answer["events"] if e.get("name") == "handoff_reason"), None)


async def test_a_call_rasa_stopped_waiting_for_commits_nothing(actions_url, domain, demo_db):
    before, counted = confirmation_requests(demo_db), deadline_errors()
    # Rasa stopped waiting a second ago: the request was read late (a busy worker, a stopped process)
    late = {deadline.HEADER: f"{time.time() - 1:.3f}"}
    answer = await call(actions_url, action_call(domain), late)
    assert handoff_reason(answer) == "backend_unavailable"  # as for a database fault (nobody reads it)
    assert confirmation_requests(demo_db) == before  # no confirmation email asked for
    assert deadline_errors() == counted + 1


async def test_a_call_in_time_writes_as_usual(actions_url, domain, demo_db):
    before, counted = confirmation_requests(demo_db), deadline_errors()
    answer = await call(actions_url, action_call(domain), {deadline.HEADER: deadline.header_value(8)})
    assert handoff_reason(answer) is None
    assert [r.get("response") for r in answer["responses"]] == ["utter_confirmation_resent"]
    assert confirmation_requests(demo_db) == before + 1
    assert deadline_errors() == counted


async def test_without_rasas_header_the_deadline_runs_from_the_arrival(actions_url, domain, demo_db, monkeypatch):
    from bot.settings import get_settings

    monkeypatch.setenv("BOT_ACTION_TIMEOUT_SECONDS", "0.0001")  # already over once the request is read
    get_settings.cache_clear()
    before = confirmation_requests(demo_db)
    answer = await call(actions_url, action_call(domain))
    assert handoff_reason(answer) == "backend_unavailable"
    assert confirmation_requests(demo_db) == before


async def test_the_action_server_says_its_account_database_is_ready(actions_url):
    async with aiohttp.ClientSession() as session, session.get(f"{actions_url}/ready") as response:
        assert response.status == 200
        body = await response.json()
    assert body["components"]["account_database"]["detail"] == "sqlite"

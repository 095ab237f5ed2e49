"""Metrics count what operators need, with bounded labels; readiness names the part that is down (real parts)."""
from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import pytest
from prometheus_client import REGISTRY
from rasa.core.agent import Agent
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from bot import health, metrics
from bot.lock_store import RedisTicketLockStore
from bot.tracker_store import RedactingSQLTrackerStore


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_stored_events_count_intents_fallbacks_and_escalations_by_reason():
    before = (sample("assistant_intents_total", intent="greet"), sample("assistant_fallbacks_total", kind="nlu"),
              sample("assistant_fallbacks_total", kind="core"),
              sample("assistant_escalations_total", reason="backend_unavailable"))
    for event in (
        {"event": "user", "text": "bonjour", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "user", "text": "blabla", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "action_default_fallback"},
        {"event": "slot", "name": "handoff_reason", "value": "backend_unavailable"},
        {"event": "slot", "name": "handoff_reason", "value": None},  # the record cleared: not a handoff
        {"event": "bot", "text": "Bonjour!"},
    ):
        metrics.record_event(event)
    after = (sample("assistant_intents_total", intent="greet"), sample("assistant_fallbacks_total", kind="nlu"),
             sample("assistant_fallbacks_total", kind="core"),
             sample("assistant_escalations_total", reason="backend_unavailable"))
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 1]


def test_labels_are_bounded_and_never_free_text():
    assert metrics.bounded("test-kind", "ask_profile") == "ask_profile"
    assert metrics.bounded("test-kind", "Marie Tremblay 123456 !") == metrics.OTHER
    for index in range(metrics.MAX_LABEL_VALUES + 10):
        metrics.bounded("test-many", f"intent_{index}")
    assert metrics.bounded("test-many", "intent_0") == "intent_0"  # seen before: kept
    assert metrics.bounded("test-many", "a_new_intent") == metrics.OTHER


def test_failed_custom_actions_logged_by_rasa_are_counted_by_kind():
    logger = logging.getLogger("rasa.core.processor")
    metrics.install_action_call_error_handler()
    before = sample("assistant_action_call_errors_total", action="action_amount_due", kind="unreachable")
    try:
        try:
            raise aiohttp.ClientConnectorError(None, OSError(111, "refused"))  # type: ignore[arg-type]
        except aiohttp.ClientError as cause:
            raise RuntimeError("Failed to execute custom action 'action_amount_due'") from cause
    except RuntimeError:
        logger.exception("Encountered an exception while running action 'action_amount_due'.Bot will continue")
    after = sample("assistant_action_call_errors_total", action="action_amount_due", kind="unreachable")
    assert after == before + 1
    try:
        raise TimeoutError
    except TimeoutError as error:
        assert metrics.action_call_error_kind(error) == "timeout"


def test_the_action_servers_health_url():
    assert health.action_server_health_url("http://127.0.0.1:5055/webhook") == "http://127.0.0.1:5055/health"
    assert health.action_server_health_url("http://actions:5055/webhook/?x=1") == "http://actions:5055/health"


def readiness_body(up: bool, detail: str) -> dict:
    """What the action server's /ready answers (bot/action_server.py)."""
    return {"status": "ready" if up else "not_ready", "down": [] if up else ["account_database"],
            "components": {"account_database": {"up": up, "detail": detail, "seconds": 0.001}}}


def serve(ready_status: int = 200, ready_body: object = None) -> ThreadingHTTPServer:
    """A real HTTP server answering /health, and /ready as told."""
    content = readiness_body(True, "sqlite") if ready_body is None else ready_body
    body = content if isinstance(content, bytes) else json.dumps(content).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/ready":
                self.send_response(ready_status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextmanager
def serving(ready_status: int = 200, ready_body: object = None) -> Iterator[str]:
    """The webhook URL of a server of `serve`."""
    server = serve(ready_status, ready_body)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhook"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def action_server() -> Iterator[str]:
    """A real HTTP server answering /health and /ready as the action server does."""
    with serving() as url:
        yield url


def agent(tmp_path, action_url: str, redis_port: int = 6379) -> Agent:
    store = RedactingSQLTrackerStore(Domain.empty(), host=f"sqlite:///{tmp_path / 'tracker.db'}")
    return Agent(tracker_store=store, lock_store=RedisTicketLockStore(host="127.0.0.1", port=redis_port, socket_timeout=1),
                 action_endpoint=EndpointConfig(action_url))


async def test_readiness_says_which_part_is_down(tmp_path, action_server):
    result = await health.readiness(agent(tmp_path, action_server), timeout=2)
    assert result.checks["tracker_store"].up and result.checks["tracker_store"].detail == "sqlite"
    assert result.checks["lock_store"].up and result.checks["lock_store"].detail == "redis"
    assert result.checks["action_server"].up
    assert result.checks["account_database"].up and result.checks["account_database"].detail == "sqlite"
    assert result.down == ["model"]  # no model loaded in this agent
    assert sample("assistant_component_up", component="action_server") == 1
    assert sample("assistant_component_up", component="account_database") == 1

    broken = await health.readiness(agent(tmp_path, f"http://127.0.0.1:{closed_port()}/webhook", closed_port()), 2)
    assert broken.down == ["model", "lock_store", "action_server", "account_database"]
    assert broken.as_dict()["status"] == "not_ready"
    assert broken.checks["lock_store"].detail == "ConnectionError"
    assert broken.checks["account_database"].detail == "action_server_down"  # not known: said why
    assert sample("assistant_component_up", component="lock_store") == 0
    assert sample("assistant_component_up", component="account_database") == 0


def test_an_instance_serves_while_only_shared_parts_are_down():
    up, down = health.Check(True), health.Check(False, "OperationalError")
    shared_down = health.Readiness({"model": up, "tracker_store": down, "lock_store": up, "action_server": down})
    assert not shared_down.ready and shared_down.serving, \
        "every instance shares the databases: taking them all out would leave citizens with no answer"
    assert not health.Readiness({"model": health.Check(False, "not_loaded"), "tracker_store": up}).serving


@pytest.mark.parametrize(("status", "body", "detail"), [
    (503, readiness_body(False, "OperationalError"), "OperationalError"),
    (503, readiness_body(False, "timeout"), "timeout"),
    # a detail that is not a short code is never repeated (the action server never sends one)
    (503, readiness_body(False, "could not connect to postgresql://assistant:s3cret@db/accounts"), "http_503"),
    (404, {"error": "not found"}, "http_404"),  # an action server without /ready
    (200, b"<html>", "bad_answer"),
])
async def test_the_account_database_as_the_action_server_sees_it(status, body, detail):
    with serving(status, body) as url:
        check = await health.check_account_database(Agent(action_endpoint=EndpointConfig(url)), 2)
    assert (check.up, check.detail) == (False, detail)
    with serving() as url:  # the action server itself still answers /health
        assert (await health.check_action_server(Agent(action_endpoint=EndpointConfig(url)), 2)).up

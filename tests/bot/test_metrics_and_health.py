"""Metrics count what operators need, with bounded labels; readiness names the part that is down (real parts)."""
from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import pytest
from prometheus_client import REGISTRY
from rasa.core.agent import Agent
from rasa.core.lock_store import RedisLockStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from bot import health, metrics
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


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def action_server() -> Iterator[str]:
    """A real HTTP server answering /health as the action server does."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook"
    server.shutdown()
    server.server_close()


def agent(tmp_path, action_url: str, redis_port: int = 6379) -> Agent:
    store = RedactingSQLTrackerStore(Domain.empty(), host=f"sqlite:///{tmp_path / 'tracker.db'}")
    return Agent(tracker_store=store, lock_store=RedisLockStore(host="127.0.0.1", port=redis_port, socket_timeout=1),
                 action_endpoint=EndpointConfig(action_url))


async def test_readiness_says_which_part_is_down(tmp_path, action_server):
    result = await health.readiness(agent(tmp_path, action_server), timeout=2)
    assert result.checks["tracker_store"].up and result.checks["tracker_store"].detail == "sqlite"
    assert result.checks["lock_store"].up and result.checks["lock_store"].detail == "redis"
    assert result.checks["action_server"].up
    assert result.down == ["model"]  # no model loaded in this agent
    assert sample("assistant_component_up", component="action_server") == 1

    broken = await health.readiness(agent(tmp_path, f"http://127.0.0.1:{closed_port()}/webhook", closed_port()), 2)
    assert broken.down == ["model", "lock_store", "action_server"]
    assert broken.as_dict()["status"] == "not_ready"
    assert broken.checks["lock_store"].detail == "ConnectionError"
    assert sample("assistant_component_up", component="lock_store") == 0

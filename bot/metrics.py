"""Prometheus metrics of the Rasa server and the action server (``GET /metrics`` on both).

Every metric is per process (several Rasa instances: Prometheus scrapes each). Labels hold only
code names (channel, intent, action, reason, kind, route template), never a conversation id or
anything a citizen typed; intent and action labels are capped at `MAX_LABEL_VALUES` values each.

Rasa server (bot/ops.py serves ``/metrics`` and ``/ready`` and measures):

- ``assistant_turns_total{channel}``: citizen messages handled (rest, socketio, ivr)
- ``assistant_turn_seconds{channel}``: time to handle a message, reply included (histogram)
- ``assistant_turn_errors_total{channel}``: messages whose handling raised (the citizen got no reply)
- ``assistant_intents_total{intent}``: intents predicted, from the stored user events
- ``assistant_fallbacks_total{kind}``: ``nlu`` (``nlu_fallback``) and ``core`` (``action_default_fallback``)
- ``assistant_escalations_total{reason}``: handoffs recorded, by ``handoff_reason`` (bot/contract.py)
- ``assistant_action_call_errors_total{action,kind}``: a custom action Rasa could not run: ``unreachable``
  (action server down), ``timeout`` (past ``BOT_ACTION_TIMEOUT_SECONDS``), ``disconnected`` (killed
  mid-request), ``http_<status>``, else the exception class; the citizen got the technical-problem
  message (bot/faults.py)
- ``assistant_tracker_store_errors_total{operation}``: the tracker store's database failed (``retrieve``,
  ``save``, ``flush``); the store then answers from, and keeps the new events in, the instance's memory
  of recent conversations (bot/tracker_memory.py, docs/production.md)
- ``assistant_tracker_store_memory_reads_total{outcome}``: conversations read from that memory because the
  database failed: ``resumed`` (known, goes on where it was) or ``blank`` (unknown to this instance)
- ``assistant_tracker_store_pending_conversations``, ``assistant_tracker_store_pending_events``: events kept
  in memory because the database failed, waiting to be written (gauges)
- ``assistant_tracker_store_recovered_events_total``: pending events written once the database answered
- ``assistant_tracker_store_lost_events_total``: pending events dropped by the memory's bound (never written)
- ``assistant_slot_vault_errors_total{operation}``: the Redis slot vault failed (``put``, ``read``,
  ``forget``); the conversation went on, its personal values counted as expired (bot/tracker_store.py)
- ``assistant_component_up{component}``: 1/0 per part checked by readiness (bot/health.py); the action
  server sets ``account_database`` too, from its own ``/ready`` (bot/action_server.py)

Action server (installed by `install_action_server_plugin`, a Rasa SDK plugin):

- ``assistant_action_seconds{action}``: time to run a custom action (histogram)
- ``assistant_action_errors_total{action,kind}``: an action that raised (kind: the exception class) or
  an unknown action (``not_found``)
- ``assistant_backend_errors_total{action,kind}``: the account system was unavailable during an action
  (the action escalated with reason ``backend_unavailable``): ``unavailable``, or ``deadline`` when a write
  was refused because Rasa had stopped waiting for the action (bot/deadline.py)

Both: ``assistant_http_request_seconds{method,route,status}`` (histogram, route templates only).
With several Sanic workers in one process group, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder):
`render` then adds up the workers.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

import pluggy
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from bot.contract import HANDOFF_REASON_SLOT

disable_created_metrics()  # no `_created` series: they double the output and no alert uses them

PLUGIN_NAME = "assistant-metrics"
MAX_LABEL_VALUES = 200
OTHER = "other"
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

NLU_FALLBACK_INTENT = "nlu_fallback"
CORE_FALLBACK_ACTION = "action_default_fallback"

TURNS = Counter("assistant_turns", "Citizen messages handled, by channel.", ["channel"])
TURN_SECONDS = Histogram(
    "assistant_turn_seconds", "Time to handle one citizen message, by channel.", ["channel"], buckets=LATENCY_BUCKETS
)
TURN_ERRORS = Counter("assistant_turn_errors", "Citizen messages whose handling raised, by channel.", ["channel"])
INTENTS = Counter("assistant_intents", "Intents predicted for citizen messages.", ["intent"])
FALLBACKS = Counter("assistant_fallbacks", "Fallbacks: nlu (nlu_fallback) or core (action_default_fallback).", ["kind"])
ESCALATIONS = Counter("assistant_escalations", "Handoffs to a person, by handoff_reason.", ["reason"])
ACTION_CALL_ERRORS = Counter(
    "assistant_action_call_errors", "Custom actions the Rasa server could not run, by action and kind.", ["action", "kind"]
)
TRACKER_STORE_ERRORS = Counter(
    "assistant_tracker_store_errors", "Tracker store operations that failed, by operation.", ["operation"]
)
TRACKER_STORE_MEMORY_READS = Counter(
    "assistant_tracker_store_memory_reads",
    "Conversations read from the instance's memory because the tracker store's database failed, by outcome.",
    ["outcome"],
)
TRACKER_STORE_PENDING_CONVERSATIONS = Gauge(
    "assistant_tracker_store_pending_conversations", "Conversations with events the database could not take yet."
)
TRACKER_STORE_PENDING_EVENTS = Gauge(
    "assistant_tracker_store_pending_events", "Events kept in memory because the database could not take them yet."
)
TRACKER_STORE_RECOVERED_EVENTS = Counter(
    "assistant_tracker_store_recovered_events", "Pending events written once the tracker store's database answered."
)
TRACKER_STORE_LOST_EVENTS = Counter(
    "assistant_tracker_store_lost_events", "Pending events dropped by the bound of the instance's memory."
)
SLOT_VAULT_ERRORS = Counter(
    "assistant_slot_vault_errors", "Slot vault (Redis) operations that failed, by operation.", ["operation"]
)
COMPONENT_UP = Gauge("assistant_component_up", "1 when the part answered the last readiness check.", ["component"])
HTTP_SECONDS = Histogram(
    "assistant_http_request_seconds", "HTTP requests by method, route template and status.",
    ["method", "route", "status"], buckets=LATENCY_BUCKETS,
)
ACTION_SECONDS = Histogram(
    "assistant_action_seconds", "Time to run one custom action, by action.", ["action"], buckets=LATENCY_BUCKETS
)
ACTION_ERRORS = Counter("assistant_action_errors", "Custom actions that failed, by action and kind.", ["action", "kind"])
BACKEND_ERRORS = Counter(
    "assistant_backend_errors",
    "Actions that found the account system unavailable (or past their deadline), by action and kind.",
    ["action", "kind"],
)

_seen: dict[str, set[str]] = {}
_seen_lock = threading.Lock()
_LABEL = re.compile(r"[A-Za-z0-9_.:/-]{1,80}")


def bounded(kind: str, value: object) -> str:
    """``value`` as a label, or ``other`` once `MAX_LABEL_VALUES` distinct values of this kind were seen
    (a citizen can type ``/any_intent``: labels must not grow without end)."""
    text = str(value) if value is not None else "none"
    if not _LABEL.fullmatch(text):
        return OTHER
    with _seen_lock:
        seen = _seen.setdefault(kind, set())
        if text in seen:
            return text
        if len(seen) >= MAX_LABEL_VALUES:
            return OTHER
        seen.add(text)
        return text


# --- Rasa server: what the stored events say ---


def record_event(event: Mapping[str, Any]) -> None:
    """Count what one newly stored tracker event means (called by the tracker store for each new event)."""
    kind = event.get("event")
    if kind == "user":
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent:
            INTENTS.labels(bounded("intent", intent)).inc()
            if intent == NLU_FALLBACK_INTENT:
                FALLBACKS.labels("nlu").inc()
    elif kind == "action" and event.get("name") == CORE_FALLBACK_ACTION:
        FALLBACKS.labels("core").inc()
    elif kind == "slot" and event.get("name") == HANDOFF_REASON_SLOT and event.get("value"):
        ESCALATIONS.labels(bounded("reason", event["value"])).inc()


def record_turn(channel: str | None, seconds: float, failed: bool) -> None:
    """Count one citizen message handled on ``channel``."""
    label = bounded("channel", channel or "unknown")
    TURNS.labels(label).inc()
    TURN_SECONDS.labels(label).observe(seconds)
    if failed:
        TURN_ERRORS.labels(label).inc()


_FAILED_ACTION = re.compile(r"running action '([^']+)'")


def action_call_error_kind(error: BaseException | None) -> str:
    """What went wrong calling the action server, from the exception Rasa logged."""
    import asyncio

    import aiohttp

    if error is None:
        return "unknown"
    cause = error.__cause__ or error.__context__
    for candidate in (error, cause):
        if isinstance(candidate, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
            return "timeout"
        if isinstance(candidate, aiohttp.ClientConnectorError):
            return "unreachable"
        if isinstance(candidate, aiohttp.ClientConnectionError):  # reset or closed once connected
            return "disconnected"
        if isinstance(candidate, aiohttp.ClientResponseError):
            return f"http_{candidate.status}"
    if "Couldn't connect" in str(error):
        return "unreachable"
    return bounded("error", type(error).__name__)


class ActionCallErrorHandler(logging.Handler):
    """Counts the custom actions Rasa failed to run: Rasa's processor logs each one (and carries on)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            match = _FAILED_ACTION.search(str(record.msg))
            if match is None or not str(record.msg).startswith("Encountered an exception"):
                return
            error = record.exc_info[1] if record.exc_info else None
            ACTION_CALL_ERRORS.labels(bounded("action", match.group(1)), action_call_error_kind(error)).inc()
        except Exception:  # a metric must never break logging
            pass


_handler_installed = False


def install_action_call_error_handler() -> None:
    """Attach `ActionCallErrorHandler` to Rasa's processor logger (idempotent)."""
    global _handler_installed
    if _handler_installed:
        return
    processor_logger = logging.getLogger("rasa.core.processor")
    processor_logger.addHandler(ActionCallErrorHandler(level=logging.ERROR))
    _handler_installed = True


# --- HTTP latency (both servers) ---


def route_label(request: Any) -> str:
    """The route template of a Sanic request (``/conversations/<conversation_id>/tracker``), never its path."""
    route = getattr(request, "route", None)
    if route is None:
        return "unmatched"
    return bounded("route", "/" + str(getattr(route, "path", "") or "").lstrip("/"))


def start_request(request: Any) -> None:
    request.ctx.metrics_started = time.perf_counter()


def finish_request(request: Any, response: Any) -> None:
    started = getattr(request.ctx, "metrics_started", None)
    if started is None or response is None:
        return
    HTTP_SECONDS.labels(request.method, route_label(request), str(response.status)).observe(
        time.perf_counter() - started
    )


# --- Action server ---


def _action_name(request: Any) -> str:
    try:
        body = request.json
    except Exception:  # compressed or malformed body: the SDK answers it
        return "unknown"
    name = body.get("next_action") if isinstance(body, dict) else None
    return bounded("action", name or "unknown")


def backend_error_kind(request: Any) -> str:
    """``deadline`` when the action's write was refused past its deadline (bot/deadline.py), else ``unavailable``."""
    current = getattr(request.ctx, "deadline", None)
    return "deadline" if getattr(current, "missed", False) else "unavailable"


def install_action_server_metrics(app: Any) -> None:
    """Serve ``GET /metrics`` on the action server's Sanic app and measure its requests and actions."""
    from sanic import response as sanic_response

    async def on_request(request: Any) -> None:
        start_request(request)
        if request.path == "/webhook" and request.method == "POST":
            request.ctx.action_name = _action_name(request)

    async def on_response(request: Any, response: Any) -> None:
        finish_request(request, response)
        action = getattr(request.ctx, "action_name", None)
        if action is None or response is None:
            return
        ACTION_SECONDS.labels(action).observe(time.perf_counter() - request.ctx.metrics_started)
        if response.status == 404:
            ACTION_ERRORS.labels(action, "not_found").inc()
        elif response.status >= 500:
            ACTION_ERRORS.labels(action, getattr(request.ctx, "error_kind", "exception")).inc()
        elif response.status == 200 and b'"backend_unavailable"' in (response.body or b""):
            BACKEND_ERRORS.labels(action, backend_error_kind(request)).inc()

    async def on_exception(request: Any, exception: BaseException) -> None:
        if request is not None:
            request.ctx.error_kind = bounded("error", type(exception).__name__)

    async def metrics_route(_request: Any) -> Any:
        body, content_type = render()
        return sanic_response.raw(body, content_type=content_type)

    app.register_middleware(on_request, "request")
    app.register_middleware(on_response, "response")
    app.signal("http.lifecycle.exception")(on_exception)
    app.add_route(metrics_route, "/metrics", methods=["GET"], name="assistant_metrics")


_hookimpl = pluggy.HookimplMarker("rasa_sdk")


class _ActionServerPlugin:
    """A Rasa SDK plugin (``attach_sanic_app_extensions`` hook): the SDK calls it before listening."""

    @_hookimpl
    def attach_sanic_app_extensions(self, app: Any) -> None:
        install_action_server_metrics(app)


def install_action_server_plugin() -> None:
    """Register the metrics plugin with the Rasa SDK's plugin manager (idempotent).

    Called when the ``actions`` package is imported (bot/server_setup.py), which the SDK does in
    ``create_app`` just before it calls the plugins' ``attach_sanic_app_extensions``.
    """
    from rasa_sdk.plugin import plugin_manager

    manager = plugin_manager()
    if not manager.has_plugin(PLUGIN_NAME):
        manager.register(_ActionServerPlugin(), name=PLUGIN_NAME)


# --- Exposition ---


def render() -> tuple[bytes, str]:
    """The metrics of this process (of all workers with ``PROMETHEUS_MULTIPROC_DIR``), in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

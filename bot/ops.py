"""Operators' endpoints of the Rasa server: ``GET /metrics`` (Prometheus) and ``GET /ready`` (readiness).

Rasa 3.6 adds routes to its Sanic app only through input channels, so this is one, registered in
credentials.yml (``bot.ops.OpsInput:``) with the URL prefix ``/``. Registering it also measures every
HTTP request (``assistant_http_request_seconds``), every citizen message on every channel
(``assistant_turns_total``, ``assistant_turn_seconds``: the agent's ``handle_message``, which the REST,
socket.io and IVR channels all call) and the custom actions Rasa failed to run. A turn whose handling
raises (the lock store's Redis down, say) is answered with the technical-problem message of `bot.faults`
and counted in ``assistant_turn_errors_total``; a conversation the tracker store had to start blank gets
`bot.faults.restart_notice` before its first answer. Neither endpoint says
anything personal, so neither needs the API token; publish neither on the internet (docs/production.md).
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import action_calls, faults, gc_pauses, health, metrics, session, several_questions

# /metrics refreshes the readiness gauges (assistant_component_up) when older than this.
READINESS_REFRESH_SECONDS = 15.0
# /ready answers from the last check when it is younger than this (probes from several places, or a
# flood of requests, cost one round of checks a second at most).
READINESS_CACHE_SECONDS = 1.0
_last_readiness: dict[str, Any] = {"at": -1e9, "result": None}


async def _readiness(app: Any, max_age: float) -> health.Readiness:
    if _last_readiness["result"] is None or time.monotonic() - _last_readiness["at"] > max_age:
        _last_readiness["result"] = await health.readiness(_agent(app))
        _last_readiness["at"] = time.monotonic()
    return _last_readiness["result"]


def _meter_agent(agent: Any) -> None:
    """Measure the agent's ``handle_message`` (every channel's way in), once per agent; several questions in
    one message each get their answer (`bot.several_questions`)."""
    several_questions.install(agent)
    if agent is None or getattr(agent.handle_message, "_assistant_metered", False):
        return
    original = agent.handle_message

    async def handle_message(message: UserMessage, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        failed = True
        try:
            with faults.restart_notice(message, lambda: getattr(agent.domain, "responses", None) or {}):
                result = await original(message, *args, **kwargs)
            failed = False
            return result
        except Exception as error:  # noqa: BLE001 - the citizen is answered and the operators counted
            await faults.answer_failed_turn(agent, message, error)
            return None
        finally:
            metrics.record_turn(getattr(message, "input_channel", None), time.perf_counter() - started, failed)

    handle_message._assistant_metered = True  # type: ignore[attr-defined]
    agent.handle_message = handle_message


# The model processor whose objects were last kept out of garbage collection (`bot.gc_pauses`).
_frozen_for: list[Any] = [None]


def _freeze_when_loaded(agent: Any) -> None:
    """Once per loaded model: its objects, and what loading it made, out of later collections."""
    processor = getattr(agent, "processor", None)
    if processor is not None and processor is not _frozen_for[0]:
        _frozen_for[0] = processor
        gc_pauses.freeze_long_lived()


def _agent(app: Any) -> Any:
    return getattr(app.ctx, "agent", None)


class _OpsBlueprint(Blueprint):
    """The ops routes, plus app-wide measurements installed when Rasa registers the channel."""

    def register(self, app: Any, options: dict) -> None:
        async def on_request(request: Request) -> None:
            metrics.start_request(request)
            _meter_agent(_agent(request.app))  # a model loaded later through the API gets a new agent
            _freeze_when_loaded(_agent(request.app))

        async def on_response(request: Request, http_response: HTTPResponse) -> None:
            metrics.finish_request(request, http_response)

        async def after_start(running_app: Any, _loop: Any) -> None:
            _meter_agent(_agent(running_app))
            _freeze_when_loaded(_agent(running_app))

        async def after_stop(_app: Any, _loop: Any) -> None:
            await action_calls.close()  # the kept-alive connections to the action server

        app.register_middleware(on_request, "request")
        app.register_middleware(on_response, "response")
        app.register_listener(after_start, "after_server_start")
        app.register_listener(after_stop, "after_server_stop")
        metrics.install_action_call_error_handler()
        session.install_personal_answer_log_masking()
        super().register(app, options)


class OpsInput(InputChannel):
    """Not a chat channel: the operators' ``/metrics`` and ``/ready`` (see the module doc)."""

    @classmethod
    def name(cls) -> str:
        return "ops"

    def url_prefix(self) -> str:
        return "/"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        ops = _OpsBlueprint("assistant_ops", url_prefix="/")

        @ops.route("/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            result = await _readiness(request.app, READINESS_CACHE_SECONDS)
            return response.json(result.as_dict(), status=200 if result.ready else 503,
                                 headers={"Cache-Control": "no-store"})

        @ops.route("/ready/instance", methods=["GET"])
        async def ready_instance(request: Request) -> HTTPResponse:
            """The probe for the proxy and Kubernetes: 503 only when this instance cannot answer at all."""
            result = await _readiness(request.app, READINESS_CACHE_SECONDS)
            return response.json(result.as_dict(), status=200 if result.serving else 503,
                                 headers={"Cache-Control": "no-store"})

        @ops.route("/metrics", methods=["GET"])
        async def metrics_route(request: Request) -> HTTPResponse:
            await _readiness(request.app, READINESS_REFRESH_SECONDS)
            body, content_type = metrics.render()
            return response.raw(body, content_type=content_type)

        return ops

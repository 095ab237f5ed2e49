"""What the action server adds to the Rasa SDK's Sanic app (a Rasa SDK plugin, like `bot.metrics`).

- ``GET /ready``: the account database, the one part only the action server uses. The backend's `ping`
  (a cheap read, `bot.backend.api.AccountBackend.ping`) runs in a readiness thread, so a hung database
  never holds the event loop, within `ACCOUNT_CHECK_SHARE` of ``BOT_READINESS_TIMEOUT_SECONDS``: the Rasa
  server, which calls this route within the whole limit (`bot.health.check_account_database`), then
  hears the real reason rather than its own timeout. 200 or 503 with the body of the Rasa server's
  ``/ready`` (``{"status", "down", "components": {"account_database": {"up", "detail", "seconds"}}}``);
  the detail is a short code (``sqlite``, ``postgresql``, ``OperationalError``, ``timeout``), never a
  message or a connection string. Answers from a check younger than `READINESS_CACHE_SECONDS`, and
  sets ``assistant_component_up{component="account_database"}``.
- The deadline of each ``POST /webhook`` (`bot.deadline`): set by a request middleware, in the task that
  then runs the action, and kept in ``request.ctx.deadline`` for the metrics (`bot.metrics` counts a
  refused write as ``assistant_backend_errors_total{kind="deadline"}``).
"""
from __future__ import annotations

import time
from typing import Any

import pluggy

from bot import deadline, gc_pauses, health, metrics
from bot.backend.api import BackendUnavailable
from bot.backend.factory import get_backend
from bot.settings import get_settings

PLUGIN_NAME = "assistant-action-server"
ACCOUNT_CHECK_SHARE = 0.75
READINESS_CACHE_SECONDS = 1.0
_last_readiness: dict[str, Any] = {"at": -1e9, "result": None}


async def check_account_database(timeout: float) -> health.Check:
    """The account backend's `ping`, in a readiness thread, within ``timeout``."""

    async def run() -> str:
        backend = get_backend()
        try:
            return str(await health.run_blocking(health.ACCOUNT_DATABASE, backend.ping, timeout))
        except BackendUnavailable as error:
            raise health.Unhealthy(error.cause or "unavailable") from None

    return await health.timed(run)


async def readiness(timeout: float | None = None) -> health.Readiness:
    """The action server's parts (the account database); records ``assistant_component_up``."""
    limit = get_settings().readiness_timeout_seconds if timeout is None else timeout
    check = await check_account_database(limit * ACCOUNT_CHECK_SHARE)
    metrics.COMPONENT_UP.labels(health.ACCOUNT_DATABASE).set(1 if check.up else 0)
    return health.Readiness({health.ACCOUNT_DATABASE: check})


async def _recent_readiness() -> health.Readiness:
    if _last_readiness["result"] is None or time.monotonic() - _last_readiness["at"] > READINESS_CACHE_SECONDS:
        _last_readiness["result"] = await readiness()
        _last_readiness["at"] = time.monotonic()
    return _last_readiness["result"]


async def set_deadline(request: Any) -> None:
    """Give an action call its deadline (`bot.deadline`); any other request none."""
    current = None
    if request.method == "POST" and request.path == "/webhook":
        current = deadline.for_call(get_settings().action_timeout_seconds, request.headers.get(deadline.HEADER))
    request.ctx.deadline = current
    deadline.set_current(current)  # Sanic runs the handler in this task: the backend sees it


def install(app: Any) -> None:
    """Add ``GET /ready`` and the action calls' deadline to the action server's Sanic app."""
    from sanic import response as sanic_response

    app.register_middleware(set_deadline, "request")

    async def ready(_request: Any) -> Any:
        result = await _recent_readiness()
        return sanic_response.json(result.as_dict(), status=200 if result.ready else 503,
                                   headers={"Cache-Control": "no-store"})

    app.add_route(ready, "/ready", methods=["GET"], name="assistant_ready")

    async def freeze_long_lived(_app: Any, _loop: Any) -> None:
        gc_pauses.freeze_long_lived()  # the actions and their libraries, loaded: out of later collections

    app.register_listener(freeze_long_lived, "after_server_start")


_hookimpl = pluggy.HookimplMarker("rasa_sdk")


class _Plugin:
    """A Rasa SDK plugin (``attach_sanic_app_extensions`` hook): the SDK calls it before listening."""

    @_hookimpl
    def attach_sanic_app_extensions(self, app: Any) -> None:
        install(app)


def install_plugin() -> None:
    """Register this module's plugin with the Rasa SDK's plugin manager (idempotent); called when the
    ``actions`` package is imported (`bot.server_setup`)."""
    from rasa_sdk.plugin import plugin_manager

    manager = plugin_manager()
    if not manager.has_plugin(PLUGIN_NAME):
        manager.register(_Plugin(), name=PLUGIN_NAME)

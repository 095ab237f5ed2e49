"""Process set-up of the Rasa server and the action server: redacted logs, action server on an internal host."""
from __future__ import annotations

import os

from bot import action_server
from bot.metrics import install_action_server_plugin
from bot.privacy import install_log_redaction
from bot.settings import get_settings


def set_up_action_server() -> None:
    """Redact the action server's logs and bind it to ``BOT_ACTION_SERVER_HOST`` (127.0.0.1 by default).

    Called on import of the ``actions`` package, which the Rasa SDK imports before it starts listening
    on ``SANIC_HOST``; an explicit ``SANIC_HOST`` in the environment still wins.
    """
    install_log_redaction()
    install_action_server_plugin()  # GET /metrics and action measurements (bot/metrics.py)
    action_server.install_plugin()  # GET /ready: the account database (bot/action_server.py)
    os.environ.setdefault("SANIC_HOST", get_settings().action_server_host)

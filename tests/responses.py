"""The sentences a citizen reads or hears, rendered from domain.yml by Rasa's own response generator.

Actions say responses by name (``actions.common.respond``); the Rasa server fills them. Tests render
them the same way, with Rasa's `TemplatedNaturalLanguageGenerator` on the project's domain, for the web
(``rest``) or the phone line (``ivr``).
"""
from __future__ import annotations

from functools import cache
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain

from bot.contract import HINT_VARIABLES
from bot.policy.parsed import Parsed
from bot.settings import PROJECT_ROOT

WEB = "rest"
PHONE = "ivr"
# What the action server sends besides a response's variables (not variables of the text).
_MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}


@cache
def _generator() -> TemplatedNaturalLanguageGenerator:
    return TemplatedNaturalLanguageGenerator(Domain.load(str(PROJECT_ROOT / "domain.yml")).responses)


def render(response: str, channel: str = WEB, **variables: Any) -> str:
    """The text of ``response`` on ``channel``, filled with ``variables``; fails on an unknown response."""
    message = _generator().generate_from_slots(response, {}, channel, **variables)
    assert message is not None, f"{response} is not a response of domain.yml"
    return message.get("text") or ""


def rendered(message: dict[str, Any], channel: str = WEB) -> str:
    """The text of one message an action collected: its own text, or its response rendered."""
    if not message.get("response"):
        return message.get("text") or ""
    variables = {k: v for k, v in message.items() if k not in _MESSAGE_KEYS}
    return render(message["response"], channel, **variables)


def rendered_buttons(message: dict[str, Any], channel: str = WEB) -> list[dict[str, Any]]:
    """The buttons of one collected message: its own, or its response's on ``channel``."""
    if not message.get("response"):
        return message.get("buttons") or []
    generated = _generator().generate_from_slots(message["response"], {}, channel) or {}
    return [*(generated.get("buttons") or []), *(message.get("buttons") or [])]


def say(name: str, channel: str | None = None, **variables: Any) -> str:
    """The text of response ``name`` on ``channel`` (the web when None), filled with ``variables``."""
    return render(name, channel or WEB, **variables)


def message_text(message: dict[str, Any], channel: str | None = None) -> str:
    """What a dispatched message says on ``channel`` (the web when None)."""
    return rendered(message, channel or WEB)


def hint_text(parsed: Parsed[Any], channel: str | None = None) -> str | None:
    """What the forms say for a parser's result: the hint of its problem or note, or None."""
    return say(parsed.response, channel, **HINT_VARIABLES) if parsed.response else None

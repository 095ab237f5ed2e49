"""The domain's responses as Rasa says them: chosen by name and channel, filled with the action's variables."""
from __future__ import annotations

from typing import Any

import yaml
from rasa.core.nlg.interpolator import interpolate_text

from bot.contract import HINT_VARIABLES
from bot.policy.parsed import Parsed
from bot.settings import PROJECT_ROOT

RESPONSES: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")
)["responses"]
# What CollectingDispatcher.utter_message stores besides the variables of a response.
_MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}


def say(name: str, channel: str | None = None, **variables: Any) -> str:
    """The text of response ``name`` on ``channel`` (its variant for the channel, else its default)."""
    variants = RESPONSES[name]
    chosen = [v for v in variants if v.get("channel") == channel] or [v for v in variants if "channel" not in v]
    return interpolate_text(chosen[0]["text"], {key: str(value) for key, value in variables.items()})


def message_text(message: dict[str, Any], channel: str | None = None) -> str:
    """What a dispatched message says: its text, or its domain response filled with its variables."""
    if message.get("text"):
        return message["text"]
    if message.get("response"):
        variables = {key: value for key, value in message.items() if key not in _MESSAGE_KEYS}
        return say(message["response"], channel, **variables)
    return ""


def hint_text(parsed: Parsed[Any], channel: str | None = None) -> str | None:
    """What the forms say for a parser's result: the hint of its problem or note, or None."""
    return say(parsed.response, channel, **HINT_VARIABLES) if parsed.response else None

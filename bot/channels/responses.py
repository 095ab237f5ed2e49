"""What a channel says on its own (the phone line's reprompts, the web's refusals): responses of domain.yml.

A channel answers some messages without asking the model: a silent or unclear phone turn, a web
message too long to read. Those sentences are responses of the domain like every other, so that one
file holds every sentence a citizen reads or hears and its content tests cover them. The channel reads
them from the loaded model's domain (``app.ctx.agent.domain``), else from the project's domain.yml.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

Responses = Mapping[str, list[dict[str, Any]]]


def response_text(responses: Responses, name: str, channel: str | None = None) -> str:
    """The text of response ``name``: its ``channel`` variant if it has one, else its variant without channel."""
    variants = responses.get(name) or []
    chosen = [v for v in variants if channel and v.get("channel") == channel]
    chosen = chosen or [v for v in variants if not v.get("channel")]
    text = chosen[0].get("text") if chosen else None
    if not text:
        raise KeyError(f"domain.yml has no text for the response {name!r}")
    return str(text)


@functools.cache
def project_responses() -> Responses:
    """The responses of the project's domain.yml."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")) or {}
    return domain.get("responses") or {}


def app_responses(app: Any) -> Responses:
    """The responses of the model the Rasa server ``app`` has loaded; the project's before a model is loaded."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    domain = getattr(agent, "domain", None)
    responses = getattr(domain, "responses", None)
    return responses if responses else project_responses()


_VARIABLE = re.compile(r"{([^\n{}]+?)}")


def fill(text: str, variables: Mapping[str, Any]) -> str:
    """``text`` with each ``{name}`` replaced by its variable, as Rasa fills a response (unknown ones stay)."""
    return _VARIABLE.sub(lambda m: str(variables[m.group(1)]) if m.group(1) in variables else m.group(0), text)

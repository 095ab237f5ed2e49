"""Trackers as the action server receives them, and what the dispatcher collected."""
from __future__ import annotations

from rasa.core.nlg.interpolator import interpolate_text
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.channels.responses import project_responses, response_text


def make_tracker(
    text: str = "",
    intent: str | None = "inform",
    slots: dict | None = None,
    metadata: dict | None = None,
    channel: str = "rest",
    active_loop: str | None = None,
    sender_id: str = "test-conversation",
    events: list[dict] | None = None,
) -> Tracker:
    """A tracker whose latest message is ``text``; with ``active_loop``, as a form validation sees it."""
    parse_data = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": [], "metadata": metadata}
    history = list(events or [])
    history += [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": parse_data, "input_channel": channel, "metadata": metadata},
    ]
    slots = {"requested_slot": None, **(slots or {})}
    if active_loop:
        history += [
            {"event": "slot", "name": "requested_slot", "value": slots["requested_slot"]},
            {"event": "action", "name": active_loop},
        ]
    return Tracker(
        sender_id=sender_id,
        slots=slots,
        latest_message={**parse_data, "message_id": "m1"},
        events=history,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name=active_loop or "action_listen",
    )


def texts(dispatcher: CollectingDispatcher, channel: str | None = None) -> str:
    """Everything the dispatcher said, one message a line; a domain response filled with its variables."""
    lines = []
    for message in dispatcher.messages:
        if message.get("response"):
            lines.append(interpolate_text(response_text(project_responses(), message["response"], channel), message))
        else:
            lines.append(message.get("text") or "")
    return "\n".join(lines)


def slot_events(events: list[dict]) -> dict:
    """The slots an action set, name -> last value."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}

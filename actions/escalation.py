"""Escalation to a person: the call centre (or tonight's registration line), email, in person, and the handoff record.

The handoff record is three slots the help-desk report reads from the tracker store, with no personal
data: ``handoff_reason`` (one of `REASONS`), ``handoff_topic`` (the last topic intent before the
handoff) and ``handoff_tried`` (the flows and answers already given, in order). On the phone line the
reply also carries the transfer instruction of `bot.contact` (custom payload ``{"transfer": ...}``),
unless the call centre is known to be closed.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import directory, is_phone, now
from actions.contact_hours import email_line, escalation_lines, evening_line, hours_line, in_person_line, say

HANDOFF_REASON_SLOT = "handoff_reason"
HANDOFF_TOPIC_SLOT = "handoff_topic"
HANDOFF_TRIED_SLOT = "handoff_tried"
REASONS = ("request_human", "repeated_fallback", "locked", "repeated_invalid_input", "backend_unavailable")
GENERAL_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "inform", "out_of_scope",
    "request_human", "ask_contact", "ask_hours", "ask_in_person", "nlu_fallback",
}  # fmt: skip
_NOT_TRIED = {"action_listen", "action_session_start", "action_extract_slots", "action_escalate", "utter_greet"}
MAX_TRIED = 10


def conversation_topic(tracker: Tracker) -> str | None:
    """The last intent of the conversation that names a topic (not a greeting, a yes or a fallback)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent and intent not in GENERAL_INTENTS:
                return intent
    return None


def already_tried(tracker: Tracker) -> list[str]:
    """The answers and flows the assistant already gave, in order, each once."""
    tried: list[str] = []
    for event in tracker.events:
        name = event.get("name") if event.get("event") == "action" else None
        if name and name not in _NOT_TRIED and not name.startswith("validate_") and name not in tried:
            tried.append(name)
    return tried[-MAX_TRIED:]


def escalate(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    topic: str | None = None,
    call_centre_said: bool = False,
) -> list[EventType]:
    """Tell how to reach a person (transfer on the phone line) and return the handoff record.

    ``call_centre_said``: a static answer of the guide already gave the call centre's number; only
    what it cannot know is added (open now, tonight's registration line, email, in person).
    """
    contacts = directory()
    moment = now()
    spoken = is_phone(tracker)
    if call_centre_said:
        lines = []
        if contacts.hours_configured:
            lines.append(hours_line(contacts, moment))
        if contacts.is_registration_evening_now(moment):
            lines.append(evening_line(contacts, moment, spoken))
        if reason != "repeated_fallback" or spoken:
            lines.append(email_line(contacts, spoken))
        lines.append(in_person_line(contacts))
    else:
        lines = escalation_lines(contacts, moment, spoken=spoken)
    reachable = contacts.open_now(moment) is not False or contacts.is_registration_evening_now(moment)
    if spoken and reachable:
        dispatcher.utter_message(text="Je vous transfère au centre d'appels.")
        dispatcher.utter_message(json_message=contacts.transfer_instruction(moment))
    else:
        say(dispatcher, lines)
    return [
        SlotSet(HANDOFF_REASON_SLOT, reason),
        SlotSet(HANDOFF_TOPIC_SLOT, topic or conversation_topic(tracker)),
        SlotSet(HANDOFF_TRIED_SLOT, already_tried(tracker)),
    ]


class ActionEscalate(Action):
    """After the guide's answer to "a person, please" or to a second misunderstanding: the rest, and the record."""

    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = "repeated_fallback" if intent == "nlu_fallback" else "request_human"
        return escalate(dispatcher, tracker, reason, call_centre_said=True)

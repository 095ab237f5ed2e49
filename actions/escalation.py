"""Escalation to a person: the call centre (or tonight's registration line), email, in person, and the handoff record.

The handoff record is three slots the help-desk report reads from the tracker store, with no personal
data (`bot.contract`): ``handoff_reason`` (a `HandoffReason`), ``handoff_topic`` (the last topic intent
before the handoff) and ``handoff_tried`` (the flows and answers already given, in order). On the phone
line the reply also carries the transfer instruction (custom payload ``{"transfer": ...}``) when
`bot.handoff.phone_transfer` says a person can take the call; the phone channel's own handoff requests
(a second silence, a third unclear turn) come here too, so every transfer is recorded.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import directory, is_phone, now, respond
from actions.contact_hours import (
    email_line,
    escalation_lines,
    evening_line,
    hours_line,
    in_person_line,
    say_list,
)
from bot.contract import HANDOFF_REASON_SLOT, HANDOFF_TOPIC_SLOT, HANDOFF_TRIED_SLOT, HandoffReason
from bot.handoff import PHONE_HANDOFF_INTENT, phone_transfer, requested_reason

GENERAL_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "inform", "out_of_scope",
    "request_human", "ask_contact", "ask_hours", "ask_in_person", "nlu_fallback", PHONE_HANDOFF_INTENT,
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
    reason: HandoffReason | str,
    topic: str | None = None,
    call_centre_said: bool = False,
) -> list[EventType]:
    """Tell how to reach a person (transfer on the phone line) and return the handoff record.

    ``call_centre_said``: a static answer of the guide already gave the call centre's number; only
    what it cannot know is added (open now, tonight's registration line, email, in person).
    """
    reason = HandoffReason(reason)
    contacts = directory()
    moment = now()
    spoken = is_phone(tracker)
    if call_centre_said:
        lines = []
        if contacts.hours_configured:
            lines.append(hours_line(contacts, moment))
        if contacts.is_registration_evening_now(moment):
            lines.append(evening_line(contacts, moment, spoken))
        if reason is not HandoffReason.REPEATED_FALLBACK or spoken:
            lines.append(email_line(contacts, spoken))
        lines.append(in_person_line(contacts))
    else:
        lines = escalation_lines(contacts, moment, spoken=spoken)
    transfer = phone_transfer(contacts, moment) if spoken else None
    if transfer is not None:
        respond(dispatcher, "utter_transfer_to_call_centre")
        dispatcher.utter_message(json_message=transfer)
    else:
        say_list(dispatcher, tracker, lines)
    return [
        SlotSet(HANDOFF_REASON_SLOT, reason.value),
        SlotSet(HANDOFF_TOPIC_SLOT, topic or conversation_topic(tracker)),
        SlotSet(HANDOFF_TRIED_SLOT, already_tried(tracker)),
    ]


class ActionEscalate(Action):
    """After the guide's answer to "a person, please" or to a second misunderstanding, or when the phone
    channel asks for a person: the rest, the transfer, and the record."""

    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == PHONE_HANDOFF_INTENT:
            asked = requested_reason(tracker.latest_message.get("metadata"), is_phone(tracker))
            return escalate(dispatcher, tracker, asked or HandoffReason.REQUEST_HUMAN)
        reason = HandoffReason.REPEATED_FALLBACK if intent == "nlu_fallback" else HandoffReason.REQUEST_HUMAN
        return escalate(dispatcher, tracker, reason, call_centre_said=True)

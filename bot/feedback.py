""""Est-ce que cela vous a aidé?": when to ask it, and how an answer is recorded in the tracker store.

An answer is recorded as slot events of the conversation (redacted by the tracker store like every
event, read by the report in `bot.analytics`):

- ``feedback_asked`` = the topic, when the question is put (on the web, when the widget shows it; on
  the phone line, when the channel asks it before hanging up);
- ``feedback`` = ``{"helpful": "oui"|"non", "topic": ...}``, the citizen's answer;
- ``feedback_reason`` = a `FeedbackReason` value, the reason chosen after a "non".

The topic is what the answer was about: the intent of the citizen's question (``ask_password_rules``)
or the guided flow that just ended (``link_card_form``); the report names them in the help desk's
words. The question is asked under an answer of the guide or at the end of a guided flow, never after
a handoff to a person, never for two answers in a row, and at most once per topic in a conversation.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.contract import HANDOFF_REASON_SLOT

FEEDBACK_SLOT = "feedback"
FEEDBACK_REASON_SLOT = "feedback_reason"
FEEDBACK_ASKED_SLOT = "feedback_asked"
FEEDBACK_SLOTS = (FEEDBACK_SLOT, FEEDBACK_REASON_SLOT, FEEDBACK_ASKED_SLOT)

SESSION_START_ACTION = "action_session_start"
LISTEN_ACTION = "action_listen"


class Helpful(str, Enum):
    """The answer to "Est-ce que cela vous a aidé?"."""

    YES = "oui"
    NO = "non"


class FeedbackReason(str, Enum):
    """Why it did not help (asked after a "non")."""

    WRONG_ANSWER = "wrong_answer"  # pas la bonne réponse
    UNCLEAR = "unclear"  # pas clair
    STILL_NEED_CALL = "still_need_call"  # je dois quand même appeler


# The guide's answers: the responses (and custom actions) that answer a citizen's question.
GUIDE_ANSWERS = frozenset({
    "utter_create_account", "utter_email_confirmation_missing", "utter_login", "utter_password_rules",
    "utter_password_rejected", "utter_forgot_password", "utter_link_card", "utter_link_card_child",
    "utter_no_card", "utter_card_expiry", "utter_card_expiry_family", "utter_card_renewal",
    "utter_family_file", "utter_family_children", "utter_profile", "utter_amount_due", "utter_registrations",
    "utter_contact", "utter_hours", "utter_in_person", "action_check_password", "action_card_expiry",
    "action_profile", "action_amount_due", "action_registrations", "action_hours_now",
})  # fmt: skip
# A citizen's message that is not a question of its own (its answer is no topic).
NOT_A_TOPIC = frozenset({"nlu_fallback", "greet", "goodbye", "thank", "affirm", "deny", "inform", "out_of_scope",
                         "bot_challenge", "request_human", "phone_handoff"})


@dataclass
class _Turn:
    """A citizen's message and what followed it."""

    intent: str | None
    topic: str | None = None  # set when a guide answer or the end of a flow followed
    asked: bool = False  # the question was put after it


def _session_events(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events of the latest session (from the last ``action_session_start``)."""
    events = list(events)
    starts = [i for i, event in enumerate(events)
              if event.get("event") == "action" and event.get("name") == SESSION_START_ACTION]
    return events[starts[-1]:] if starts else events


def _turns(events: list[Mapping[str, Any]]) -> tuple[list[_Turn], set[str], bool]:
    """The session's turns, the topics already answered, and whether a handoff happened."""
    turns: list[_Turn] = []
    answered_topics: set[str] = set()
    handed_off = False
    active_form: str | None = None
    last_action: str | None = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            turns.append(_Turn(intent))
        elif kind == "action":
            name = str(event.get("name") or "")
            if name != LISTEN_ACTION:
                last_action = name
            if turns and name in GUIDE_ANSWERS and turns[-1].intent not in NOT_A_TOPIC:
                turns[-1].topic = turns[-1].topic or turns[-1].intent
        elif kind == "active_loop":
            loop = event.get("name")
            if not loop and active_form and last_action == active_form and turns:
                turns[-1].topic = active_form  # the flow ended by itself: completed
            active_form = str(loop) if loop else None
        elif kind == "slot":
            slot = event.get("name")
            if slot == HANDOFF_REASON_SLOT and event.get("value") and last_action != SESSION_START_ACTION:
                handed_off = True
            elif slot == FEEDBACK_ASKED_SLOT and turns:
                turns[-1].asked = True
            elif slot == FEEDBACK_SLOT and isinstance(event.get("value"), dict):
                answered_topics.add(str(event["value"].get("topic")))
    return turns, answered_topics, handed_off


def topic_to_ask(events: Iterable[Mapping[str, Any]]) -> str | None:
    """The topic to ask "Est-ce que cela vous a aidé?" about now, or None: not now.

    Now is right after a guide answer or the end of a guided flow (the latest citizen message got one),
    with no handoff in the conversation, the question not already put for this answer nor for the one
    before (never twice in a row), and this topic not already rated in the conversation.
    """
    turns, answered_topics, handed_off = _turns(_session_events(events))
    if handed_off or not turns:
        return None
    latest = turns[-1]
    if latest.topic is None or latest.asked or latest.topic in answered_topics:
        return None
    if len(turns) > 1 and turns[-2].asked:
        return None
    return latest.topic


def last_topic(events: Iterable[Mapping[str, Any]]) -> str | None:
    """The topic of the latest guide answer or completed flow of the session (the phone line asks about it)."""
    turns, _, _ = _turns(_session_events(events))
    return next((turn.topic for turn in reversed(turns) if turn.topic), None)


def feedback_events(
    helpful: Helpful | None = None, topic: str | None = None, reason: FeedbackReason | None = None,
    *, asked: str | None = None,
) -> list[dict[str, Any]]:
    """The slot events that record a question put (``asked``), an answer, or a reason."""
    events: list[dict[str, Any]] = []
    if asked:
        events.append({"event": "slot", "name": FEEDBACK_ASKED_SLOT, "value": asked})
    if helpful is not None:
        events.append({"event": "slot", "name": FEEDBACK_SLOT, "value": {"helpful": helpful.value, "topic": topic}})
    if reason is not None:
        events.append({"event": "slot", "name": FEEDBACK_REASON_SLOT, "value": reason.value})
    return events


def was_handed_off(events: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the conversation's latest session was handed to a person."""
    return _turns(_session_events(events))[2]


def is_topic(value: object) -> bool:
    """A topic the feedback may name: an intent or a form of the assistant (letters and underscores)."""
    return isinstance(value, str) and 0 < len(value) <= 64 and value.replace("_", "").isalpha() and value.islower()



_YES = re.compile(r"^(?:oui|ouais|ouin|yes|certainement|absolument|tout a fait|beaucoup|ca m'?a aide|(?:oui|ouais),? .*)$")
_NO = re.compile(r"^(?:non|nope|pas vraiment|pas du tout|pas tellement|(?:non|pas vraiment),? .*)$")
KEY_YES, KEY_NO = "1", "2"


def spoken_answer(transcript: str, keyed: str = "") -> Helpful | None:
    """A caller's answer to the question: "oui"/"non" said (or 1/2 on the keypad), or None (skipped)."""
    if keyed:
        return {KEY_YES: Helpful.YES, KEY_NO: Helpful.NO}.get(keyed[:1])
    folded = unicodedata.normalize("NFKD", transcript.casefold())
    text = " ".join("".join(c for c in folded if not unicodedata.combining(c)).replace("’", "'").split())
    text = text.strip(" .!?,")
    if _YES.match(text):
        return Helpful.YES
    if _NO.match(text):
        return Helpful.NO
    return None

"""Validation of the guided forms, with one shared behaviour (as financial-demo's custom_forms).

Every guided form (card linking, phone identification, confirmation email) reads what the person
typed with a `bot.policy` parser, re-asks with the parser's precise French hint, lets the person quit
at any time ("laisse faire", "annuler", "non"), lets another topic through (the form comes back
after the answer), and after `form_max_failures` invalid answers for the same question (setting
BOT_FORM_MAX_FAILURES) stops and offers the call centre.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions import messages
from actions.common import clear_form_slots, is_phone, today, web_account
from actions.escalation import escalate
from bot.policy.card import parse_card_digits
from bot.policy.dates import DateProblem, parse_birth_date
from bot.policy.phones import parse_home_phone
from bot.settings import get_settings

FAILURES_SLOT = "form_failures"
# IVR control payload: let the caller type this many digits on the keypad.
COLLECT_DIGITS_KEY = "collect_digits"
DATE_PREFIX = "date:"
PHONE_PREFIX = "phone:"

# Intents that are answers (or a wish to stop) while a form waits; any other one is a topic switch.
ANSWER_INTENTS = {"inform", "affirm", "deny", "nlu_fallback", None}
QUIT_INTENTS = {"deny"}
_QUIT_WORDS = re.compile(
    r"\b(laisse[rz]? (faire|tomber)|annule[rz]?|annulation|arr[êe]te[rz]?|stop|oublie[rz]? (ça|ca)|"
    r"abandonne[rz]?|j'?en veux plus|pas maintenant|non merci)\b",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_SKIPPED_EVENTS = {"slot", "user_featurization", "active_loop"}

EMAIL_HINT = (
    "Je n'ai pas reconnu d'adresse courriel. Écrivez-la au complet, par exemple : prenom.nom@exemple.com."
)
DATE_OR_PHONE_HINT = (
    "Donnez votre date de naissance, par exemple : 21 juin 1980, ou votre numéro de téléphone de la "
    "maison, par exemple : 450 555-0100."
)


@dataclass(frozen=True)
class Parsed:
    """What a parser read: the slot value, or None and a hint; ``note`` is said even on success."""

    value: str | None
    hint: str | None = None
    note: str | None = None


def parse_card(text: str) -> Parsed:
    """The last six digits of a card."""
    result = parse_card_digits(text)
    if result.ok:
        return Parsed(result.digits, note=result.hint)
    return Parsed(None, result.hint)


def parse_date_or_phone(text: str) -> Parsed:
    """A birth date or a home phone number, whichever the person gave ("date:..." or "phone:...")."""
    phone = parse_home_phone(text)
    if phone.ok:
        return Parsed(PHONE_PREFIX + phone.digits)
    born = parse_birth_date(text, today())
    if born.ok:
        return Parsed(DATE_PREFIX + born.value.isoformat())
    digits = sum(c.isdigit() for c in text)
    if born.problem is not DateProblem.NOT_FOUND:
        return Parsed(None, born.hint)
    if digits >= 7:
        return Parsed(None, phone.hint)
    return Parsed(None, f"Je n'ai reconnu ni une date ni un numéro de téléphone. {DATE_OR_PHONE_HINT}")


def parse_email(text: str) -> Parsed:
    """An email address."""
    match = _EMAIL.search(text or "")
    return Parsed(match.group().lower()) if match else Parsed(None, EMAIL_HINT)


def split_date_or_phone(value: str) -> tuple[str | None, str | None]:
    """(birth_date, home_phone) from the stored value of ``form_birth_date_or_phone``."""
    if value.startswith(DATE_PREFIX):
        return value[len(DATE_PREFIX) :], None
    if value.startswith(PHONE_PREFIX):
        return None, value[len(PHONE_PREFIX) :]
    return None, None


def wants_to_quit(tracker: Tracker) -> bool:
    """Whether the latest message asks to stop the form."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return intent in QUIT_INTENTS or bool(_QUIT_WORDS.search(tracker.latest_message.get("text") or ""))


def is_topic_switch(tracker: Tracker) -> bool:
    """Whether the latest message is another question rather than an answer."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return intent not in ANSWER_INTENTS


def is_fresh_answer(tracker: Tracker, form_name: str) -> bool:
    """Whether the form runs right after a user message (not at activation or when coming back)."""
    if tracker.active_loop_name != form_name:
        return False
    skipped_form_action = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind in _SKIPPED_EVENTS:
            continue
        if kind == "action" and event.get("name") == form_name and not skipped_form_action:
            skipped_form_action = True
            continue
        if kind == "action" and event.get("name") == "action_extract_slots":
            continue
        return kind == "user"
    return False


def is_retry(tracker: Tracker) -> bool:
    """Whether the form starts again after a submit in the same turn (the latest message was an answer)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and str(event.get("name", "")).endswith("_submit"):
            return True
    return False


class GuidedFormValidation(FormValidationAction):
    """The shared behaviour of every guided form; subclasses give the parser of each slot."""

    parsers: dict[str, Callable[[str], Parsed]] = {}
    topic = ""

    @abstractmethod
    def name(self) -> str:
        """The validation action's name, ``validate_<form>``."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        if tracker.active_loop_name != self.form_name():
            return await self.activation(dispatcher, tracker, domain)
        if not requested or requested not in self.parsers or not is_fresh_answer(tracker, self.form_name()):
            return await super().run(dispatcher, tracker, domain)
        if wants_to_quit(tracker):
            messages.FLOW_STOPPED.send(dispatcher, tracker)
            return [*clear_form_slots(), SlotSet(REQUESTED_SLOT, None)]
        parsed = self.parsers[requested](tracker.latest_message.get("text") or "")
        if parsed.value is None and is_topic_switch(tracker):
            return []
        failures = dict(tracker.get_slot(FAILURES_SLOT) or {})
        if parsed.value is not None:
            if parsed.note:
                dispatcher.utter_message(text=parsed.note)
            failures.pop(requested, None)
            events: list[EventType] = [SlotSet(requested, parsed.value), SlotSet(FAILURES_SLOT, failures or None)]
        else:
            failures[requested] = failures.get(requested, 0) + 1
            if failures[requested] >= get_settings().form_max_failures:
                messages.TOO_MANY_FAILURES.send(dispatcher, tracker)
                handoff = escalate(dispatcher, tracker, reason="repeated_invalid_input", topic=self.topic)
                return [*clear_form_slots(), *handoff, SlotSet(REQUESTED_SLOT, None)]
            dispatcher.utter_message(text=parsed.hint)
            events = [SlotSet(requested, None), SlotSet(FAILURES_SLOT, failures)]
        tracker.add_slots(events)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    async def activation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """At activation, keep what the first message already gave ("pas reçu le courriel à jean@...")."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        text = tracker.latest_message.get("text") or ""
        events: list[EventType] = []
        for slot in required if not is_retry(tracker) else []:
            parsed = self.parsers[slot](text) if slot in self.parsers else Parsed(None)
            if parsed.value is not None:
                events.append(SlotSet(slot, parsed.value))
        tracker.add_slots(events)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    async def get_validation_events(self, *args: Any, **kwargs: Any) -> list[EventType]:
        """No slot is filled outside `run`'s reading of a fresh answer, so nothing else to validate."""
        return []


class ValidateLinkCardForm(GuidedFormValidation):
    """Card linking: only for a person logged in to the portal whose account is not linked yet."""

    parsers = {"form_card_digits": parse_card, "form_birth_date_or_phone": parse_date_or_phone}
    topic = "link_card"

    def name(self) -> str:
        return "validate_link_card_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        account = web_account(tracker)
        if account is None or account.linked:
            return []
        return domain_slots


class ValidateIdentifyForm(GuidedFormValidation):
    """Identification by card digits and birth date or phone (phone line, or the web without login)."""

    parsers = {"form_card_digits": parse_card, "form_birth_date_or_phone": parse_date_or_phone}
    topic = "identify"

    def name(self) -> str:
        return "validate_identify_form"


class ValidateEmailForm(GuidedFormValidation):
    """The email of the account whose confirmation email did not arrive."""

    parsers = {"form_email": parse_email}
    topic = "email_confirmation_missing"

    def name(self) -> str:
        return "validate_email_form"


class AskFormSlot(Action, ABC):
    """Ask for a form's slot on the right channel (the phone line may take the digits on the keypad)."""

    message: messages.Message
    keypad_digits = 0

    @property
    @abstractmethod
    def slot(self) -> str:
        """The slot asked for."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        self.message.send(dispatcher, tracker)
        if self.keypad_digits and is_phone(tracker):
            dispatcher.utter_message(json_message={COLLECT_DIGITS_KEY: self.keypad_digits})
        return []


class AskCardDigits(AskFormSlot):
    slot = "form_card_digits"
    message = messages.ASK_CARD_DIGITS
    keypad_digits = 6


class AskBirthDateOrPhone(AskFormSlot):
    slot = "form_birth_date_or_phone"
    message = messages.ASK_DATE_OR_PHONE


class AskEmail(AskFormSlot):
    slot = "form_email"
    message = messages.ASK_EMAIL

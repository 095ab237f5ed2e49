"""Validation of the guided forms, with one shared behaviour (as financial-demo's custom_forms), driven by
the conversation contract (`bot.contract.FLOWS`): one validation action and one ask action per declared
flow and slot, generated here.

Every guided form (card linking, phone identification, confirmation email) reads what the person
typed with its slot's parser, re-asks with the hint of the parser's problem code
(``utter_hint_<code>``), lets the person quit at any time ("laisse faire", "annuler", "non"), lets
another topic through (the form comes back after the answer), and after `form_max_failures` invalid
answers for the same question (setting BOT_FORM_MAX_FAILURES) stops and offers the call centre. Every
end of a flow (quit, too many failures, submit) clears the flow's slots (`clear_form_slots`).

The shared steps are separate methods (`read`, `accept`, `refuse`, `stop`) so that citizen-led
conversations (values taken from any message, corrections, digressions and return) can be built once
here, for every flow.
"""
from __future__ import annotations

import re
import time
from abc import ABC, ABCMeta, abstractmethod
from typing import Any, cast

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import Line, clear_form_slots, is_phone, respond, respond_together, today, web_account
from actions.escalation import escalate
from bot.contract import (
    FLOWS,
    FORM_ASK_AGAIN_RESPONSE,
    FORM_CORRECTED_RESPONSE,
    FORM_FAILURES_SLOT,
    FORM_GIVEN_SLOT,
    FORM_NOTED_RESPONSE,
    FORM_PROMPTED_SLOT,
    FORM_RESUME_RESPONSE,
    FORM_STOPPED_RESPONSE,
    FORM_TOO_MANY_FAILURES_RESPONSE,
    HINT_VARIABLES,
    IVR_COLLECT_DIGITS_KEY,
    Flow,
    FormSlot,
    HandoffReason,
    remembered_details,
)
from bot.forgotten import forgotten, receipt_after, why_forgotten
from bot.policy.date_or_phone import split_date_or_phone  # noqa: F401 (the submit actions import it from here)
from bot.policy.details import Details, find_details
from bot.policy.parsed import Parsed, hint_response
from bot.settings import get_settings

FAILURES_SLOT = FORM_FAILURES_SLOT

# Intents that are answers (or a wish to stop) while a form waits; any other one is a topic switch. A
# message read as off-topic while a form waits for a value is an answer too: "je le trouve pas", "je me
# suis trompé, c'est jean@…" or a password typed again are far from the guide's questions, and the form
# reads the value or counts an answer it could not read (its hint, then the call centre).
ANSWER_INTENTS = {"inform", "affirm", "deny", "nlu_fallback", "out_of_scope", None}
QUIT_INTENTS = {"deny"}
_QUIT_WORDS = re.compile(
    r"\b(laisse[rz]? (faire|tomber)|annule[rz]?|annulation|arr[êe]te[rz]?|stop|oublie[rz]? (ça|ca)|"
    r"abandonne[rz]?|j'?en veux plus|pas maintenant|non merci)\b",
    re.IGNORECASE,
)
# "je me suis trompé", "c'est pas le bon", "erreur": the value given last is asked again.
_CORRECTION_WORDS = re.compile(
    r"\b(tromp[ée]e?s?|erreur|mal (tap|écrit|ecrit|dit)|pas (le|la) bon(ne)?|c'?est pas (ça|ca)|corrige[rz]?)\b",
    re.IGNORECASE,
)
_PLAIN_NO = re.compile(r"^\W*(non|nan|nope|no|pas vraiment|pas du tout|jamais)\b", re.IGNORECASE)
_SKIPPED_EVENTS = {"slot", "user_featurization", "active_loop"}


def wants_to_quit(tracker: Tracker) -> bool:
    """Whether the latest message asks to stop the form: words that say so, or a no ("non", "nope").

    A message the model reads as a no but that says something else ("je le trouve pas", "je l'ai pas
    sur moi") is an answer that could not be read: its hint, and after too many, the call centre.
    """
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    text = tracker.latest_message.get("text") or ""
    return bool(_QUIT_WORDS.search(text)) or (intent in QUIT_INTENTS and bool(_PLAIN_NO.match(text)))


def wants_to_correct(text: str) -> bool:
    """Whether the message says a value given before was wrong, without giving the right one."""
    return bool(_CORRECTION_WORDS.search(text))


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


class GuidedFormValidation(FormValidationAction, ABC):
    """The shared behaviour of every guided form; ``flow`` is its record in the contract."""

    @property
    @abstractmethod
    def flow(self) -> Flow:
        """The flow's record in the contract."""

    def name(self) -> str:
        """The validation action's name, ``validate_<form>``."""
        return self.flow.validation

    def read(self, slot: FormSlot, text: str) -> Parsed[Any]:
        """What ``text`` gives for ``slot``, by the slot's parser."""
        return slot.read(text, today())

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """`read_message`, then the receipt of the values given (`bot.forgotten`) when it changed."""
        given = tracker.get_slot(FORM_GIVEN_SLOT)
        events = await self.read_message(dispatcher, tracker, domain)
        receipt = receipt_after(given, events)
        return events if receipt == (given or None) else [*events, SlotSet(FORM_GIVEN_SLOT, receipt)]

    async def read_message(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Read the latest message for the form: its values, a wish to stop or to correct, another question."""
        requested = tracker.get_slot(REQUESTED_SLOT)
        if tracker.active_loop_name != self.form_name() or requested is None:
            # Rasa runs the validation at activation with the loop already active and nothing requested.
            return await self.activation(dispatcher, tracker, domain)
        slot = self.flow.slot(requested) if requested else None
        if slot is None or not is_fresh_answer(tracker, self.form_name()):
            return await super().run(dispatcher, tracker, domain)
        text = tracker.latest_message.get("text") or ""
        given = self.given(find_details(text, today()))
        if not given and (answer := self.read(slot, text)).ok:
            given = {slot.name: str(answer.value)}
        if given:
            events = self.take(dispatcher, tracker, slot, given)
        elif wants_to_quit(tracker):
            return self.stop(dispatcher)
        elif wants_to_correct(text) and (last := self.last_given(tracker, slot)):
            respond(dispatcher, FORM_ASK_AGAIN_RESPONSE)
            events = [SlotSet(last, None)]
        elif (choice := self.choice(slot, text)) is not None:
            respond(dispatcher, choice)
            events = [SlotSet(FORM_PROMPTED_SLOT, True)]
        else:
            parsed = self.read(slot, text)
            if is_topic_switch(tracker):
                return []  # another question: answered, then the form comes back ("Reprenons :")
            failures = dict(tracker.get_slot(FAILURES_SLOT) or {})
            failures[slot.name] = failures.get(slot.name, 0) + 1
            if failures[slot.name] >= get_settings().form_max_failures:
                return self.give_up(dispatcher, tracker)
            events = self.refuse(dispatcher, slot, parsed, failures)
        tracker.add_slots(events)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    def given(self, details: Details) -> dict[str, str]:
        """The flow's values among ``details``, by slot name."""
        values = {slot.name: slot.given(details) for slot in self.flow.slots}
        return {name: value for name, value in values.items() if value}

    def take(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: FormSlot, given: dict[str, str]
    ) -> list[EventType]:
        """Keep every value the message gave, whichever was asked: an answer, a value given ahead, or a
        correction of one given before (said once: "c'est corrigé"); what was given before stays."""
        failures = dict(tracker.get_slot(FAILURES_SLOT) or {})
        events: list[EventType] = []
        if requested.name in given:
            parsed = self.read(requested, tracker.latest_message.get("text") or "")
            if parsed.ok and parsed.value == given[requested.name] and parsed.note:
                respond(dispatcher, hint_response(parsed.note), **HINT_VARIABLES)
        previous = {name: tracker.get_slot(name) for name in given}
        for name, value in given.items():
            failures.pop(name, None)
            events.append(SlotSet(name, value))
        changed = [name for name, value in previous.items() if value and value != given[name]]
        if changed:
            respond(dispatcher, FORM_CORRECTED_RESPONSE)
        elif requested.name not in given:
            respond(dispatcher, FORM_NOTED_RESPONSE)
        return [*events, SlotSet(FAILURES_SLOT, failures or None)]

    def last_given(self, tracker: Tracker, requested: FormSlot) -> str | None:
        """The flow's slot filled last before the one asked now ("je me suis trompé" is about it)."""
        filled = {slot.name for slot in self.flow.slots if slot.name != requested.name and tracker.get_slot(slot.name)}
        for event in reversed(tracker.events):
            if event.get("event") == "slot" and event.get("name") in filled:
                return str(event["name"])
        return next((slot.name for slot in reversed(self.flow.slots) if slot.name in filled), None)

    @staticmethod
    def choice(slot: FormSlot, text: str) -> str | None:
        """The response for a person who would rather give the value another way, if they say so."""
        if any(char.isdigit() for char in text):
            return None
        return next((response for pattern, response in slot.choices if re.search(pattern, text, re.I)), None)

    def accept(
        self, dispatcher: CollectingDispatcher, slot: FormSlot, parsed: Parsed[Any], failures: dict[str, int]
    ) -> list[EventType]:
        """Keep a value read (and say its note, if any)."""
        if parsed.response:
            respond(dispatcher, parsed.response, **HINT_VARIABLES)
        failures.pop(slot.name, None)
        return [SlotSet(slot.name, parsed.value), SlotSet(FAILURES_SLOT, failures or None)]

    def refuse(
        self, dispatcher: CollectingDispatcher, slot: FormSlot, parsed: Parsed[Any], failures: dict[str, int]
    ) -> list[EventType]:
        """Say what was wrong with the answer; the hint asks again (the ask action then says nothing more)."""
        if parsed.response:
            respond(dispatcher, parsed.response, **HINT_VARIABLES)
        return [SlotSet(slot.name, None), SlotSet(FAILURES_SLOT, failures), SlotSet(FORM_PROMPTED_SLOT, bool(parsed.response))]

    def stop(self, dispatcher: CollectingDispatcher) -> list[EventType]:
        """The person asked to stop: say so once and forget the flow's values."""
        respond(dispatcher, FORM_STOPPED_RESPONSE)
        return [*clear_form_slots(), SlotSet(REQUESTED_SLOT, None)]

    def give_up(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Too many invalid answers: offer a person, record the handoff and forget the flow's values."""
        respond(dispatcher, FORM_TOO_MANY_FAILURES_RESPONSE)
        handoff = escalate(dispatcher, tracker, reason=HandoffReason.REPEATED_INVALID_INPUT, topic=self.flow.topic)
        return [*clear_form_slots(), *handoff, SlotSet(REQUESTED_SLOT, None)]

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if self.flow.needs_unlinked_web_account:
            account = web_account(tracker)
            if account is None or account.linked:
                return []
        return domain_slots

    async def activation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """At activation, keep what the first message or an earlier one already gave ("pas reçu le
        courriel à jean@...", card digits typed before the question): only what is missing is asked."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        events: list[EventType] = []
        if required and not is_retry(tracker):
            text = tracker.latest_message.get("text") or ""
            now = self.given(find_details(text, today()))
            before = self.given(remembered_details(tracker.get_slot))
            events = [SlotSet(name, now.get(name) or before[name]) for name in required if name in {**before, **now}]
        tracker.add_slots(events)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    async def get_validation_events(self, *args: Any, **kwargs: Any) -> list[EventType]:
        """No slot is filled outside `run`'s reading of a fresh answer, so nothing else to validate."""
        return []


class AskFormSlot(Action, ABC):
    """Ask for a form's slot on the right channel (the phone line may take the digits on the keypad).

    Says nothing when the validation already asked in its own words this turn (`FORM_PROMPTED_SLOT`),
    and "Reprenons :" before the question when the form comes back after another topic. A value the
    citizen gave that the slot vault no longer holds is asked again with why, once (`bot.forgotten`).
    """

    @property
    @abstractmethod
    def slot(self) -> FormSlot:
        """The slot asked for."""

    def name(self) -> str:
        return f"action_ask_{self.slot.name}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        prompted = tracker.get_slot(FORM_PROMPTED_SLOT)
        gone = forgotten(tracker.get_slot(FORM_GIVEN_SLOT), tracker.get_slot)
        if self.slot.name in gone:
            return self.ask_again(dispatcher, tracker, gone, prompted)
        if prompted:
            pass
        elif is_resuming(tracker):
            respond_together(dispatcher, tracker, [Line(FORM_RESUME_RESPONSE, {}), Line(self.slot.ask, {})], separator=" ")
        else:
            respond(dispatcher, self.slot.ask)
        if self.slot.keypad_digits and is_phone(tracker):
            dispatcher.utter_message(json_message={IVR_COLLECT_DIGITS_KEY: self.slot.keypad_digits})
        return [SlotSet(FORM_PROMPTED_SLOT, None)] if prompted else []

    def ask_again(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, gone: list[str], prompted: bool
    ) -> list[EventType]:
        """Say why a value given before is asked again, then ask; the receipt forgets it (said once)."""
        why = why_forgotten(tracker.events, time.time(), get_settings().personal_slot_ttl_seconds)
        respond_together(dispatcher, tracker, [Line(why.response, {}), Line(self.slot.ask, {})], separator=" ")
        if self.slot.keypad_digits and is_phone(tracker):
            dispatcher.utter_message(json_message={IVR_COLLECT_DIGITS_KEY: self.slot.keypad_digits})
        kept = [name for name in tracker.get_slot(FORM_GIVEN_SLOT) or [] if name not in gone]
        return [SlotSet(FORM_GIVEN_SLOT, kept or None), *([SlotSet(FORM_PROMPTED_SLOT, None)] if prompted else [])]


_FORM_TURN_ACTIONS = {"action_listen", "action_extract_slots"}


def is_resuming(tracker: Tracker) -> bool:
    """Whether the form asks again after answering another question asked while it waited."""
    form = tracker.active_loop_name
    user_seen = False
    answered_other = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            user_seen = True
            continue
        if not user_seen:
            name = str(event.get("name") or "")
            if kind == "action" and name not in _FORM_TURN_ACTIONS and name not in (form, f"validate_{form}"):
                answered_other = answered_other or not name.startswith("action_ask_")
            continue
        if kind == "active_loop":  # the form's state before the latest message
            return answered_other and event.get("name") == form
    return False


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _validation_action(flow: Flow) -> type[GuidedFormValidation]:
    """The validation action of a flow, ``Validate<Form>``."""
    name = f"Validate{_class_name(flow.form)}"
    return cast(type[GuidedFormValidation], ABCMeta(name, (GuidedFormValidation,), {"flow": flow, "__module__": __name__}))


def _ask_action(slot: FormSlot) -> type[AskFormSlot]:
    """The action that asks for a slot, ``Ask<Slot>``."""
    name = f"Ask{_class_name(slot.name.removeprefix('form_'))}"
    return cast(type[AskFormSlot], ABCMeta(name, (AskFormSlot,), {"slot": slot, "__module__": __name__}))


# One validation action per flow and one ask action per slot, registered by the action server like
# any Action subclass.
VALIDATIONS = {flow.form: _validation_action(flow) for flow in FLOWS}
ASKS = {slot.name: _ask_action(slot) for slot in dict.fromkeys(slot for flow in FLOWS for slot in flow.slots)}

ValidateLinkCardForm = VALIDATIONS["link_card_form"]
ValidateIdentifyForm = VALIDATIONS["identify_form"]
ValidateEmailForm = VALIDATIONS["email_form"]
AskCardDigits = ASKS["form_card_digits"]
AskBirthDateOrPhone = ASKS["form_birth_date_or_phone"]
AskEmail = ASKS["form_email"]

"""Profile, card expiry, amounts due and registrations: the data for an identified person, else where to find it."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import messages
from actions.common import (
    IDENTIFIED_FILE_SLOT,
    backend,
    clear_form_slots,
    directory,
    identified_file,
    is_phone,
    today,
    web_account,
)
from actions.escalation import escalate
from actions.forms import split_date_or_phone
from bot.backend.api import BackendError, BackendUnavailable, IdentifyOutcome
from bot.policy import dossier
from bot.session import PERSONAL_ANSWER, identification_value

OFFERED_SLOT = "identification_offered"
TOPIC_SLOT = "dossier_topic"


def dossier_answer(topic: str, file_id: int, spoken: bool) -> str:
    """The identified person's data for ``topic``."""
    accounts = backend()
    if topic == "card_expiry":
        soon_before = directory().next_registration_date
        expiries = accounts.card_expiries(file_id, today(), soon_before)
        return dossier.card_expiries_text(expiries, soon_before, spoken)
    if topic == "amount_due":
        return dossier.amounts_due_text(accounts.amounts_due(file_id), spoken)
    if topic == "registrations":
        return dossier.registrations_text(accounts.registrations(file_id), spoken)
    profile = accounts.profile(file_id)
    if profile is None:
        return "Je ne trouve pas votre dossier. Le centre d'appels peut vérifier avec vous."
    return dossier.profile_text(profile, spoken)


def answer_or_apologise(
    dispatcher: CollectingDispatcher, tracker: Tracker, topic: str, file_id: int
) -> list[EventType]:
    """Say the dossier data, or that the account system is unavailable (and how to reach a person)."""
    try:
        # The identified person's data: stored redacted in the tracker store (bot/session.py).
        dispatcher.utter_message(text=dossier_answer(topic, file_id, is_phone(tracker)), **PERSONAL_ANSWER)
    except BackendError as error:
        dispatcher.utter_message(text=error.message)
        if isinstance(error, BackendUnavailable):
            return escalate(dispatcher, tracker, "backend_unavailable", f"ask_{topic}")
    return []


class DossierAction(Action, ABC):
    """After the guide's answer (where to see it in Mon profil): the data when identified, else an offer."""

    @property
    @abstractmethod
    def topic(self) -> str:
        """``card_expiry``, ``profile``, ``amount_due`` or ``registrations``."""

    def name(self) -> str:
        return f"action_{self.topic}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        file_id = identified_file(tracker)
        if file_id is not None:
            return [SlotSet(OFFERED_SLOT, False), *answer_or_apologise(dispatcher, tracker, self.topic, file_id)]
        if web_account(tracker) is not None:
            messages.DOSSIER_NOT_LINKED.send(dispatcher, tracker)
            return [SlotSet(OFFERED_SLOT, False)]
        messages.OFFER_IDENTIFICATION.send(dispatcher, tracker)
        return [SlotSet(OFFERED_SLOT, True), SlotSet(TOPIC_SLOT, self.topic)]


class ActionCardExpiry(DossierAction):
    topic = "card_expiry"


class ActionProfile(DossierAction):
    topic = "profile"


class ActionAmountDue(DossierAction):
    topic = "amount_due"


class ActionRegistrations(DossierAction):
    topic = "registrations"


class ActionIdentifySubmit(Action):
    """After the identification form: identify the caller, then answer the question they asked."""

    def name(self) -> str:
        return "action_identify_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        done = [*clear_form_slots(), SlotSet(OFFERED_SLOT, False)]
        digits = tracker.get_slot("form_card_digits")
        birth_date, home_phone = split_date_or_phone(tracker.get_slot("form_birth_date_or_phone") or "")
        if not digits or not (birth_date or home_phone):
            return done  # the person stopped the form; the form already answered
        try:
            result = backend().identify(
                digits, birth_date=birth_date, home_phone=home_phone, conversation_id=tracker.sender_id
            )
        except BackendUnavailable as error:
            dispatcher.utter_message(text=error.message)
            return [*done, *escalate(dispatcher, tracker, "backend_unavailable", "identify")]
        except BackendError as error:
            dispatcher.utter_message(text=error.message)
            return done
        if result.outcome is IdentifyOutcome.MISMATCH:
            messages.IDENTIFY_MISMATCH.send(dispatcher, tracker)
            return [*clear_form_slots(), FollowupAction("identify_form")]
        if result.outcome is IdentifyOutcome.LOCKED:
            messages.IDENTIFY_LOCKED.send(dispatcher, tracker)
            return [*done, *escalate(dispatcher, tracker, "locked", "identify")]
        messages.IDENTIFIED.send(dispatcher, tracker)
        topic = tracker.get_slot(TOPIC_SLOT) or "profile"
        return [
            *done,
            SlotSet(IDENTIFIED_FILE_SLOT, identification_value(tracker, result.file_id)),
            SlotSet(TOPIC_SLOT, None),
            *answer_or_apologise(dispatcher, tracker, topic, result.file_id),
        ]


class ActionIdentificationDeclined(Action):
    """The person does not want to identify: fine, nothing personal is said."""

    def name(self) -> str:
        return "action_identification_declined"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        messages.IDENTIFICATION_DECLINED.send(dispatcher, tracker)
        return [SlotSet(OFFERED_SLOT, False), SlotSet(TOPIC_SLOT, None)]

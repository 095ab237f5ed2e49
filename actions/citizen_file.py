"""Profile, card expiry, amounts due and registrations: the data for an identified person, else where to find it."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    IDENTIFIED_FILE_SLOT,
    Line,
    backend,
    clear_form_slots,
    directory,
    identified_file,
    respond,
    respond_together,
    today,
    web_account,
)
from actions.escalation import escalate
from actions.forms import split_date_or_phone
from bot import citizen_file
from bot.backend.api import BackendError, BackendUnavailable, IdentifyOutcome
from bot.contract import IDENTIFY, HandoffReason, remembered_details
from bot.session import identification_value

OFFERED_SLOT = "identification_offered"
PROFILE_OFFERED_SLOT = "profile_activation_offered"  # "Voulez-vous activer votre profil maintenant?"
TOPIC_SLOT = "dossier_topic"


def file_answer(topic: str, file_id: int) -> list[citizen_file.Part]:
    """The identified person's data for ``topic``, as the parts of the answer."""
    accounts = backend()
    if topic == "card_expiry":
        soon_before = directory().next_registration_date
        return citizen_file.card_expiries(accounts.card_expiries(file_id, today(), soon_before), soon_before)
    if topic == "amount_due":
        return citizen_file.amounts_due(accounts.amounts_due(file_id))
    if topic == "registrations":
        return citizen_file.registrations(accounts.registrations(file_id))
    person = accounts.profile(file_id)
    if person is None:
        return [citizen_file.Part("not_found")]
    return citizen_file.profile(person)


def answer_or_apologise(
    dispatcher: CollectingDispatcher, tracker: Tracker, topic: str, file_id: int
) -> list[EventType]:
    """Say the dossier data, or that the account system is unavailable (and how to reach a person)."""
    try:
        parts = file_answer(topic, file_id)
    except BackendError as error:
        respond(dispatcher, error.code.response)
        if isinstance(error, BackendUnavailable):
            return escalate(dispatcher, tracker, HandoffReason.BACKEND_UNAVAILABLE, f"ask_{topic}")
        return []
    # One message, as a list reads; the identified person's data: stored redacted (bot/session.py).
    lines = [Line(f"utter_dossier_{part.code}", dict(part.values)) for part in parts]
    respond_together(dispatcher, tracker, lines, personal=True)
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
            respond(dispatcher, "utter_dossier_not_linked")
            return [SlotSet(OFFERED_SLOT, False), SlotSet(PROFILE_OFFERED_SLOT, True)]
        given = remembered_details(tracker.get_slot)
        if tracker.get_slot(OFFERED_SLOT) or given.card or given.date_or_phone:
            # The offer was pending and the person asks again, or they already gave their card or
            # birth date: the identification starts at once with what they gave (actions/forms.py).
            return [SlotSet(OFFERED_SLOT, False), SlotSet(TOPIC_SLOT, self.topic), FollowupAction(IDENTIFY.form)]
        respond(dispatcher, "utter_offer_identification")
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
            respond(dispatcher, error.code.response)
            return [*done, *escalate(dispatcher, tracker, HandoffReason.BACKEND_UNAVAILABLE, "identify")]
        except BackendError as error:
            respond(dispatcher, error.code.response)
            return done
        if result.outcome is IdentifyOutcome.MISMATCH:
            respond(dispatcher, "utter_identify_mismatch")
            return [*clear_form_slots(), FollowupAction(IDENTIFY.form)]
        if result.outcome is IdentifyOutcome.LOCKED:
            respond(dispatcher, "utter_identify_locked")
            return [*done, *escalate(dispatcher, tracker, HandoffReason.LOCKED, "identify")]
        file_id = result.file_id
        if file_id is None:  # IDENTIFIED always carries the file (bot.backend.api.IdentifyResult)
            raise ValueError("an identification without a citizen file")
        respond(dispatcher, "utter_identified")
        topic = tracker.get_slot(TOPIC_SLOT) or "profile"
        return [
            *done,
            SlotSet(IDENTIFIED_FILE_SLOT, identification_value(tracker, file_id)),
            SlotSet(TOPIC_SLOT, None),
            *answer_or_apologise(dispatcher, tracker, topic, file_id),
        ]


class ActionIdentificationDeclined(Action):
    """The person does not want to identify, or to activate their profile now: fine, nothing personal is said."""

    def name(self) -> str:
        return "action_identification_declined"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        respond(dispatcher, "utter_ok")
        return [SlotSet(OFFERED_SLOT, False), SlotSet(PROFILE_OFFERED_SLOT, False), SlotSet(TOPIC_SLOT, None)]

"""Card linking ("Activer mon profil"): link the logged-in person's account to their file at the City."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.citizen_file import PROFILE_OFFERED_SLOT
from actions.common import backend, clear_form_slots, respond, web_account
from actions.escalation import escalate
from actions.forms import split_date_or_phone
from bot.backend.api import BackendError, BackendUnavailable, LinkResult
from bot.contract import ANOTHER_TRY_SLOT, CARD_TRY, HandoffReason

# The response that says each outcome.
OUTCOMES = {
    LinkResult.LINKED: "utter_card_linked",
    LinkResult.ALREADY_LINKED: "utter_card_already_linked",
    LinkResult.MISMATCH: "utter_card_mismatch",
    LinkResult.LOCKED: "utter_card_locked",
    LinkResult.NOT_ADULT: "utter_card_not_adult",
    LinkResult.NO_SUCH_ACCOUNT: "utter_card_no_account",
    LinkResult.CARD_IN_USE: "utter_card_in_use",
}


class ActionLinkCardSubmit(Action):
    """After the card-linking form: call the backend and say the outcome."""

    def name(self) -> str:
        return "action_link_card_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return [SlotSet(PROFILE_OFFERED_SLOT, False), *self.link(dispatcher, tracker)]

    def link(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Link the card when the form got its values; say the outcome."""
        account = web_account(tracker)
        if account is None or account.account_id is None:
            respond(dispatcher, "utter_link_needs_login")
            return clear_form_slots(keep_details=True)  # nothing was asked: the details may serve another flow
        if account.linked:
            respond(dispatcher, OUTCOMES[LinkResult.ALREADY_LINKED])
            return clear_form_slots(keep_details=True)
        digits = tracker.get_slot("form_card_digits")
        birth_date, home_phone = split_date_or_phone(tracker.get_slot("form_birth_date_or_phone") or "")
        if not digits or not (birth_date or home_phone):
            return clear_form_slots()  # the person stopped the form, which already answered
        try:
            result = backend().link_card(
                account.account_id,
                digits,
                birth_date=birth_date,
                home_phone=home_phone,
                conversation_id=tracker.sender_id,
            )
        except BackendUnavailable as error:
            respond(dispatcher, error.code.response)
            return [*clear_form_slots(), *escalate(dispatcher, tracker, HandoffReason.BACKEND_UNAVAILABLE, "link_card")]
        except BackendError as error:
            respond(dispatcher, error.code.response)
            return clear_form_slots()
        respond(dispatcher, OUTCOMES[result])
        if result is LinkResult.MISMATCH:
            return [*clear_form_slots(), FollowupAction("link_card_form")]
        if result is LinkResult.LOCKED:
            return [*clear_form_slots(), *escalate(dispatcher, tracker, HandoffReason.LOCKED, "link_card")]
        if result is LinkResult.NOT_ADULT:  # the adult's card is asked: its digits in the next message link it
            return [*clear_form_slots(), SlotSet(ANOTHER_TRY_SLOT, CARD_TRY.restart)]
        return clear_form_slots()

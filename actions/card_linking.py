"""Card linking ("Activer mon profil"): link the logged-in person's account to their file at the City."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions import messages
from actions.common import backend, clear_form_slots, web_account
from actions.escalation import escalate
from actions.forms import split_date_or_phone
from bot.backend.api import BackendError, BackendUnavailable, LinkResult

OUTCOMES = {
    LinkResult.LINKED: messages.CARD_LINKED,
    LinkResult.ALREADY_LINKED: messages.CARD_ALREADY_LINKED,
    LinkResult.MISMATCH: messages.CARD_MISMATCH,
    LinkResult.LOCKED: messages.CARD_LOCKED,
    LinkResult.NOT_ADULT: messages.CARD_NOT_ADULT,
    LinkResult.NO_SUCH_ACCOUNT: messages.CARD_NO_ACCOUNT,
    LinkResult.CARD_IN_USE: messages.CARD_IN_USE,
}


class ActionLinkCardSubmit(Action):
    """After the card-linking form: call the backend and say the outcome."""

    def name(self) -> str:
        return "action_link_card_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        account = web_account(tracker)
        if account is None:
            messages.LINK_NEEDS_LOGIN.send(dispatcher, tracker)
            return clear_form_slots()
        if account.linked:
            messages.CARD_ALREADY_LINKED.send(dispatcher, tracker)
            return clear_form_slots()
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
            dispatcher.utter_message(text=error.message)
            return [*clear_form_slots(), *escalate(dispatcher, tracker, "backend_unavailable", "link_card")]
        except BackendError as error:
            dispatcher.utter_message(text=error.message)
            return clear_form_slots()
        OUTCOMES[result].send(dispatcher, tracker)
        if result is LinkResult.MISMATCH:
            return [*clear_form_slots(), FollowupAction("link_card_form")]
        if result is LinkResult.LOCKED:
            return [*clear_form_slots(), *escalate(dispatcher, tracker, "locked", "link_card")]
        return clear_form_slots()

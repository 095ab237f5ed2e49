"""The confirmation email that did not arrive: what to do for each state of the account."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import backend, clear_form_slots, respond
from actions.escalation import escalate
from bot.backend.api import AccountState, BackendError, BackendUnavailable, ResendResult
from bot.contract import ANOTHER_TRY_SLOT, EMAIL_TRY, HandoffReason

# The response that says each outcome.
OUTCOMES = {
    ResendResult.SENT: "utter_confirmation_resent",
    ResendResult.RATE_LIMITED: "utter_confirmation_rate_limited",
    ResendResult.ALREADY_CONFIRMED: "utter_email_already_confirmed",
    ResendResult.NO_ACCOUNT: "utter_email_no_account",
}
# The guide's static answer that follows, when there is one.
FOLLOW_UPS = {ResendResult.NO_ACCOUNT: "utter_create_account", ResendResult.ALREADY_CONFIRMED: "utter_login"}
# Outcomes where the address given may not be the account's: another address in the next message is
# checked at once (bot/another_try.py).
ANOTHER_TRY_OUTCOMES = {ResendResult.NO_ACCOUNT, ResendResult.ALREADY_CONFIRMED}


class ActionEmailConfirmationSubmit(Action):
    """After the email form: no account (how to create one), unconfirmed (re-send), or confirmed (log in)."""

    def name(self) -> str:
        return "action_email_confirmation_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        email = tracker.get_slot("form_email")
        if not email:
            return clear_form_slots()  # the person stopped the form, which already answered
        try:
            status = backend().account_status(email)
            if status.state is AccountState.UNCONFIRMED:
                result = backend().resend_confirmation(email)
            elif status.state is AccountState.CONFIRMED:
                result = ResendResult.ALREADY_CONFIRMED
            else:
                result = ResendResult.NO_ACCOUNT
        except BackendUnavailable as error:
            respond(dispatcher, error.code.response)
            return [*clear_form_slots(), *escalate(dispatcher, tracker, HandoffReason.BACKEND_UNAVAILABLE)]
        except BackendError as error:
            respond(dispatcher, error.code.response)
            return clear_form_slots()
        respond(dispatcher, OUTCOMES[result])
        if result in FOLLOW_UPS:
            dispatcher.utter_message(response=FOLLOW_UPS[result])
        if result in ANOTHER_TRY_OUTCOMES:
            return [*clear_form_slots(), SlotSet(ANOTHER_TRY_SLOT, EMAIL_TRY.restart)]
        return clear_form_slots()

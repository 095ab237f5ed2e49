"""The confirmation email that did not arrive: what to do for each state of the account."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import messages
from actions.common import backend, clear_form_slots
from actions.escalation import escalate
from bot.backend.api import AccountState, BackendError, BackendUnavailable, ResendResult

OUTCOMES = {
    ResendResult.SENT: messages.CONFIRMATION_RESENT,
    ResendResult.RATE_LIMITED: messages.CONFIRMATION_RATE_LIMITED,
    ResendResult.ALREADY_CONFIRMED: messages.EMAIL_ALREADY_CONFIRMED,
    ResendResult.NO_ACCOUNT: messages.EMAIL_NO_ACCOUNT,
}
# The guide's static answer that follows, when there is one.
FOLLOW_UPS = {ResendResult.NO_ACCOUNT: "utter_create_account", ResendResult.ALREADY_CONFIRMED: "utter_login"}


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
            dispatcher.utter_message(text=error.message)
            return [*clear_form_slots(), *escalate(dispatcher, tracker, "backend_unavailable")]
        except BackendError as error:
            dispatcher.utter_message(text=error.message)
            return clear_form_slots()
        OUTCOMES[result].send(dispatcher, tracker)
        if result in FOLLOW_UPS:
            dispatcher.utter_message(response=FOLLOW_UPS[result])
        return clear_form_slots()

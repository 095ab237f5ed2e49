"""What every action needs: who is asking, on which channel, today's date, and how to reply."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.backend.api import AccountBackend, AccountState, AccountStatus
from bot.backend.factory import get_backend
from bot.channels.responses import fill, project_responses, response_text
from bot.contact import ContactDirectory, get_directory
from bot.contract import DETAIL_SLOTS, form_slots
from bot.identity import identity_from_metadata
from bot.session import PERSONAL_ANSWER, identified_file_id

IVR_CHANNEL = "ivr"
IDENTIFIED_FILE_SLOT = "identified_file_id"
FORM_SLOTS = form_slots()  # every guided flow's slots and its failure counter (bot.contract)


def backend() -> AccountBackend:
    """The account backend of the settings."""
    return get_backend()


def directory() -> ContactDirectory:
    """The call-centre directory of the settings."""
    return get_directory()


def now() -> datetime:
    """The current time in the city's time zone."""
    return directory().now()


def today() -> date:
    """Today's date in the city's time zone."""
    return now().date()


def is_phone(tracker: Tracker) -> bool:
    """Whether the conversation happens on the phone line (replies are spoken)."""
    return tracker.get_latest_input_channel() == IVR_CHANNEL


def web_account(tracker: Tracker) -> AccountStatus | None:
    """The online account proven by the portal's signed token in the latest message, if any."""
    identity = identity_from_metadata((tracker.latest_message or {}).get("metadata"))
    if identity is None:
        return None
    status = backend().account(identity.account_id)
    return None if status.state is AccountState.NONE else status


def identified_file(tracker: Tracker) -> int | None:
    """The citizen file of the person asking: from a linked web account, or identified on the phone."""
    account = web_account(tracker)
    if account is not None and account.linked and account.file_id is not None:
        return account.file_id
    # Bound to the client that identified and ended by idle time (bot/session.py).
    return identified_file_id(tracker)


def clear_form_slots(*, keep_details: bool = False) -> list[EventType]:
    """Forget every value a guided form collected (personal data is kept no longer than needed).

    ``keep_details``: a flow that ended before it could use them (the portal login it needs is missing)
    keeps the details given in the conversation for the next flow (`bot.contract.DETAIL_SLOTS`).
    """
    return [SlotSet(slot, None) for slot in FORM_SLOTS if not (keep_details and slot in DETAIL_SLOTS)]


def respond(dispatcher: CollectingDispatcher, response: str, **variables: Any) -> None:
    """Say a response of domain.yml, filled with ``variables``.

    Every sentence a citizen reads or hears is a domain response: Rasa chooses its ``channel: ivr``
    variant on the phone line. The contact facts of the configuration are always available to the
    text as ``{call_centre}`` (the call centre's number and extension, written to be read and said).
    """
    variables.setdefault("call_centre", directory().call_centre.spoken)
    dispatcher.utter_message(response=response, **variables)


class Line(NamedTuple):
    """A response of domain.yml, the variables that fill it, and whether it is an item of a list on the web."""

    response: str
    variables: dict[str, Any]
    bullet: bool = False


def respond_together(
    dispatcher: CollectingDispatcher, tracker: Tracker, lines: Sequence[Line], *, separator: str | None = None,
    personal: bool = False,
) -> None:
    """Say several responses as ONE message, as a list reads: a line each on the web (items behind
    "- "), one sentence after the other on the phone line (or ``separator`` between them on both).

    The texts are the domain's responses (their ``channel: ivr`` variant on the phone line), filled
    here with their variables. ``personal``: the message holds an identified person's data, and the
    tracker store keeps it only as a placeholder (`bot.session.PERSONAL_ANSWER`).
    """
    if not lines:
        return
    spoken = is_phone(tracker)
    contact = {"call_centre": directory().call_centre.spoken}
    texts = []
    for line in lines:
        text = fill(response_text(project_responses(), line.response, IVR_CHANNEL if spoken else None),
                    {**contact, **line.variables}).strip()
        texts.append(f"- {text}" if line.bullet and not spoken and not text.startswith("- ") else text)
    joiner = separator if separator is not None else (" " if spoken else "\n")
    dispatcher.utter_message(text=joiner.join(texts), **(PERSONAL_ANSWER if personal else {}))

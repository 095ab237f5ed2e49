"""Handing a conversation to a person: the one decision of the phone transfer, and the phone channel's request.

Every handoff goes through the escalation action (``actions/escalation.py``), whoever triggers it: the
citizen asking for a person, two misunderstandings, a guided form that fails or is locked, the account
system down, and the phone channel after a second silence or a third unclear turn. The action records
the handoff (the ``HANDOFF_*`` slots of `bot.contract`, read by the help-desk report) and, on the phone
line, transfers the call when `phone_transfer` says a person can take it.

The phone channel (``bot/channels/ivr.py``) does not transfer on its own: it sends Rasa the message of
`handoff_request`, the intent ``phone_handoff`` with the reason in the message's metadata, and a rule
runs the escalation action.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.contact import ContactDirectory
from bot.contract import IVR_TRANSFER_KEY, HandoffReason

PHONE_HANDOFF_INTENT = "phone_handoff"
REASON_METADATA_KEY = "phone_handoff_reason"
CHANNEL_REASONS = frozenset({HandoffReason.UNCLEAR_SPEECH, HandoffReason.SILENCE})


def phone_transfer(directory: ContactDirectory, now: datetime) -> dict[str, Any] | None:
    """The phone transfer (``{IVR_TRANSFER_KEY: {"number", "extension"?}}``) when a person can take the call.

    None when the call centre is known to be closed at ``now`` and no registration evening is on: the
    caller then hears every way to reach a person instead. While the city has not configured opening
    hours, nothing is known to be closed, so the call is transferred. During a registration evening the
    transfer goes to the evening line.
    """
    if directory.open_now(now) is False and not directory.is_registration_evening_now(now):
        return None
    instruction = directory.transfer_instruction(now)
    return {IVR_TRANSFER_KEY: instruction[IVR_TRANSFER_KEY]}


@dataclass(frozen=True)
class HandoffRequest:
    """The message the phone channel sends Rasa to hand the caller to a person."""

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def handoff_request(reason: HandoffReason) -> HandoffRequest:
    """The intent payload (``/phone_handoff``) and metadata naming ``reason``, one of `CHANNEL_REASONS`."""
    if reason not in CHANNEL_REASONS:
        raise ValueError(f"the phone channel does not hand off for {reason!r}")
    return HandoffRequest(f"/{PHONE_HANDOFF_INTENT}", {REASON_METADATA_KEY: reason.value})


def requested_reason(metadata: Mapping[str, Any] | None, on_the_phone: bool) -> HandoffReason | None:
    """The reason the phone channel gave with its handoff request; None when it did not make one.

    Only a message of the phone line counts: a web client that types ``/phone_handoff`` itself, with
    whatever metadata, is read as someone asking for a person.
    """
    if not on_the_phone or not isinstance(metadata, Mapping):
        return None
    try:
        reason = HandoffReason(metadata.get(REASON_METADATA_KEY))
    except ValueError:
        return None
    return reason if reason in CHANNEL_REASONS else None

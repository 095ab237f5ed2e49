"""Values a citizen gave to a guided form that the slot vault no longer holds, and why.

The tracker store keeps a personal slot as its placeholder and its real value only in the slot vault
(`bot.tracker_store`), for ``BOT_PERSONAL_SLOT_TTL_SECONDS`` after the conversation's last value; a
value the vault no longer has reads empty. A half-filled form would then ask again without a word (the
card digits given, the birth date asked: the digits are asked again) or act as if it was never given.

So the forms keep a receipt, the slot ``form_given`` (`bot.contract.FORM_GIVEN_SLOT`): the names, never
the values, of the flow slots the citizen gave, stored in clear (`receipt_after`). A name in the receipt
whose slot reads empty is a value the vault forgot (`forgotten`); the form's question for it starts
with why, once (`actions/forms.py`), and the form goes on.

Why (`why_forgotten`), from the receipt's own history: the vault's expiry runs from the last value the
conversation gave (each one renews it), so

- ``expired``: the last value given to a form before this message is older than the vault's time to
  live: the normal expiry, for the citizen's privacy;
- ``lost``: it is younger: the vault lost it (Redis restarted or unreachable, a Rasa instance restarted
  with the in-process vault).

A value given outside a form (card digits typed with a question) renews the expiry too but is not in the
receipt, so a loss soon after such a value can read as an expiry. Either wording stays true: the value
is gone, the assistant does not keep personal data long, and it asks again.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from typing import Any

from bot.contract import (
    FLOWS,
    FORM_GIVEN_SLOT,
    FORM_VALUES_EXPIRED_RESPONSE,
    FORM_VALUES_LOST_RESPONSE,
)

FLOW_SLOTS = frozenset(slot.name for flow in FLOWS for slot in flow.slots)


class Forgotten(str, Enum):
    """Why a value given to a form is gone."""

    EXPIRED = "expired"
    LOST = "lost"

    @property
    def response(self) -> str:
        """The domain response that says it, before the question asked again."""
        return FORM_VALUES_EXPIRED_RESPONSE if self is Forgotten.EXPIRED else FORM_VALUES_LOST_RESPONSE


def _slot_events(events: Iterable[Mapping[str, Any]], name: str | None = None) -> Iterable[Mapping[str, Any]]:
    return (e for e in events if e.get("event") == "slot" and (name is None or e.get("name") == name))


def receipt_after(given: Sequence[str] | None, events: Iterable[Mapping[str, Any]]) -> list[str] | None:
    """The receipt once ``events`` (an action's) are applied: a flow slot given a value is added, one set
    to empty removed; an event that sets the receipt itself wins. None when it holds no name."""
    names = list(given or [])
    for event in _slot_events(events):
        name = event.get("name")
        if name == FORM_GIVEN_SLOT:
            names = list(event.get("value") or [])
        elif name in FLOW_SLOTS and event.get("value") is None:
            names = [n for n in names if n != name]
        elif name in FLOW_SLOTS and name not in names:
            names.append(str(name))
    return names or None


def forgotten(given: Sequence[str] | None, get_slot: Callable[[str], Any]) -> list[str]:
    """The names of the receipt whose slot reads empty: values the slot vault no longer holds."""
    return [name for name in given or [] if name in FLOW_SLOTS and not get_slot(name)]


def _before_latest_message(events: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            return events[:index]
    return events


def last_given_at(events: Sequence[Mapping[str, Any]]) -> float | None:
    """When a value was last given to a form before the latest message (a name added to the receipt)."""
    previous: set[str] = set()
    moment = None
    for event in _slot_events(_before_latest_message(events), FORM_GIVEN_SLOT):
        names = set(event.get("value") or [])
        if names - previous and event.get("timestamp") is not None:
            moment = float(event["timestamp"])
        previous = names
    return moment


def why_forgotten(events: Sequence[Mapping[str, Any]], now: float, ttl_seconds: float) -> Forgotten:
    """`Forgotten.EXPIRED` when the last value given is older than the vault's time to live, else LOST."""
    given_at = last_given_at(events)
    return Forgotten.EXPIRED if given_at is None or now - given_at >= ttl_seconds else Forgotten.LOST

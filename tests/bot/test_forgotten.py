"""Values given to a form that the slot vault no longer holds (bot/forgotten.py): the receipt, what is gone, why."""
from __future__ import annotations

import pytest

from bot.contract import FORM_GIVEN_SLOT
from bot.forgotten import Forgotten, forgotten, last_given_at, receipt_after, why_forgotten
from bot.tracker_store import InMemorySlotVault, RedactingSQLTrackerStore

CARD, SECOND = "form_card_digits", "form_birth_date_or_phone"
TTL = 900


def slot(name: str, value: object, at: float | None = None) -> dict:
    return {"event": "slot", "name": name, "value": value, **({"timestamp": at} if at is not None else {})}


def user(at: float) -> dict:
    return {"event": "user", "text": "…", "timestamp": at}


def test_the_receipt_names_what_the_citizen_gave_and_forgets_what_is_cleared():
    assert receipt_after(None, [slot(CARD, "123456")]) == [CARD]
    assert receipt_after([CARD], [slot(SECOND, "date:1985-03-12"), slot("form_failures", None)]) == [CARD, SECOND]
    assert receipt_after([CARD, SECOND], [slot(CARD, None)]) == [SECOND]  # "je me suis trompé", a refusal
    assert receipt_after([CARD], [slot(CARD, None)]) is None
    assert receipt_after([CARD], [slot("card_digits", "123456"), slot("requested_slot", SECOND)]) == [CARD]
    assert receipt_after([CARD], [slot(FORM_GIVEN_SLOT, None)]) is None  # a flow's end clears it


def test_a_name_whose_slot_reads_empty_was_forgotten():
    slots = {CARD: None, SECOND: "date:1985-03-12"}
    assert forgotten([CARD, SECOND], slots.get) == [CARD]
    assert forgotten(None, slots.get) == []
    assert forgotten(["handoff_reason"], slots.get) == []  # not a form's value


def history(given_at: float, now: float) -> list[dict]:
    """The card digits given at ``given_at``, then the latest message at ``now`` (the current turn after it)."""
    return [user(given_at - 1), slot(CARD, None, given_at), slot(FORM_GIVEN_SLOT, [CARD], given_at),
            user(now), slot(SECOND, "date:1985-03-12", now + 0.1), slot(FORM_GIVEN_SLOT, [CARD, SECOND], now + 0.1)]


def test_the_last_value_given_is_read_before_the_latest_message():
    assert last_given_at(history(1000.0, 1060.0)) == 1000.0
    removed_only = [*history(1000.0, 1060.0)[:3], slot(FORM_GIVEN_SLOT, None, 1030.0), user(1060.0)]
    assert last_given_at(removed_only) == 1000.0  # a name removed is no value given


@pytest.mark.parametrize(("given_at", "now", "why"), [
    (1000.0, 1060.0, Forgotten.LOST),  # a minute later: the vault still had to hold it
    (1000.0, 1000.0 + TTL + 5, Forgotten.EXPIRED),  # past the vault's time to live
])
def test_why_a_value_is_gone(given_at, now, why):
    assert why_forgotten(history(given_at, now), now + 0.2, TTL) is why
    assert why.response in {"utter_form_values_lost", "utter_form_values_expired"}


async def test_after_the_vault_lost_its_values_the_receipt_still_names_them(tmp_path):
    """With the real redacting tracker store: the receipt is stored in clear, the value in the vault only."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.settings import PROJECT_ROOT

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    vault = InMemorySlotVault(ttl_seconds=TTL)
    store = RedactingSQLTrackerStore(domain=domain, host=f"sqlite:///{tmp_path / 'tracker.db'}", slot_vault=vault)
    tracker = DialogueStateTracker.from_events("lost-1", [
        ActionExecuted("action_listen"), UserUttered("123 456", {"name": "inform", "confidence": 1.0}),
        SlotSet(CARD, "123456"), SlotSet(FORM_GIVEN_SLOT, [CARD]),
    ], slots=domain.slots)
    await store.save(tracker)
    vault.forget("lost-1")  # what a Redis restart does
    restored = await store.retrieve("lost-1")
    assert restored is not None
    assert restored.get_slot(CARD) is None
    assert restored.get_slot(FORM_GIVEN_SLOT) == [CARD]
    assert forgotten(restored.get_slot(FORM_GIVEN_SLOT), restored.get_slot) == [CARD]
    store.engine.dispose()

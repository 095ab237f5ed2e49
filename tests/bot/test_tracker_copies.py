"""A tracker's copy from a replay kept with it (bot/tracker_copies.py) is the copy Rasa's replay makes."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    FollowupAction,
    Restarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_compat, tracker_copies
from bot.settings import PROJECT_ROOT
from bot.tools.evaluation import trained_model
from tests.bot.test_graph_runner import conversations


def rasas_copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    return tracker.travel_back_in_time(float("inf"))  # what Rasa's copy is


def assert_same(ours: DialogueStateTracker, theirs: DialogueStateTracker) -> None:
    """Same attributes; the same event objects where Rasa's replay holds events, equal values elsewhere."""
    assert type(ours) is type(theirs) and set(vars(ours)) == set(vars(theirs))
    events = {id(event) for event in theirs.events}
    assert [id(event) for event in ours.events] == [id(event) for event in theirs.events]
    assert ours.slots.keys() == theirs.slots.keys()
    for name, slot in ours.slots.items():
        other = theirs.slots[name]
        assert type(slot) is type(other) and vars(slot) == vars(other), name
        assert slot.value is other.value or slot.value == other.value, name
    for name in ("latest_message", "latest_bot_utterance"):
        mine, rasas = getattr(ours, name), getattr(theirs, name)
        assert mine is rasas if id(rasas) in events else (id(mine) not in events and mine == rasas), name
    for name, value in vars(theirs).items():
        if name not in ("events", "slots", "latest_message", "latest_bot_utterance"):
            assert getattr(ours, name) == value, name


def assert_own_parts(copy: DialogueStateTracker, original: DialogueStateTracker) -> None:
    """What a caller may change on a copy is its own: the deque, the slots, the loop, the latest action."""
    assert copy.events is not original.events
    assert all(copy.slots[name] is not slot for name, slot in original.slots.items())
    assert copy.active_loop is None or copy.active_loop is not original.active_loop
    assert copy.latest_action is None or copy.latest_action is not original.latest_action


@pytest.fixture(scope="module")
def agent() -> Agent:
    assert rasa_compat.apply()
    return Agent.load(str(PROJECT_ROOT / trained_model()))


def test_every_copy_the_processor_makes_in_the_test_conversations_is_rasas(agent):
    assert DialogueStateTracker.copy is tracker_copies.copy_tracker
    counts = {"copies": 0, "from_a_kept_replay": 0}

    def checked(self: DialogueStateTracker) -> DialogueStateTracker:
        kept = tracker_copies._kept.get(self)
        counts["from_a_kept_replay"] += kept is not None and bool(kept.events)
        theirs = rasas_copy(self)
        ours = tracker_copies.copy_tracker(self)
        assert_same(ours, theirs)
        assert_own_parts(ours, self)
        counts["copies"] += 1
        return ours

    async def play() -> None:
        for number, texts in enumerate(conversations()):
            for text in texts:
                await agent.handle_text(text, sender_id=f"copies-{number}")

    DialogueStateTracker.copy = checked  # type: ignore[method-assign]
    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, play()).result()
    finally:
        DialogueStateTracker.copy = tracker_copies.copy_tracker  # type: ignore[method-assign]
    assert counts["copies"] >= 900 and counts["from_a_kept_replay"] >= 500, counts


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def listen() -> ActionExecuted:
    return ActionExecuted("action_listen")


def user(intent: str) -> UserUttered:
    return UserUttered(intent, {"name": intent, "confidence": 1.0})


def test_changing_a_copy_changes_neither_the_tracker_nor_its_next_copies(domain):
    tracker = DialogueStateTracker.from_events("lucie", [listen(), user("greet")], domain.slots)
    first = tracker.copy()
    for event in (ActionExecuted("identify_form"), ActiveLoop("identify_form"), SlotSet("card_digits", "123456"),
                  ActionExecutionRejected("identify_form"), FollowupAction("action_listen"), BotUttered("Bonjour")):
        first.update(event)
    first.latest_action["action_name"] = "changed in place"  # type: ignore[index]
    first.latest_message.parse_data["text"] = "changed in place"
    assert_same(tracker.copy(), rasas_copy(tracker))
    for event in (ActionExecuted("identify_form"), ActiveLoop("identify_form"), listen(), user("affirm")):
        tracker.update(event)
        second = tracker.copy()
        assert_same(second, rasas_copy(tracker))
        assert_own_parts(second, tracker)
        if second.active_loop is not None:
            second.active_loop.is_interrupted = True  # in place, as LoopInterrupted does
    assert_same(tracker.copy(), rasas_copy(tracker))
    assert not tracker.copy().active_loop.is_interrupted  # type: ignore[union-attr]


def test_a_restart_gives_each_copy_its_own_empty_latest_message(domain):
    tracker = DialogueStateTracker.from_events("paul", [listen(), user("greet"), BotUttered("Salut"), Restarted()],
                                               domain.slots)
    first, second = tracker.copy(), tracker.copy()
    assert_same(first, rasas_copy(tracker))
    assert first.latest_message is not second.latest_message
    assert first.latest_bot_utterance is not second.latest_bot_utterance
    first.latest_message.parse_data["text"] = "changed in place"
    assert_same(tracker.copy(), rasas_copy(tracker))


def test_a_replaced_event_replays_from_the_start(domain):
    tracker = DialogueStateTracker.from_events("rene", [listen(), user("greet"), SlotSet("card_digits", "123456")],
                                               domain.slots)
    assert tracker.copy().get_slot("card_digits") == "123456"
    tracker.events[2] = SlotSet("card_digits", "654321")
    copied = tracker.copy()
    assert copied.get_slot("card_digits") == "654321"
    assert_same(copied, rasas_copy(tracker))


def test_a_bounded_history_is_left_to_rasa(domain):
    events: list[Any] = [listen(), user("greet"), SlotSet("card_digits", "123456"), listen(), user("affirm")]
    tracker = DialogueStateTracker.from_events("anne", events, domain.slots, max_event_history=2)
    copied = tracker.copy()
    assert copied.get_slot("card_digits") is None  # Rasa replays only the events kept
    assert_same(copied, rasas_copy(tracker))


def test_what_is_kept_for_a_tracker_goes_with_it_and_stays_bounded(domain):
    import gc

    from bot.kept_with_tracker import KeptWithTracker

    kept: KeptWithTracker[str] = KeptWithTracker(limit=2)
    trackers = [DialogueStateTracker.from_events(name, [listen()], domain.slots) for name in ("a", "b", "c")]
    for tracker in trackers:
        kept.put(tracker, tracker.sender_id)
    assert [kept.get(tracker) for tracker in trackers] == [None, "b", "c"]  # the oldest made room
    assert kept.get(trackers[1], "another part") is None
    del trackers[1:], tracker
    gc.collect()
    assert not kept._entries  # nothing of a collected tracker stays in memory

"""The memory of recent conversations the tracker store reads when its database fails: views, pending rows, bounds."""
from __future__ import annotations

import pytest

from bot.tracker_memory import TIMESTAMP, ConversationMemory, Dropped, StoredRow, latest_session, stored_row


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def row(kind: str, at: float, text: str = "") -> StoredRow:
    return stored_row(kind, at, None, None, f'{{"event": "{kind}", "timestamp": {at}, "text": "{text}"}}')


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dropped() -> list[Dropped]:
    return []


@pytest.fixture
def memory(clock, dropped) -> ConversationMemory:
    return ConversationMemory(max_conversations=3, idle_seconds=600, clock=clock, on_drop=dropped.append)


def test_a_conversation_is_unknown_until_read_or_started_blank(memory):
    assert memory.view("a") is None
    memory.loaded("a", [row("action", 1.0), row("user", 2.0)])
    memory.start_blank("b")
    assert [r[TIMESTAMP] for r in memory.view("a")] == [1.0, 2.0]
    assert memory.view("b") == []


def test_rows_appended_after_the_known_ones_extend_the_view(memory):
    memory.loaded("a", [row("action", 1.0)])
    memory.append("a", 1, [row("user", 2.0), row("bot", 3.0)], pending=False)
    assert [r[TIMESTAMP] for r in memory.view("a")] == [1.0, 2.0, 3.0]
    assert memory.pending("a") == []


def test_rows_of_another_tracker_replace_the_view_or_forget_it(memory):
    memory.loaded("a", [row("action", 1.0)])
    memory.append("a", 5, [row("user", 9.0)], pending=True, view=lambda: [row("action", 8.0), row("user", 9.0)])
    assert [r[TIMESTAMP] for r in memory.view("a")] == [8.0, 9.0]
    memory.append("a", 7, [row("bot", 10.0)], pending=False)
    assert memory.view("a") is None, "not known any more: the next read from the database loads it"
    assert [r[TIMESTAMP] for r in memory.pending("a")] == [9.0], "what is owed to the database stays"


def test_the_view_is_the_latest_session_and_pending_rows_survive_a_new_session(memory):
    memory.loaded("a", [row("session_started", 1.0), row("user", 2.0)])
    memory.append("a", 2, [row("user", 3.0, "pendant la panne")], pending=True)
    memory.append("a", 3, [row("action", 4.0), row("session_started", 4.1), row("action", 4.2)], pending=True)
    assert [r[TIMESTAMP] for r in memory.view("a")] == [4.1, 4.2]
    assert [r[TIMESTAMP] for r in memory.pending("a")] == [3.0, 4.0, 4.1, 4.2]
    assert latest_session([row("user", 1.0)]) == [row("user", 1.0)]


def test_written_rows_leave_the_pending_list_in_order(memory):
    memory.loaded("a", [])
    memory.append("a", 0, [], pending=True)
    assert not memory.has_pending(), "nothing owed yet"
    memory.append("a", 0, [row("user", 1.0), row("bot", 2.0)], pending=True)
    memory.append("b", 0, [row("user", 1.5)], pending=True)
    assert memory.pending_conversations() == ["a", "b"]
    assert memory.pending_rows() == 3
    memory.written("a", 1)
    assert [r[TIMESTAMP] for r in memory.pending("a")] == [2.0]
    memory.written("a", 1)
    assert memory.pending_conversations() == ["b"]
    assert [r[TIMESTAMP] for r in memory.view("a")] == [1.0, 2.0], "the view stays: the database holds it now"
    memory.written("b", 1)
    assert not memory.has_pending() and memory.pending_conversations() == [] and memory.pending_rows() == 0


def test_the_count_bound_drops_the_least_recently_used_without_pending_rows_first(memory, dropped):
    memory.append("owed", 0, [row("user", 1.0)], pending=True)
    memory.loaded("old", [row("user", 1.0)])
    memory.loaded("mid", [row("user", 1.0)])
    memory.loaded("new", [row("user", 1.0)])
    assert len(memory) == 3
    assert "old" not in memory and "owed" in memory
    memory.view("mid")  # used again: now the most recent
    memory.loaded("newest", [])
    assert "new" not in memory and "mid" in memory
    assert dropped == [Dropped(conversations=1), Dropped(conversations=1)]


def test_pending_rows_beyond_the_bound_are_dropped_and_said(memory, dropped):
    for name in ("a", "b", "c", "d"):
        memory.append(name, 0, [row("user", 1.0), row("bot", 2.0)], pending=True)
    assert len(memory) == 3
    assert memory.pending_conversations() == ["b", "c", "d"]
    assert memory.pending_rows() == 6, "the dropped conversation owes nothing any more"
    assert dropped == [Dropped(conversations=1, pending_rows=2)]


def test_idle_conversations_are_forgotten_unless_something_is_owed(memory, clock):
    memory.loaded("idle", [row("user", 1.0)])
    memory.append("owed", 0, [row("user", 1.0)], pending=True)
    clock.now += 601
    memory.loaded("fresh", [])
    assert memory.view("idle") is None
    assert "idle" not in memory
    assert memory.pending("owed") == [row("user", 1.0)]


def test_the_bound_must_allow_one_conversation():
    with pytest.raises(ValueError):
        ConversationMemory(max_conversations=0, idle_seconds=1)


def test_the_conversation_just_used_is_never_the_one_dropped(memory, dropped):
    for name in ("a", "b", "c"):
        memory.append(name, 0, [row("user", 1.0)], pending=True)
    memory.start_blank("d")
    assert "d" in memory and "a" not in memory
    assert dropped == [Dropped(conversations=1, pending_rows=1)]


def test_what_the_database_last_gave_is_kept_within_the_same_bounds(memory, clock):
    from bot.tracker_memory import Synced

    rows = [row("session_started", 1.0), row("user", 2.0)]
    memory.sync("a", Synced(horizon=7, total=4, start=1.0, rows=rows))
    assert memory.synced("a") == Synced(7, 4, 1.0, rows)
    assert memory.synced("a").rows[0] is rows[0], "the same rows, not a copy"
    for name in ("b", "c", "d"):
        memory.loaded(name, [])
    assert memory.synced("a") is None, "dropped with the conversation (least recently used)"
    memory.sync("e", Synced(0, 0, None, []))
    clock.now += 601
    memory.loaded("f", [])
    assert memory.synced("e") is None, "forgotten when idle"

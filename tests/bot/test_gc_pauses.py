"""What a server has loaded stays out of the garbage collector's full collections (`bot.gc_pauses`),
without keeping a replaced model alive."""
from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace

import pytest

from bot import gc_pauses, ops


class _Model:
    """Stands for a loaded model: objects in a reference cycle, as Rasa's graph components are."""

    def __init__(self) -> None:
        self.parts = [self, {"weights": list(range(10))}]


@pytest.fixture(autouse=True)
def _thawed():
    yield
    gc.unfreeze()  # the rest of the test session collects as usual


def _tracked_ids() -> set[int]:
    return {id(obj) for obj in gc.get_objects()}


def test_what_is_alive_at_start_is_not_scanned_again_and_what_comes_later_is():
    loaded = _Model()
    assert id(loaded) in _tracked_ids()
    frozen = gc_pauses.freeze_long_lived()
    assert frozen >= 1 and gc.get_freeze_count() == frozen
    later = _Model()
    tracked = _tracked_ids()
    assert id(loaded) not in tracked  # a full collection no longer goes through the model
    assert id(later) in tracked  # trackers and conversations created afterwards are still collected


def test_garbage_left_by_start_up_is_freed_not_frozen():
    leftover = _Model()
    gone = weakref.ref(leftover)
    del leftover  # a cycle only a collection frees
    gc_pauses.freeze_long_lived()
    assert gone() is None


def test_a_replaced_model_is_freed_when_the_new_one_is_frozen():
    old = _Model()
    old_ref = weakref.ref(old)
    gc_pauses.freeze_long_lived()
    del old
    gc.collect()
    assert old_ref() is not None  # frozen: an ordinary collection leaves it
    gc_pauses.freeze_long_lived()  # the new model's turn
    assert old_ref() is None


def test_the_server_freezes_once_per_loaded_model(monkeypatch):
    calls = []
    monkeypatch.setattr(gc_pauses, "freeze_long_lived", lambda: calls.append(1) or 0)
    monkeypatch.setattr(ops, "_frozen_for", [None])
    agent = SimpleNamespace(processor=None)
    ops._freeze_when_loaded(agent)
    assert calls == []  # no model yet: nothing worth keeping
    agent.processor = object()
    for _ in range(3):  # the first requests after start
        ops._freeze_when_loaded(agent)
    assert calls == [1]
    agent.processor = object()  # a new model through PUT /model
    ops._freeze_when_loaded(agent)
    ops._freeze_when_loaded(agent)
    assert calls == [1, 1]

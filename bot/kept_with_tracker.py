"""What a speed fix keeps for one tracker object, for as long as that tracker lives (`bot.prediction_states`,
`bot.tracker_copies`): keyed by the tracker's identity and a few more parts, held through a weak reference so
the entry goes when the tracker is collected (its id cannot then name another tracker), at most ``limit``."""
from __future__ import annotations

import functools
import weakref
from typing import Any, Generic, TypeVar

from rasa.shared.core.trackers import DialogueStateTracker

Value = TypeVar("Value")


class KeptWithTracker(Generic[Value]):
    def __init__(self, limit: int) -> None:
        self.limit = limit  # trackers handled at once by one process
        self._entries: dict[tuple[Any, ...], tuple[weakref.ref[DialogueStateTracker], Value]] = {}

    def get(self, tracker: DialogueStateTracker, *parts: Any) -> Value | None:
        entry = self._entries.get((id(tracker), *parts))
        return entry[1] if entry is not None and entry[0]() is tracker else None

    def put(self, tracker: DialogueStateTracker, value: Value, *parts: Any) -> None:
        key = (id(tracker), *parts)
        reference = weakref.ref(tracker, functools.partial(self._forget, key))
        if key not in self._entries and len(self._entries) >= self.limit:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (reference, value)

    def _forget(self, key: tuple[Any, ...], reference: weakref.ref[DialogueStateTracker]) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] is reference:
            del self._entries[key]

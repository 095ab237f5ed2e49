"""Copies of a tracker from a replay kept with it, instead of a replay of the whole conversation each time.

Before each action it runs, Rasa's processor copies the tracker (``DialogueStateTracker.copy``): a fresh
tracker on which every event of the conversation is replayed, three or four times per message, each
longer than the last (about a twentieth of a Rasa server's CPU, growing with the session). Here the
replayed tracker is kept with the tracker it copies (`bot.kept_with_tracker`: it goes with it), the
next copy replays only the events that follow, and each copy is a clone of that private replay: its own
events deque, its own copies of the slots (``copy.copy``, as Rasa's ``init_copy``), of the active loop
and of the latest action, and its own empty latest message and bot utterance while none was replayed.
Everything else a clone holds is what the replay holds: immutable values, or the very event objects (and
the slot values they carry) that Rasa's replay would hold too.

The kept replay is used only when the events it replayed are, object for object, the first events of
the tracker now; anything else (an event replaced or removed) replays from the start. Trackers Rasa's
copy could treat differently fall back to it: a subclass, a bounded event history (Rasa replays only
the events kept), a tracker without slot definitions, an event whose timestamp is not a number below
infinity. Installed by `bot.rasa_speedups.apply`.
"""
from __future__ import annotations

import copy
import math
from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Any

from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.kept_with_tracker import KeptWithTracker

_RASA_COPY = DialogueStateTracker.copy


@dataclass
class _Kept:
    events: list[Event]  # the tracker's first events, replayed
    replayed: DialogueStateTracker  # private: never handed out, only cloned
    # The empty latest message and bot utterance the replay made itself (at its start, or on a restart):
    # each copy gets its own, as each replay of Rasa's makes its own.
    empty_message: UserUttered
    empty_utterance: BotUttered


_kept: KeptWithTracker[_Kept] = KeptWithTracker(limit=256)


def _replayable(tracker: DialogueStateTracker) -> bool:
    return (
        type(tracker) is DialogueStateTracker
        and tracker.events.maxlen is None
        and type(tracker.slots) is dict
    )


def copy_tracker(self: DialogueStateTracker) -> DialogueStateTracker:
    """``DialogueStateTracker.copy``: a duplicate of this tracker, as a replay of its events makes it."""
    if not _replayable(self):
        return _RASA_COPY(self)
    events = self.events
    kept = _kept.get(self)
    if (
        kept is None
        or len(kept.events) > len(events)
        or any(ours is not theirs for ours, theirs in zip(kept.events, events, strict=False))
    ):
        replayed = self.init_copy()
        kept = _Kept([], replayed, replayed.latest_message, replayed.latest_bot_utterance)
        _kept.put(self, kept)
    new = list(islice(events, len(kept.events), None))
    if not all(isinstance(event.timestamp, (int, float)) and event.timestamp <= math.inf for event in new):
        return _RASA_COPY(self)  # Rasa's replay would stop at such an event
    replayed = kept.replayed
    for event in new:
        message, utterance = replayed.latest_message, replayed.latest_bot_utterance
        replayed.update(event)
        kept.events.append(event)
        if replayed.latest_message is not message and replayed.latest_message is not event:
            kept.empty_message = replayed.latest_message
        if replayed.latest_bot_utterance is not utterance and replayed.latest_bot_utterance is not event:
            kept.empty_utterance = replayed.latest_bot_utterance
    return _clone(kept)


def _clone(kept: _Kept) -> DialogueStateTracker:
    replayed = kept.replayed
    state: dict[str, Any] = dict(vars(replayed))
    state["events"] = deque(replayed.events)  # unbounded, as the tracker's (`_replayable`)
    state["slots"] = {name: copy.copy(slot) for name, slot in replayed.slots.items()}
    state["active_loop"] = copy.copy(replayed.active_loop)
    if replayed.latest_action is not None:
        state["latest_action"] = dict(replayed.latest_action)
    if replayed.latest_message is kept.empty_message:
        state["latest_message"] = UserUttered.empty()
    if replayed.latest_bot_utterance is kept.empty_utterance:
        state["latest_bot_utterance"] = BotUttered.empty()
    clone = DialogueStateTracker.__new__(DialogueStateTracker)
    clone.__dict__.update(state)
    return clone


def install() -> None:
    """Put the kept replay in place of Rasa's copy (idempotent)."""
    DialogueStateTracker.copy = copy_tracker

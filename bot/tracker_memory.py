"""What a Rasa instance remembers of its recent conversations, for when the tracker store's database fails.

Per conversation, the stored rows of its latest session, as the database holds them or will hold them:
the redacted JSON of each event (`bot.privacy`), never a real personal value (those stay in the slot
vault, as for a row read from the database). The redacting tracker store (`bot.tracker_store`) keeps
this view up to date on every successful read and write, and reads it only when the database fails, so
that a conversation goes on where it was instead of starting blank.

Rows the database could not take are also *pending*, in order, until a later write takes them. They
are kept apart from the view: a session that starts during the outage drops the older session from
the view (as the database's query of the latest session does), but its pending rows must still be
written.

It also keeps, per conversation, the database's rows as last read with how far that read went
(`Synced`), so that the next read asks the database only for the rows written since (see
`bot.tracker_store`); those are the same row objects as the view's, not a copy.

Bounded, per process: at most ``max_conversations`` (the least recently used is dropped first, one
without pending rows before one with), and a conversation idle for ``idle_seconds`` is forgotten unless
it has pending rows. Rows are shared with the caller (the same strings), not copied.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, NamedTuple

SESSION_STARTED = "session_started"

# One event as the tracker store writes it: the columns of Rasa's ``events`` table, ``data`` redacted, read
# with the indexes below. A plain tuple and not a NamedTuple: the garbage collector stops tracking a plain
# tuple of strings and numbers, never an instance of a subclass, and this memory holds tens of thousands of
# rows that each full collection would otherwise go through (35,000 of an instance's 42,000 tracked objects
# under the bench's load, 35 ms a collection; see `bot.gc_pauses`).
StoredRow = tuple[str, float | None, str | None, str | None, str]
TYPE_NAME: Final = 0
TIMESTAMP: Final = 1
INTENT_NAME: Final = 2
ACTION_NAME: Final = 3
DATA: Final = 4


def stored_row(type_name: str, timestamp: float | None, intent_name: str | None, action_name: str | None,
               data: str) -> StoredRow:
    return (type_name, timestamp, intent_name, action_name, data)


class Synced(NamedTuple):
    """The database's rows of a conversation's latest session as one read saw them, and how far it went:
    ``horizon``, the highest row id of the conversation then (0: none); ``total``, how many rows the
    conversation had then, all sessions; ``start``, the time of its latest ``session_started`` row."""

    horizon: int
    total: int
    start: float | None
    rows: list[StoredRow]


@dataclass
class _Conversation:
    view: list[StoredRow] | None  # the latest session as known (stored and pending); None: not known
    pending: list[StoredRow] = field(default_factory=list)
    used: float = 0.0
    synced: Synced | None = None  # the last read from the database (never pending rows)


@dataclass(frozen=True)
class Dropped:
    """What a bound made the memory drop: conversations, and pending rows lost with them."""

    conversations: int = 0
    pending_rows: int = 0


def latest_session(rows: Sequence[StoredRow]) -> list[StoredRow]:
    """The rows of the latest session, as the tracker store's query reads them from the database: those
    whose time is at or after the latest ``session_started`` (all of them when there is none)."""
    starts = [row[TIMESTAMP] for row in rows if row[TYPE_NAME] == SESSION_STARTED and row[TIMESTAMP] is not None]
    if not starts:
        return list(rows)
    start = max(starts)
    return [row for row in rows if row[TIMESTAMP] is None or row[TIMESTAMP] >= start]


class ConversationMemory:
    """The latest-session rows of recent conversations, and the rows not written yet (see the module doc)."""

    def __init__(self, max_conversations: int, idle_seconds: float, clock: Callable[[], float] = time.monotonic,
                 on_drop: Callable[[Dropped], None] | None = None) -> None:
        if max_conversations < 1:
            raise ValueError("max_conversations must be at least 1")
        self.max_conversations = max_conversations
        self.idle_seconds = idle_seconds
        self._clock = clock
        self.on_drop = on_drop  # told what a bound dropped
        self._conversations: OrderedDict[str, _Conversation] = OrderedDict()
        self._owing: set[str] = set()  # conversations with pending rows (asked on every turn: kept, not counted)

    def __len__(self) -> int:
        return len(self._conversations)

    def __contains__(self, sender_id: object) -> bool:
        return sender_id in self._conversations

    def view(self, sender_id: str) -> list[StoredRow] | None:
        """The latest session's rows as known (stored, then pending), or None when the conversation is unknown."""
        self._drop_idle()
        conversation = self._conversations.get(sender_id)
        if conversation is None or conversation.view is None:
            return None
        self._touch(sender_id, conversation)
        return list(conversation.view)

    def known_rows(self, sender_id: str) -> int | None:
        """How many rows the view holds (`view` without the copy), or None when the conversation is unknown."""
        conversation = self._conversations.get(sender_id)
        return None if conversation is None or conversation.view is None else len(conversation.view)

    def loaded(self, sender_id: str, rows: Sequence[StoredRow]) -> None:
        """The database's rows of the conversation's latest session, just read: they become the view."""
        self._entry(sender_id).view = latest_session(rows)
        self._bound(sender_id)

    def synced(self, sender_id: str) -> Synced | None:
        """The conversation's rows as the database last gave them (`Synced`), or None."""
        conversation = self._conversations.get(sender_id)
        return None if conversation is None else conversation.synced

    def sync(self, sender_id: str, synced: Synced) -> None:
        """Keep what a read of the database just saw of the conversation."""
        self._entry(sender_id).synced = synced
        self._bound(sender_id)

    def start_blank(self, sender_id: str) -> None:
        """The conversation starts with nothing known (its rows could not be read)."""
        self.loaded(sender_id, [])

    def append(self, sender_id: str, after: int, rows: Sequence[StoredRow], *, pending: bool,
               view: Callable[[], Sequence[StoredRow]] | None = None) -> None:
        """``rows`` follow the first ``after`` rows of the conversation; ``pending``: not written yet.

        When the view does not hold exactly ``after`` rows (the conversation was not known, or the
        tracker saved is not the one the view describes), the view becomes ``view()`` (every row of the
        tracker saved) when given, else it is forgotten (the next read from the database loads it).
        """
        conversation = self._entry(sender_id)
        if conversation.view is not None and len(conversation.view) == after:
            conversation.view = latest_session(conversation.view + list(rows))
        else:
            conversation.view = latest_session(list(view())) if view is not None else None
        if pending and rows:
            conversation.pending.extend(rows)
            self._owing.add(sender_id)
        self._bound(sender_id)

    def pending(self, sender_id: str) -> list[StoredRow]:
        """The conversation's rows not written yet, in order."""
        conversation = self._conversations.get(sender_id)
        return list(conversation.pending) if conversation else []

    def written(self, sender_id: str, count: int) -> None:
        """The first ``count`` pending rows of the conversation are in the database now."""
        conversation = self._conversations.get(sender_id)
        if conversation is not None:
            del conversation.pending[:count]
            if not conversation.pending:
                self._owing.discard(sender_id)
                if conversation.view is None:
                    del self._conversations[sender_id]

    def has_pending(self) -> bool:
        """Whether any conversation has rows not written yet (without going through them all)."""
        return bool(self._owing)

    def pending_conversations(self) -> list[str]:
        """Conversations with rows not written yet, the least recently used first."""
        if not self._owing:
            return []
        return [sender_id for sender_id in self._conversations if sender_id in self._owing]

    def pending_rows(self) -> int:
        return sum(len(self._conversations[sender_id].pending) for sender_id in self._owing)

    def _entry(self, sender_id: str) -> _Conversation:
        self._drop_idle()
        conversation = self._conversations.get(sender_id)
        if conversation is None:
            conversation = self._conversations[sender_id] = _Conversation(view=None)
        self._touch(sender_id, conversation)
        return conversation

    def _touch(self, sender_id: str, conversation: _Conversation) -> None:
        conversation.used = self._clock()
        self._conversations.move_to_end(sender_id)

    def _drop_idle(self) -> None:
        cutoff = self._clock() - self.idle_seconds
        idle = []
        for sender_id, conversation in self._conversations.items():  # least recently used first
            if conversation.used > cutoff:
                break
            if not conversation.pending:
                idle.append(sender_id)
        for sender_id in idle:
            del self._conversations[sender_id]
        if idle:
            self._dropped(Dropped(conversations=len(idle)))

    def _bound(self, current: str) -> None:
        """Drop conversations beyond the bound, never ``current`` (the one just used)."""
        excess = len(self._conversations) - self.max_conversations
        if excess <= 0:
            return
        # Least recently used first, those without pending rows before those with.
        chosen: list[str] = []
        for owing in (False, True):
            for sender_id, conversation in self._conversations.items():
                if len(chosen) == excess:
                    break
                if sender_id != current and bool(conversation.pending) is owing:
                    chosen.append(sender_id)
        lost = 0
        for sender_id in chosen:
            lost += len(self._conversations.pop(sender_id).pending)
            self._owing.discard(sender_id)
        self._dropped(Dropped(conversations=excess, pending_rows=lost))

    def _dropped(self, dropped: Dropped) -> None:
        if self.on_drop is not None:
            self.on_drop(dropped)

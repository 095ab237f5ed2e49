"""A SQL tracker store that stores every event redacted, keeps personal slots usable for a while, and purges.

Use it in endpoints.yml as ``type: bot.tracker_store.RedactingSQLTrackerStore``; the database comes
from ``BOT_TRACKER_STORE_URL`` (SQLite file ``var/tracker.db`` by default, PostgreSQL in production)
unless endpoints.yml gives a ``url``.

Rasa's cycle: each turn retrieves the tracker from the store, runs with the in-memory tracker (real
values) and saves the new events. Saving writes them redacted (`bot.privacy.redact_event`); the real
value of each redacted slot goes to a `SlotVault` for ``personal_slot_ttl_seconds``, keyed by
conversation, slot and event time. Retrieving puts the real values back into the slot events, so a
form's card digits and birth date survive from one turn to the next; once expired, a personal slot
reads ``None``. The vault is in process by default; with several Rasa instances it is Redis
(``BOT_SLOT_VAULT_URL=redis://...``), held in memory only and expiring on its own.

Per turn, Rasa's SQL tracker store opens a new SQLite connection for each query (SQLAlchemy 1.4's
default for SQLite files), and counts the conversation's stored events again before saving, with
the same query it ran to load them. This store keeps its SQLite connections in a pool, in WAL
mode, and remembers how many events it loaded for the conversation, so the save needs no count;
a save it cannot match to a load (a tracker created in this process) still counts. A save inserts
its rows with one INSERT; a read after the first reads only the rows written since
(`_read_latest_session`).

When the database fails, the conversation goes on where it was (issue 15). The store remembers the
latest session of recent conversations (`bot.tracker_memory.ConversationMemory`: the same redacted
rows as the database, bounded by ``BOT_TRACKER_MEMORY_CONVERSATIONS`` and
``BOT_TRACKER_MEMORY_IDLE_MINUTES``) and reads it only when the database does not answer: a half-filled
form resumes with its values (the vault still holds them), a conversation this instance never saw
starts blank and `bot.faults` says so in its first answer. Rows the database cannot take stay
*pending* in that memory; the next operation that reaches the database for the conversation writes
them first, in order, and any successful operation, or a retry every ``FLUSH_INTERVAL_SECONDS``,
writes those of the others. Before writing, the store reads which of them the database already has
(a commit whose answer was lost), so each event is stored once. Database errors therefore never
reach Rasa's ``FailSafeTrackerStore`` (whose fallback starts from a blank tracker and keeps what is
saved where nobody reads it); they are counted and logged by class only, and readiness
(`bot.health`) runs its own query, so ``/ready`` still names the tracker store.

It overrides private hooks of Rasa's store (``_retrieve``, ``_stream_new_events``), calls its
``_event_query`` and copies its ``save``: on a Rasa release other than the one they were checked on,
it refuses to start rather than risk personal data reaching the broker in clear (`bot.rasa_compat`).
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import faults, metrics, rasa_compat
from bot.privacy import expects_password, install_log_redaction, redact_event, slot_kind
from bot.settings import get_settings
from bot.tracker_memory import (
    ACTION_NAME,
    DATA,
    INTENT_NAME,
    TIMESTAMP,
    TYPE_NAME,
    ConversationMemory,
    Dropped,
    StoredRow,
    Synced,
    stored_row,
)

install_log_redaction()
rasa_compat.apply()

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


class SlotVault(Protocol):
    """A short-lived store of the real values of redacted slots, per conversation."""

    def put(self, sender_id: str, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` for this conversation; refreshes the conversation's expiry."""

    def values(self, sender_id: str) -> dict[str, Any]:
        """The values kept for this conversation and not expired."""

    def forget(self, sender_id: str) -> None:
        """Drop everything kept for this conversation."""


class InMemorySlotVault:
    """The slot vault of one process; enough with one Rasa instance or sticky routing."""

    def __init__(self, ttl_seconds: int, clock: Clock = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}

    def put(self, sender_id: str, key: str, value: Any) -> None:
        self._drop_expired()
        _, values = self._items.get(sender_id, (0.0, {}))
        values[key] = value
        self._items[sender_id] = (self._clock() + self._ttl, values)

    def values(self, sender_id: str) -> dict[str, Any]:
        self._drop_expired()
        return dict(self._items.get(sender_id, (0.0, {}))[1])

    def forget(self, sender_id: str) -> None:
        self._items.pop(sender_id, None)

    def _drop_expired(self) -> None:
        now = self._clock()
        for sender_id in [s for s, (expiry, _) in self._items.items() if expiry <= now]:
            del self._items[sender_id]


class RedisSlotVault:
    """The slot vault shared by several Rasa instances: one Redis hash per conversation, with a TTL.

    Redis down does not stop a conversation: a value that cannot be kept or read counts as expired
    (the form asks for it again), the failure is logged by kind and counted in
    ``assistant_slot_vault_errors_total{operation}``, and the redacted events are stored as usual.
    """

    PREFIX = "bot:slot-vault:"
    TIMEOUT_SECONDS = 2.0

    def __init__(self, url: str, ttl_seconds: int) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=self.TIMEOUT_SECONDS,
                                           socket_connect_timeout=self.TIMEOUT_SECONDS)
        self._ttl = ttl_seconds

    @staticmethod
    def _failed(operation: str, error: Exception) -> None:
        metrics.SLOT_VAULT_ERRORS.labels(operation).inc()
        logger.warning("Slot vault %s failed (%s): personal values count as expired.", operation, type(error).__name__)

    def put(self, sender_id: str, key: str, value: Any) -> None:
        import redis

        name = self.PREFIX + sender_id
        try:
            pipe = self._redis.pipeline()
            pipe.hset(name, key, json.dumps(value))
            pipe.expire(name, self._ttl)
            pipe.execute()
        except redis.RedisError as error:
            self._failed("put", error)

    def values(self, sender_id: str) -> dict[str, Any]:
        import redis

        try:
            raw = self._redis.hgetall(self.PREFIX + sender_id)
        except redis.RedisError as error:
            self._failed("read", error)
            return {}
        return {key.decode(): json.loads(value) for key, value in raw.items()}

    def forget(self, sender_id: str) -> None:
        import redis

        try:
            self._redis.delete(self.PREFIX + sender_id)
        except redis.RedisError as error:
            self._failed("forget", error)  # the values expire on their own (TTL)


def make_slot_vault() -> SlotVault:
    """The vault the settings ask for: Redis when ``BOT_SLOT_VAULT_URL`` is set, else in process."""
    settings = get_settings()
    if settings.slot_vault_url:
        return RedisSlotVault(settings.slot_vault_url, settings.personal_slot_ttl_seconds)
    return InMemorySlotVault(settings.personal_slot_ttl_seconds)


def _slot_key(event: dict[str, Any]) -> str:
    """The vault key of one slot event: slot name and event time (exact, as JSON writes floats)."""
    return f"{event.get('name')}@{event.get('timestamp')!r}"


@functools.cache
def _latest_session_events() -> sa.sql.Select:
    """The stored rows of a conversation's latest session, in order: Rasa's `_event_query` as one
    statement built once (Rasa builds its ORM query anew on every turn). Each row also carries, from
    the same snapshot, the conversation's highest row id and its number of rows (`Synced`)."""
    events = SQLTrackerStore.SQLEvent.__table__
    sender = sa.bindparam("sender_id")
    session_start = (
        sa.select(sa.func.max(events.c.timestamp))
        .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
        .scalar_subquery()
    )
    horizon = sa.select(sa.func.max(events.c.id)).where(events.c.sender_id == sender).scalar_subquery()
    total = sa.select(sa.func.count()).where(events.c.sender_id == sender).scalar_subquery()
    return (
        sa.select(events.c.type_name, events.c.timestamp, events.c.intent_name, events.c.action_name, events.c.data,
                  horizon.label("horizon"), total.label("total"))
        .where(events.c.sender_id == sender, sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
        .order_by(events.c.id)
    )


@functools.cache
def _rows_after_horizon() -> sa.sql.Select:
    """The conversation's rows above a known id, in order, each with how many rows it has up to that id
    (one row with no event when none is above: the count still comes back)."""
    events = SQLTrackerStore.SQLEvent.__table__
    sender = sa.bindparam("sender_id")
    horizon = sa.bindparam("horizon")
    known = sa.select(sa.func.count().label("known")).where(events.c.sender_id == sender,
                                                           events.c.id <= horizon).subquery()
    return (
        sa.select(known.c.known, events.c.id, events.c.type_name, events.c.timestamp, events.c.intent_name,
                  events.c.action_name, events.c.data)
        .select_from(known.outerjoin(events, sa.and_(events.c.sender_id == sender, events.c.id > horizon)))
        .order_by(events.c.id)
    )


@functools.cache
def _insert_events() -> sa.sql.Insert:
    """One INSERT of many rows (Rasa adds an ORM object per event and flushes them one by one)."""
    return SQLTrackerStore.SQLEvent.__table__.insert()


def _session_start(rows: Sequence[StoredRow]) -> float | None:
    """The time of the latest ``session_started`` row, as SQL's MAX reads it (rows without a time ignored)."""
    return max((row[TIMESTAMP] for row in rows if row[TYPE_NAME] == SessionStarted.type_name
                and row[TIMESTAMP] is not None), default=None)


def _in_session(rows: Iterable[StoredRow], start: float | None) -> list[StoredRow]:
    """The rows the latest-session query keeps for this session start (SQL: a row without a time is kept
    only when there is no session start)."""
    if start is None:
        return list(rows)
    return [row for row in rows if (at := row[TIMESTAMP]) is not None and at >= start]


def _pooled_sqlite_engine(url: sa.engine.URL) -> sa.engine.Engine:
    """A SQLite engine that keeps its connections open, in WAL mode (readers never wait for the writer)."""
    engine = sa.create_engine(
        url, poolclass=sa.pool.QueuePool, pool_size=4, connect_args={"check_same_thread": False, "timeout": 30}
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a crash of the process loses nothing
        cursor.close()

    return engine


class RedactingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, storing and streaming events only after redaction, and going on from the
    instance's memory of recent conversations while its database fails (see the module doc)."""

    MAX_REMEMBERED_COUNTS = 10_000
    # While events wait in memory, how often the store tries to write them without a turn asking.
    FLUSH_INTERVAL_SECONDS = 5.0
    # Conversations whose pending events one successful operation, or one retry, writes at most.
    FLUSH_BATCH = 20

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        slot_vault: SlotVault | None = None,
        memory: ConversationMemory | None = None,
        **kwargs: Any,
    ) -> None:
        rasa_compat.require_supported("the redacting tracker store (bot.tracker_store.RedactingSQLTrackerStore)")
        settings = get_settings()
        url = host if host and "://" in host else settings.tracker_store_url
        for key in ("dialect", "db", "port", "username", "password", "login_db", "query"):
            kwargs.pop(key, None)
        self.slot_vault = slot_vault if slot_vault is not None else make_slot_vault()
        self.memory = memory if memory is not None else ConversationMemory(
            settings.tracker_memory_conversations, settings.tracker_memory_idle_minutes * 60
        )
        if self.memory.on_drop is None:
            self.memory.on_drop = self._dropped
        # Events of the latest session loaded per conversation, for the next save (see the module doc).
        self._loaded_counts: OrderedDict[str, int] = OrderedDict()
        # Trackers being saved, for the password context of the events streamed to the broker.
        self._saving: dict[str, DialogueStateTracker] = {}
        self._failing = False  # the last operation found the database unavailable
        self._flusher: asyncio.Task | None = None
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        self.engine: sa.engine.Engine
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            self.engine.dispose()
            self.engine = _pooled_sqlite_engine(self.engine.url)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _remember_count(self, sender_id: str, count: int) -> None:
        self._loaded_counts[sender_id] = count
        self._loaded_counts.move_to_end(sender_id)
        while len(self._loaded_counts) > self.MAX_REMEMBERED_COUNTS:
            self._loaded_counts.popitem(last=False)

    # --- reading

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        try:
            rows = self._read(sender_id, fetch_events_from_all_sessions)
        except sa.exc.SQLAlchemyError as error:
            self._database_failed("retrieve", error)
            return self._retrieve_remembered(sender_id, fetch_events_from_all_sessions)
        if not fetch_events_from_all_sessions:
            self.memory.loaded(sender_id, rows)
            if not rows or self.domain:
                self._remember_count(sender_id, len(rows))
        self._database_answered()
        return self._rebuild(sender_id, rows)

    def _read(self, sender_id: str, fetch_events_from_all_sessions: bool) -> list[StoredRow]:
        """The conversation's stored rows (its pending ones written first, so that they are among them)."""
        with self.session_scope() as session:
            handled, inserted = self._add_pending(session, sender_id)
            if handled:
                session.commit()
                self._pending_written(sender_id, handled, inserted)
            if fetch_events_from_all_sessions:
                return [
                    stored_row(e.type_name, e.timestamp, e.intent_name, e.action_name, e.data)
                    for e in self._event_query(session, sender_id, fetch_events_from_all_sessions=True)
                ]
            return self._read_latest_session(session, sender_id)

    def _read_latest_session(self, session: Any, sender_id: str) -> list[StoredRow]:
        """The rows of the conversation's latest session, as `_latest_session_events` reads them.

        When this instance read the conversation before (`Synced`: the rows up to the highest id then,
        and how many the conversation had), only the rows written since are read: those above that id,
        whichever instance wrote them, with the count of rows up to it. A count that differs (rows
        deleted, or a row with a lower id committed late: PostgreSQL's ids are taken before commit)
        means the rows known are not the database's any more, and the whole session is read again.
        """
        synced = self.memory.synced(sender_id)
        if synced is not None:
            result = session.execute(_rows_after_horizon(), {"sender_id": sender_id, "horizon": synced.horizon}).all()
            if result and result[0].known == synced.total:
                new = [stored_row(*row[2:]) for row in result if row.id is not None]
                if not new:
                    return synced.rows
                start = _session_start(new)
                if start is not None and (synced.start is None or start > synced.start):
                    rows = _in_session(synced.rows + new, start)
                else:
                    start = synced.start
                    rows = synced.rows + _in_session(new, start)
                self.memory.sync(sender_id, Synced(result[-1].id, synced.total + len(new), start, rows))
                return rows
        result = session.execute(_latest_session_events(), {"sender_id": sender_id}).all()
        rows = [stored_row(*row[:5]) for row in result]
        if result:
            self.memory.sync(sender_id, Synced(result[0].horizon, result[0].total, _session_start(rows), rows))
        else:
            self.memory.sync(sender_id, Synced(0, 0, None, rows))
        return rows

    def _retrieve_remembered(self, sender_id: str, fetch_events_from_all_sessions: bool
                             ) -> DialogueStateTracker | None:
        """The database failed: the conversation as this instance last knew it, else a blank one."""
        view = self.memory.view(sender_id)
        if view is None:
            if not fetch_events_from_all_sessions:
                self.memory.start_blank(sender_id)
                self._remember_count(sender_id, 0)
                metrics.TRACKER_STORE_MEMORY_READS.labels("blank").inc()
                faults.conversation_restarted(sender_id)
            return None
        if not fetch_events_from_all_sessions:
            self._remember_count(sender_id, len(view))
            metrics.TRACKER_STORE_MEMORY_READS.labels("resumed" if view else "blank").inc()
        return self._rebuild(sender_id, view)

    def _rebuild(self, sender_id: str, rows: list[StoredRow]) -> DialogueStateTracker | None:
        """The tracker of these rows, with the real values the vault still holds put back in the slot events."""
        if not (self.domain and rows):
            return None
        events = [json.loads(row[DATA]) for row in rows]
        kept = self.slot_vault.values(sender_id)
        for event in events:
            if event.get("event") != "slot":
                continue
            key = _slot_key(event)
            if key in kept:
                event["value"] = kept[key]
            elif (kind := slot_kind(str(event.get("name", "")))) is not None and event.get("value") == kind.value:
                event["value"] = None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    # --- writing

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, redacted; keep real values of redacted slots in the vault.

        Which events are new: those after the ones loaded for this tracker, else after those this instance
        knows of the conversation, else after those the database counts (as Rasa does). When the database
        fails they wait in memory (`ConversationMemory`), and are written first by the next save that
        reaches it.
        """
        sender_id = tracker.sender_id
        self._saving[sender_id] = tracker
        try:
            await self.stream_events(tracker)
        finally:
            self._saving.pop(sender_id, None)
        size = len(tracker.events)
        loaded = self._loaded_counts.pop(sender_id, None)
        known = self.memory.known_rows(sender_id)
        start = loaded if loaded is not None and loaded <= size else None
        if start is None and known is not None and known <= size:
            start = known
        rows = None if start is None else self._new_rows(tracker, start)
        if rows == [] and not self.memory.pending(sender_id):
            return  # nothing new, nothing owed: no round trip
        try:
            with self.session_scope() as session:
                handled, inserted = self._add_pending(session, sender_id)
                if start is None or rows is None:  # neither loaded nor known here: counted as Rasa does
                    start = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
                    rows = self._new_rows(tracker, start)
                self._insert(session, sender_id, rows)
                session.commit()
        except sa.exc.SQLAlchemyError as error:
            self._database_failed("save", error)
            if start is None or rows is None:  # not even counted: every event (those stored are skipped later)
                start, rows = 0, self._new_rows(tracker, 0)
            self._keep_pending(tracker, start, rows)
            return
        if handled:
            self._pending_written(sender_id, handled, inserted)
        self.memory.append(sender_id, start, rows, pending=False, view=(lambda: rows) if start == 0 else None)
        logger.debug("Tracker of conversation '%s' stored, redacted", sender_id)
        self._database_answered()

    def _keep_pending(self, tracker: DialogueStateTracker, start: int, rows: list[StoredRow]) -> None:
        """The database did not take ``rows`` (the tracker's events from ``start``): they wait in memory."""
        self.memory.append(tracker.sender_id, start, rows, pending=True,
                           view=lambda: [row for _, row in _redacted_rows(tracker, 0, start)] + rows)
        self._pending_changed()
        self._keep_flushing()

    def _new_rows(self, tracker: DialogueStateTracker, start: int) -> list[StoredRow]:
        """The rows of the tracker's events from ``start``, redacted; the real values of redacted slots go
        to the vault and each event is counted in the metrics (once: these events are new)."""
        rows = []
        for data, row in _redacted_rows(tracker, start, len(tracker.events)):
            metrics.record_event(data)
            if data.get("event") == "slot" and json.loads(row[DATA]).get("value") != data.get("value"):
                self.slot_vault.put(tracker.sender_id, _slot_key(data), data.get("value"))
            rows.append(row)
        return rows

    @staticmethod
    def _insert(session: Any, sender_id: str, rows: Sequence[StoredRow]) -> None:
        """Insert ``rows`` in order, now, in the session's transaction (ids follow the order)."""
        if rows:
            session.execute(_insert_events(), [
                {"sender_id": sender_id, "type_name": row[TYPE_NAME], "timestamp": row[TIMESTAMP],
                 "intent_name": row[INTENT_NAME], "action_name": row[ACTION_NAME], "data": row[DATA]}
                for row in rows
            ])

    # --- events kept while the database failed

    def _add_pending(self, session: Any, sender_id: str) -> tuple[int, int]:
        """Add the conversation's pending rows to ``session``, in order, but those the database already has
        (counted again now: a write may have committed though its answer was lost); (pending, added)."""
        pending = self.memory.pending(sender_id)
        if not pending:
            return 0, 0
        events = self.SQLEvent.__table__
        query = sa.select(events.c.type_name, events.c.timestamp, events.c.data).where(events.c.sender_id == sender_id)
        times = [row[TIMESTAMP] for row in pending]
        if None not in times:
            query = query.where(events.c.timestamp >= min(t for t in times if t is not None))
        stored = Counter((row.type_name, row.timestamp, row.data) for row in session.execute(query))
        missing = []
        for row in pending:
            key = (row[TYPE_NAME], row[TIMESTAMP], row[DATA])
            if stored[key]:
                stored[key] -= 1
                continue
            missing.append(row)
        self._insert(session, sender_id, missing)
        return len(pending), len(missing)

    def _pending_written(self, sender_id: str, handled: int, inserted: int) -> None:
        self.memory.written(sender_id, handled)
        metrics.TRACKER_STORE_RECOVERED_EVENTS.inc(inserted)
        self._pending_changed()

    def _write_other_pending(self) -> bool:
        """Write the pending rows of up to `FLUSH_BATCH` conversations; whether the database took them all."""
        for sender_id in self.memory.pending_conversations()[: self.FLUSH_BATCH]:
            try:
                with self.session_scope() as session:
                    handled, inserted = self._add_pending(session, sender_id)
                    session.commit()
            except sa.exc.SQLAlchemyError as error:
                self._database_failed("flush", error)
                return False
            self._pending_written(sender_id, handled, inserted)
        return True

    def _dropped(self, dropped: Dropped) -> None:
        """The memory's bound dropped conversations: pending events among them are lost, and said."""
        if dropped.pending_rows:
            metrics.TRACKER_STORE_LOST_EVENTS.inc(dropped.pending_rows)
            logger.error("The memory of recent conversations is full: %d event(s) the tracker store's database "
                         "could not take were dropped (BOT_TRACKER_MEMORY_CONVERSATIONS).", dropped.pending_rows)
            self._pending_changed()

    def _pending_changed(self) -> None:
        metrics.TRACKER_STORE_PENDING_CONVERSATIONS.set(len(self.memory.pending_conversations()))
        metrics.TRACKER_STORE_PENDING_EVENTS.set(self.memory.pending_rows())

    def _keep_flushing(self) -> None:
        """Retry the pending rows every `FLUSH_INTERVAL_SECONDS` until none is left (one task at a time)."""
        if self._flusher is not None and not self._flusher.done():
            return
        try:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_periodically())
        except RuntimeError:  # no running loop: the next operation that reaches the database writes them
            self._flusher = None

    async def _flush_periodically(self) -> None:
        while self.memory.has_pending():
            await asyncio.sleep(self.FLUSH_INTERVAL_SECONDS)
            while self.memory.has_pending() and self._write_other_pending():
                self._database_answered(write_others=False)
                await asyncio.sleep(0)  # other turns go first between batches

    def _database_failed(self, operation: str, error: Exception) -> None:
        metrics.TRACKER_STORE_ERRORS.labels(operation).inc()
        if not self._failing:
            self._failing = True
            logger.warning("The tracker store's database failed (%s, %s): conversations go on from this "
                           "instance's memory and their new events wait there.", operation, type(error).__name__)

    def _database_answered(self, write_others: bool = True) -> None:
        if self._failing:
            self._failing = False
            logger.warning("The tracker store's database answers again; %d conversation(s) still have events "
                           "waiting in memory.", len(self.memory.pending_conversations()))
        if write_others and self.memory.has_pending():
            self._write_other_pending()

    async def _stream_new_events(self, event_broker: EventBroker, new_events: list[Event], sender_id: str) -> None:
        """Publish new events to the event broker, redacted like the stored ones."""
        tracker = self._saving.get(sender_id)
        for event, password_expected in _with_password_context(tracker, new_events):
            event_broker.publish({"sender_id": sender_id, **redact_event(event.as_dict(),
                                                                          password_expected=password_expected)})


def _redacted_rows(tracker: DialogueStateTracker, start: int, stop: int) -> Iterator[tuple[dict[str, Any], StoredRow]]:
    """Each event of ``tracker.events[start:stop]`` as a dict (real values) and as the row to store (redacted)."""
    for event, password_expected in _password_context(list(tracker.events), start, stop):
        data = event.as_dict()
        stored = redact_event(data, password_expected=password_expected)
        yield data, stored_row(
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=(stored.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=stored.get("name"),
            data=json.dumps(stored),
        )


def _password_context(events: list[Event], start: int, stop: int) -> Iterator[tuple[Event, bool]]:
    """Each event of ``events[start:stop]`` with whether a password may be in it: a user message right after
    the assistant spoke of passwords (`bot.privacy.expects_password` of its last action before listening)."""
    last_action: str | None = None
    for position, event in enumerate(events[:stop]):
        if position >= start:
            yield event, isinstance(event, UserUttered) and expects_password(last_action)
        if isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            last_action = event.action_name


def _with_password_context(
    tracker: DialogueStateTracker | None, new_events: list[Event]
) -> Iterator[tuple[Event, bool]]:
    """Each new event (the tracker's last ones) with whether a password may be in it (`_password_context`)."""
    if tracker is None:
        yield from _password_context(new_events, 0, len(new_events))
        return
    events = list(tracker.events)
    before = events[: max(0, len(events) - len(new_events))]
    yield from _password_context(before + list(new_events), len(before), len(before) + len(new_events))


def purge_conversations(engine: sa.engine.Engine, older_than_days: int, now: datetime | None = None) -> int:
    """Delete every event of the conversations whose last event is older than the cut-off; their count."""
    if older_than_days < 0:
        raise ValueError("older_than_days must be zero or more")
    now = now or datetime.now(timezone.utc)
    cutoff = (now - timedelta(days=older_than_days)).timestamp()
    events = SQLTrackerStore.SQLEvent.__table__
    last_event = sa.func.max(events.c.timestamp)
    stale = sa.select(events.c.sender_id).group_by(events.c.sender_id).having(last_event < cutoff)
    with engine.begin() as connection:
        if not sa.inspect(connection).has_table(events.name):
            return 0
        senders = [row[0] for row in connection.execute(stale)]
        for start in range(0, len(senders), 500):
            batch = senders[start : start + 500]
            connection.execute(events.delete().where(events.c.sender_id.in_(batch)))
    return len(senders)


def purge_tracker_store(older_than_days: int, url: str | None = None, now: datetime | None = None) -> int:
    """Purge the tracker store at ``url`` (the settings' by default); the number of conversations deleted."""
    engine = sa.create_engine(url or get_settings().tracker_store_url, future=True)
    try:
        return purge_conversations(engine, older_than_days, now)
    finally:
        engine.dispose()

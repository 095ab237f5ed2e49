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
a save it cannot match to a load (a tracker created in this process) still counts.

It overrides private hooks of Rasa's store (``_retrieve``, ``_additional_events``,
``_stream_new_events``) and copies its ``save``: on a Rasa release other than the one they were
checked on, it refuses to start rather than risk personal data reaching the broker in clear
(`bot.rasa_compat`).
"""
from __future__ import annotations

import functools
import itertools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
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

from bot import metrics, rasa_compat
from bot.privacy import expects_password, install_log_redaction, redact_event, slot_kind
from bot.settings import get_settings

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
    """The stored data of a conversation's latest session, in order: Rasa's `_event_query` as one
    statement built once (Rasa builds its ORM query anew on every turn)."""
    events = SQLTrackerStore.SQLEvent.__table__
    sender = sa.bindparam("sender_id")
    session_start = (
        sa.select(sa.func.max(events.c.timestamp))
        .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
        .scalar_subquery()
    )
    return (
        sa.select(events.c.data)
        .where(events.c.sender_id == sender, sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
        .order_by(events.c.id)
    )


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
    """Rasa's SQL tracker store, storing and streaming events only after redaction."""

    MAX_REMEMBERED_COUNTS = 10_000

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        slot_vault: SlotVault | None = None,
        **kwargs: Any,
    ) -> None:
        rasa_compat.require_supported("the redacting tracker store (bot.tracker_store.RedactingSQLTrackerStore)")
        url = host if host and "://" in host else get_settings().tracker_store_url
        for key in ("dialect", "db", "port", "username", "password", "login_db", "query"):
            kwargs.pop(key, None)
        self.slot_vault = slot_vault if slot_vault is not None else make_slot_vault()
        # Events of the latest session loaded per conversation, for the next save (see the module doc).
        self._loaded_counts: OrderedDict[str, int] = OrderedDict()
        # Trackers being saved, for the password context of the events streamed to the broker.
        self._saving: dict[str, DialogueStateTracker] = {}
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

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        try:
            return await self._retrieve_redacted(sender_id, fetch_events_from_all_sessions)
        except sa.exc.SQLAlchemyError:
            metrics.TRACKER_STORE_ERRORS.labels("retrieve").inc()
            raise

    async def _retrieve_redacted(self, sender_id: str, fetch_events_from_all_sessions: bool
                                 ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            if fetch_events_from_all_sessions:
                rows = [row.data for row in self._event_query(session, sender_id, fetch_events_from_all_sessions=True)]
            else:
                rows = session.execute(_latest_session_events(), {"sender_id": sender_id}).scalars().all()
            events = [json.loads(data) for data in rows]
        if not (self.domain and events):
            if not events and not fetch_events_from_all_sessions:
                self._remember_count(sender_id, 0)
            return None
        if not fetch_events_from_all_sessions:
            self._remember_count(sender_id, len(events))
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

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, redacted; keep real values of redacted slots in the vault."""
        try:
            await self._save_redacted(tracker)
        except sa.exc.SQLAlchemyError:
            metrics.TRACKER_STORE_ERRORS.labels("save").inc()
            raise

    async def _save_redacted(self, tracker: DialogueStateTracker) -> None:
        self._saving[tracker.sender_id] = tracker
        try:
            await self.stream_events(tracker)
        finally:
            self._saving.pop(tracker.sender_id, None)
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
            for event, password_expected in _with_password_context(tracker, new_events):
                data = event.as_dict()
                metrics.record_event(data)
                stored = redact_event(data, password_expected=password_expected)
                if data.get("event") == "slot" and stored.get("value") != data.get("value"):
                    self.slot_vault.put(tracker.sender_id, _slot_key(data), data.get("value"))
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=(stored.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                        action_name=stored.get("name"),
                        data=json.dumps(stored),
                    )
                )
            session.commit()
        logger.debug("Tracker of conversation '%s' stored, redacted", tracker.sender_id)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The tracker's events not stored yet: those after the ones loaded, else counted as Rasa does."""
        loaded = self._loaded_counts.pop(tracker.sender_id, None)
        if loaded is None or loaded > len(tracker.events):
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, loaded, len(tracker.events))

    async def _stream_new_events(self, event_broker: EventBroker, new_events: list[Event], sender_id: str) -> None:
        """Publish new events to the event broker, redacted like the stored ones."""
        tracker = self._saving.get(sender_id)
        for event, password_expected in _with_password_context(tracker, new_events):
            event_broker.publish({"sender_id": sender_id, **redact_event(event.as_dict(),
                                                                          password_expected=password_expected)})


def _with_password_context(
    tracker: DialogueStateTracker | None, new_events: list[Event]
) -> Iterator[tuple[Event, bool]]:
    """Each new event with whether a password may be in it: a user message right after the assistant
    spoke of passwords (`bot.privacy.expects_password` of its last action before listening)."""
    last_action: str | None = None
    if tracker is not None:  # the new events are the tracker's last ones
        for event in itertools.islice(tracker.events, max(0, len(tracker.events) - len(new_events))):
            if isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
                last_action = event.action_name
    for event in new_events:
        yield event, isinstance(event, UserUttered) and expects_password(last_action)
        if isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            last_action = event.action_name


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

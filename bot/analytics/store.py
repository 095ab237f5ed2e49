"""Read conversation sessions straight from the `events` table of Rasa's SQL tracker store."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

SESSION_START_ACTION = "action_session_start"

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("data", sa.Text),
)


class TrackerStoreError(Exception):
    """The tracker store cannot be read (no database, or no `events` table)."""


@dataclass(frozen=True)
class Session:
    """One conversation session of one sender: Rasa's events as dictionaries, in order."""

    sender_id: str
    events: list[dict]

    @property
    def start(self) -> float:
        """Epoch seconds of the session's first event."""
        return float(self.events[0].get("timestamp") or 0.0)


def split_sessions(sender_id: str, events: list[dict]) -> list[Session]:
    """Cut one sender's events into sessions at each `action_session_start`."""
    sessions: list[Session] = []
    current: list[dict] = []
    for event in events:
        if event.get("event") == "action" and event.get("name") == SESSION_START_ACTION and current:
            sessions.append(Session(sender_id, current))
            current = []
        current.append(event)
    if current:
        sessions.append(Session(sender_id, current))
    return sessions


def iter_sessions(
    url: str,
    since_ts: float | None = None,
    until_ts: float | None = None,
    sender_prefix: str | None = None,
) -> Iterator[Session]:
    """Sessions of every sender with an event in [since_ts, until_ts), one sender at a time.

    A sender's whole history is read so that a session that started before the window is
    still cut at its real start; the caller keeps the sessions that start inside the window.
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        raise TrackerStoreError(f"le fichier {parsed.database} n'existe pas")
    engine = sa.create_engine(url, future=True)
    try:
        if not sa.inspect(engine).has_table("events"):
            raise TrackerStoreError(f"pas de table « events » dans {engine.url!r}")
        senders = sa.select(EVENTS.c.sender_id).distinct()
        if since_ts is not None:
            senders = senders.where(EVENTS.c.timestamp >= since_ts)
        if until_ts is not None:
            senders = senders.where(EVENTS.c.timestamp < until_ts)
        if sender_prefix:
            senders = senders.where(EVENTS.c.sender_id.startswith(sender_prefix, autoescape=True))
        query = (
            sa.select(EVENTS.c.sender_id, EVENTS.c.data)
            .where(EVENTS.c.sender_id.in_(senders.scalar_subquery()))
            .order_by(EVENTS.c.sender_id, EVENTS.c.id)
        )
        with engine.connect() as connection:
            rows = connection.execution_options(stream_results=True, yield_per=1000).execute(query)
            sender: str | None = None
            events: list[dict] = []
            for sender_id, data in rows:
                if sender_id != sender:
                    if sender is not None:
                        yield from split_sessions(sender, events)
                    sender, events = sender_id, []
                events.append(json.loads(data) if data else {})
            if sender is not None:
                yield from split_sessions(sender, events)
    except sa.exc.OperationalError as error:
        raise TrackerStoreError(str(error.orig)) from error
    finally:
        engine.dispose()

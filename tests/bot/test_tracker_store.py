"""The redacting tracker store on a real SQLite file and on the real PostgreSQL: raw rows, slots, purge, and
what happens when that database fails for real (a proxy cut, a file gone) and comes back."""
from __future__ import annotations

import asyncio
import gc
import json
import types
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_memory import DATA, ConversationMemory, StoredRow, stored_row
from bot.tracker_store import InMemorySlotVault, RedactingSQLTrackerStore, RedisSlotVault, purge_tracker_store
from tests.chaos.proxy import CuttableProxy

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
SECRETS = ("123456", "1985-03-12", "12 mars 1985", "450 555-0123", "marie.tremblay@example.com", "Soleil2024!")

DOMAIN = Domain.from_dict(
    {
        "version": "3.1",
        "intents": ["inform", "greet"],
        "entities": ["card_digits", "birth_date"],
        "slots": {
            name: {"type": "any", "influence_conversation": False, "mappings": [{"type": "custom"}]}
            for name in ("card_digits", "birth_date", "email", "requested_slot_topic", "another_try")
        },
    }
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh tracker database: a SQLite file, or a PostgreSQL database of its own dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    name = f"test_tracker_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url, clock) -> Iterator[RedactingSQLTrackerStore]:
    tracker_store = RedactingSQLTrackerStore(
        domain=DOMAIN, host=database_url, slot_vault=InMemorySlotVault(ttl_seconds=900, clock=clock)
    )
    yield tracker_store
    tracker_store.engine.dispose()


def raw_rows(store: RedactingSQLTrackerStore, sender_id: str | None = None) -> list[dict]:
    query = "SELECT sender_id, type_name, intent_name, action_name, data FROM events ORDER BY id"
    with store.engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(sa.text(query))]
    return [row for row in rows if sender_id is None or row["sender_id"] == sender_id]


def first_turn(sender_id: str) -> DialogueStateTracker:
    text = "ma carte 123456, née le 12 mars 1985, tél. 450 555-0123, marie.tremblay@example.com, Soleil2024!"
    return DialogueStateTracker.from_events(
        sender_id,
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            UserUttered(
                text,
                intent={"name": "inform", "confidence": 0.97},
                entities=[{"entity": "card_digits", "value": "123456", "start": 9, "end": 15}],
                metadata={"token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"},
            ),
            SlotSet("card_digits", "123456"),
            SlotSet("birth_date", "1985-03-12"),
            SlotSet("email", "marie.tremblay@example.com"),
            SlotSet("requested_slot_topic", "card_digits"),
            BotUttered("Merci. Votre carte expire le 31 mars 2027."),
            ActionExecuted("action_listen"),
        ],
        slots=DOMAIN.slots,
    )


async def test_nothing_personal_reaches_the_database_rows(store):
    await store.save(first_turn("conv-1"))
    rows = raw_rows(store, "conv-1")
    dump = json.dumps(rows, ensure_ascii=False)
    for secret in SECRETS + ("eyJhbGciOiJIUzI1NiJ9", "31 mars 2027"):
        assert secret not in dump
    user = json.loads(next(r for r in rows if r["type_name"] == "user")["data"])
    assert user["text"] == "ma carte [carte], née le [date], tél. [téléphone], [courriel], [mot de passe]"
    assert user["parse_data"]["entities"][0]["value"] == "[carte]"
    assert user["metadata"]["token"] == "[jeton]"
    assert next(r for r in rows if r["type_name"] == "user")["intent_name"] == "inform"
    slots = {json.loads(r["data"])["name"]: json.loads(r["data"])["value"] for r in rows if r["type_name"] == "slot"}
    assert slots == {"card_digits": "[carte]", "birth_date": "[date]", "email": "[courriel]",
                     "requested_slot_topic": "card_digits"}


async def test_the_next_turn_still_has_the_real_slot_values(store):
    await store.save(first_turn("conv-2"))
    tracker = await store.retrieve("conv-2")
    assert tracker.get_slot("card_digits") == "123456"
    assert tracker.get_slot("birth_date") == "1985-03-12"
    assert tracker.get_slot("email") == "marie.tremblay@example.com"
    assert "[carte]" in tracker.latest_message.text, "past texts come back redacted"


async def test_personal_slots_are_forgotten_after_their_time_to_live(store, clock):
    await store.save(first_turn("conv-3"))
    clock.now += 901
    tracker = await store.retrieve("conv-3")
    assert tracker.get_slot("card_digits") is None
    assert tracker.get_slot("email") is None
    assert tracker.get_slot("requested_slot_topic") == "card_digits"


async def test_later_turns_append_in_order_without_duplicates(store):
    await store.save(first_turn("conv-4"))
    tracker = await store.retrieve("conv-4")
    tracker.update(UserUttered("et mon autre carte 654321", intent={"name": "inform", "confidence": 0.9}))
    tracker.update(SlotSet("card_digits", "654321"))
    tracker.update(BotUttered("D'accord."))
    await store.save(tracker)
    rows = raw_rows(store, "conv-4")
    assert [r["type_name"] for r in rows].count("user") == 2
    assert len(rows) == 13
    assert "654321" not in json.dumps(rows)
    again = await store.retrieve("conv-4")
    assert again.get_slot("card_digits") == "654321"
    assert len(again.events) == 12, "the latest session: all but action_session_start"
    assert len((await store.retrieve_full_tracker("conv-4")).events) == 13


async def test_the_rows_kept_in_memory_are_left_out_of_garbage_collections(store):
    """Thousands of conversations' rows stay in each instance's memory: a full collection must not go
    through them one by one (it stopped an instance for tens of ms at a time under load)."""
    await store.save(first_turn("conv-gc"))
    tracker = await store.retrieve("conv-gc")
    tracker.update(UserUttered("ma carte expire quand", intent={"name": "ask_card_expiry", "confidence": 0.9}))
    await store.save(tracker)
    await store.retrieve("conv-gc")  # the rows read after the first read: from the database's new rows
    gc.collect()
    for kept in (store.memory.view("conv-gc"), store.memory.synced("conv-gc").rows):
        assert kept and not any(gc.is_tracked(row) for row in kept)


async def test_conversations_do_not_see_each_others_slots(store):
    await store.save(first_turn("conv-5"))
    other = DialogueStateTracker.from_events(
        "conv-6", [ActionExecuted("action_listen"), SlotSet("card_digits", "246810")], slots=DOMAIN.slots
    )
    await store.save(other)
    assert (await store.retrieve("conv-5")).get_slot("card_digits") == "123456"
    assert (await store.retrieve("conv-6")).get_slot("card_digits") == "246810"


async def test_purge_deletes_only_conversations_older_than_the_cutoff(store, database_url):
    now = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    old = DialogueStateTracker.from_events(
        "old", [ActionExecuted("action_listen", timestamp=(now - timedelta(days=40)).timestamp())], slots=DOMAIN.slots
    )
    recent_events = [
        ActionExecuted("action_listen", timestamp=(now - timedelta(days=40)).timestamp()),
        UserUttered("bonjour", timestamp=(now - timedelta(days=2)).timestamp()),
    ]
    recent = DialogueStateTracker.from_events("recent", recent_events, slots=DOMAIN.slots)
    await store.save(old)
    await store.save(recent)
    assert purge_tracker_store(30, url=database_url, now=now) == 1
    assert {r["sender_id"] for r in raw_rows(store)} == {"recent"}
    assert len(raw_rows(store, "recent")) == 2, "a live conversation keeps its whole history"
    assert purge_tracker_store(1, url=database_url, now=now) == 1
    assert raw_rows(store) == []


def test_purge_of_a_store_that_was_never_used(tmp_path):
    assert purge_tracker_store(30, url=f"sqlite:///{tmp_path / 'empty.db'}") == 0


def test_purge_refuses_a_negative_age(tmp_path):
    with pytest.raises(ValueError):
        purge_tracker_store(-1, url=f"sqlite:///{tmp_path / 'x.db'}")


def test_the_in_process_vault_expires_per_conversation():
    clock = Clock()
    vault = InMemorySlotVault(ttl_seconds=10, clock=clock)
    vault.put("a", "card_digits@1.0", "123456")
    clock.now += 5
    vault.put("b", "email@2.0", "x@example.com")
    clock.now += 6
    assert vault.values("a") == {}
    assert vault.values("b") == {"email@2.0": "x@example.com"}
    vault.forget("b")
    assert vault.values("b") == {}


def test_the_redis_vault_is_shared_and_expires():
    sender = f"test-{uuid.uuid4().hex}"
    first, second = RedisSlotVault("redis://127.0.0.1:6379/0", 60), RedisSlotVault("redis://127.0.0.1:6379/0", 60)
    try:
        first.put(sender, "card_digits@1.0", "123456")
        assert second.values(sender) == {"card_digits@1.0": "123456"}
        assert 0 < first._redis.ttl(RedisSlotVault.PREFIX + sender) <= 60
    finally:
        first.forget(sender)
    assert second.values(sender) == {}


async def test_the_purge_command_uses_the_settings(tmp_path, monkeypatch, capsys):
    from bot.cli import main
    from bot.settings import get_settings

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = RedactingSQLTrackerStore(domain=DOMAIN, host=url, slot_vault=InMemorySlotVault(900))
    old = datetime.now(timezone.utc) - timedelta(days=100)
    await store.save(DialogueStateTracker.from_events(
        "old", [ActionExecuted("action_listen", timestamp=old.timestamp())], slots=DOMAIN.slots))
    await store.save(DialogueStateTracker.from_events("new", [ActionExecuted("action_listen")], slots=DOMAIN.slots))
    monkeypatch.setenv("BOT_TRACKER_STORE_URL", url)
    monkeypatch.setenv("BOT_RETENTION_DAYS", "90")
    get_settings.cache_clear()
    try:
        assert main(["purge"]) == 0
        assert main(["purge", "--older-than-days", "-3"]) == 2
    finally:
        get_settings.cache_clear()
    assert "1 conversation(s) de plus de 90 jour(s) supprimée(s)." in capsys.readouterr().out
    assert {r["sender_id"] for r in raw_rows(store)} == {"new"}
    store.engine.dispose()


async def next_turn(store: RedactingSQLTrackerStore, sender_id: str, text: str) -> None:
    tracker = await store.retrieve(sender_id)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(text, intent={"name": "inform", "confidence": 0.9}))
    tracker.update(BotUttered(f"Réponse à : {text}"))
    await store.save(tracker)


async def test_two_instances_taking_turns_store_every_event_once_and_in_order(database_url, clock):
    vault = InMemorySlotVault(ttl_seconds=900, clock=clock)  # shared, as the Redis vault is
    first, second = (RedactingSQLTrackerStore(domain=DOMAIN, host=database_url, slot_vault=vault) for _ in range(2))
    try:
        await first.save(first_turn("conv-ha"))
        for number, store in enumerate((second, first, first, second, first), start=2):
            await next_turn(store, "conv-ha", f"question {number}")
        rows = raw_rows(first, "conv-ha")
        users = [json.loads(r["data"])["text"] for r in rows if r["type_name"] == "user"]
        assert users[1:] == [f"question {n}" for n in range(2, 7)]
        bots = [json.loads(r["data"])["text"] for r in rows if r["type_name"] == "bot"]
        assert bots[1:] == [f"Réponse à : question {n}" for n in range(2, 7)]
        assert len(rows) == 10 + 5 * 3
        assert (await second.retrieve("conv-ha")).get_slot("card_digits") == "123456"
    finally:
        first.engine.dispose()
        second.engine.dispose()


def rasas_reading(store: RedactingSQLTrackerStore, sender_id: str) -> list[StoredRow]:
    """The latest session's rows as Rasa's own `_event_query` reads them (the whole session, every time)."""
    with store.session_scope() as session:
        return [stored_row(e.type_name, e.timestamp, e.intent_name, e.action_name, e.data)
                for e in store._event_query(session, sender_id, fetch_events_from_all_sessions=False)]


def full_reads(store: RedactingSQLTrackerStore) -> list[str]:
    """Collects the statements that read a whole session (the others read only the rows written since)."""
    seen: list[str] = []

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def _seen(_conn, _cursor, statement, *_args) -> None:
        if "max(events.id)" in statement:
            seen.append(statement)

    return seen


async def test_a_read_after_the_first_asks_only_for_new_rows_and_equals_rasas_reading(database_url, clock):
    """Another instance writes between two turns (HAProxy moved the conversation), starts a new session, and
    rows appear below what was read (a late commit) or go (a purge): each read equals Rasa's reading."""
    vault = InMemorySlotVault(ttl_seconds=900, clock=clock)
    first, second = (RedactingSQLTrackerStore(domain=DOMAIN, host=database_url, slot_vault=vault) for _ in range(2))
    full = full_reads(first)

    async def read_equals_rasas() -> DialogueStateTracker:
        tracker = await first.retrieve("conv-inc")
        fresh = RedactingSQLTrackerStore(domain=DOMAIN, host=database_url, slot_vault=vault)
        try:
            assert first._read("conv-inc", False) == rasas_reading(fresh, "conv-inc")
            expected = await fresh.retrieve("conv-inc")
        finally:
            fresh.engine.dispose()
        assert [e.as_dict() for e in tracker.events] == [e.as_dict() for e in expected.events]
        assert tracker.current_slot_values() == expected.current_slot_values()
        return tracker

    try:
        await first.save(first_turn("conv-inc"))
        await read_equals_rasas()
        await next_turn(first, "conv-inc", "question 2")
        await second.save(DialogueStateTracker.from_events("conv-gap", [ActionExecuted("action_listen")]))
        await next_turn(second, "conv-inc", "question 3")  # written by the other instance
        tracker = await read_equals_rasas()
        assert tracker.latest_message.text == "question 3"
        assert tracker.get_slot("card_digits") == "123456"
        assert len(full) == 1, "only the first read reads the whole session"

        later = max(e.timestamp for e in tracker.events) + 10  # the other instance starts a new session
        moved = await second.retrieve("conv-inc")
        for event in (ActionExecuted("action_session_start", timestamp=later), SessionStarted(timestamp=later),
                      SlotSet("card_digits", "123456", timestamp=later), ActionExecuted("action_listen",
                                                                                       timestamp=later)):
            moved.update(event)
        await second.save(moved)
        tracker = await read_equals_rasas()
        assert [e.type_name for e in tracker.events] == ["action", "session_started", "slot", "action"]
        assert len(full) == 1

        # A row committed late below the id read (PostgreSQL's ids are taken before commit): read again whole.
        with first.engine.begin() as connection:
            low = connection.execute(sa.text("SELECT id FROM events WHERE sender_id = 'conv-gap'")).scalar()
            connection.execute(sa.text("DELETE FROM events WHERE id = :id"), {"id": low})  # an id taken, free
            connection.execute(sa.text(
                "INSERT INTO events (id, sender_id, type_name, timestamp, data) VALUES (:id, 'conv-inc', 'bot', "
                ":at, :data)"), {"id": low, "at": later + 1, "data": json.dumps(
                    {"event": "bot", "timestamp": later + 1, "text": "tardif", "data": {}, "metadata": {}})})
        tracker = await read_equals_rasas()
        assert "tardif" in [e.text for e in tracker.events if isinstance(e, BotUttered)]
        assert len(full) == 2, "the count below the id read changed: the whole session is read again"
        await next_turn(first, "conv-inc", "question 4")
        await read_equals_rasas()
        assert len(full) == 2

        assert purge_tracker_store(0, url=database_url, now=datetime.now(timezone.utc) + timedelta(days=1)) == 1
        assert await first.retrieve("conv-inc") is None, "a purged conversation is gone for this instance too"
    finally:
        first.engine.dispose()
        second.engine.dispose()


async def test_a_tracker_saved_twice_without_reloading_stores_its_new_events_once(store):
    await store.save(first_turn("conv-twice"))
    tracker = await store.retrieve("conv-twice")
    tracker.update(UserUttered("encore une question", intent={"name": "inform", "confidence": 0.9}))
    await store.save(tracker)
    tracker.update(BotUttered("Voici la réponse."))
    await store.save(tracker)
    types = [r["type_name"] for r in raw_rows(store, "conv-twice")]
    assert types.count("user") == 2
    assert types.count("bot") == 2
    assert len(types) == 12


async def test_a_message_right_after_a_password_answer_is_masked_strictly(store):
    """The citizen may type the password alone after the assistant spoke of passwords; later messages read normally."""
    tracker = await store.retrieve("conv-pw") or DialogueStateTracker("conv-pw", DOMAIN.slots)
    for event in [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        UserUttered("le site refuse", intent={"name": "password_rejected", "confidence": 0.9}),
        ActionExecuted("utter_password_rejected"), BotUttered("Vérifiez qu'il contient un symbole."),
        ActionExecuted("action_listen"),
        UserUttered("Soleil/bleu", intent={"name": "nlu_fallback", "confidence": 0.2}),
        ActionExecuted("utter_default"), BotUttered("Je n'ai pas compris."), ActionExecuted("action_listen"),
        UserUttered("Soleil/bleu", intent={"name": "nlu_fallback", "confidence": 0.2}),
    ]:
        tracker.update(event)
    await store.save(tracker)
    users = [json.loads(r["data"])["text"] for r in raw_rows(store, "conv-pw") if r["type_name"] == "user"]
    assert users == ["le site refuse", "[mot de passe]", "Soleil/bleu"]


# --- the database fails: the conversation goes on from the instance's memory, nothing lost (issue 15) ---


class Outage:
    """A tracker database this test takes away and gives back, for real: PostgreSQL through a TCP proxy that
    drops every connection and refuses new ones (tests/chaos/proxy.py); a SQLite file replaced by a folder
    (the pooled connections closed first, as a restart of the database closes them)."""

    def __init__(self, url: str, direct_url: str, proxy: CuttableProxy | None = None, path: Path | None = None):
        self.url, self.direct_url, self.proxy, self.path = url, direct_url, proxy, path
        self.stores: list[RedactingSQLTrackerStore] = []

    def store(self, **kwargs) -> RedactingSQLTrackerStore:
        store = RedactingSQLTrackerStore(domain=DOMAIN, host=self.url, slot_vault=self.vault, **kwargs)
        self.stores.append(store)
        return store

    def cut(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
            return
        assert self.path is not None
        for store in self.stores:
            store.engine.dispose()
        self.path.rename(self.path.with_suffix(".away"))
        self.path.mkdir()

    def restore(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
            return
        assert self.path is not None
        self.path.rmdir()
        self.path.with_suffix(".away").rename(self.path)

    def rows(self, sender_id: str) -> list[dict]:
        engine = sa.create_engine(self.direct_url)
        try:
            query = "SELECT type_name, timestamp, data FROM events WHERE sender_id = :s ORDER BY id"
            with engine.connect() as connection:
                return [dict(row._mapping) for row in connection.execute(sa.text(query), {"s": sender_id})]
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def outage(request, tmp_path, clock) -> Iterator[Outage]:
    if request.param == "sqlite":
        path = tmp_path / "tracker.db"
        down = Outage(f"sqlite:///{path}", f"sqlite:///{path}", path=path)
    else:
        name = f"test_tracker_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        proxy = CuttableProxy(("127.0.0.1", 5432))
        down = Outage(f"postgresql://postgres@127.0.0.1:{proxy.port}/{name}",
                      f"postgresql://postgres@127.0.0.1:5432/{name}", proxy=proxy)
    down.vault = InMemorySlotVault(ttl_seconds=900, clock=clock)  # type: ignore[attr-defined]
    try:
        yield down
    finally:
        for store in down.stores:
            store.engine.dispose()
        if down.proxy is not None:
            down.proxy.stop()
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def half_filled_form(sender_id: str) -> DialogueStateTracker:
    """The identification form after the card digits, waiting for the birth date."""
    return DialogueStateTracker.from_events(
        sender_id,
        [
            ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
            UserUttered("quand expire ma carte", intent={"name": "inform", "confidence": 0.9}),
            ActionExecuted("identify_form"), ActiveLoop("identify_form"), SlotSet("requested_slot", "card_digits"),
            BotUttered("Quels sont les 6 derniers chiffres de votre carte?"), ActionExecuted("action_listen"),
            UserUttered("123 456", intent={"name": "inform", "confidence": 0.9}),
            ActionExecuted("identify_form"), SlotSet("card_digits", "123456"), SlotSet("requested_slot", "birth_date"),
            BotUttered("Quelle est votre date de naissance?"), ActionExecuted("action_listen"),
        ],
        slots=FORM_DOMAIN.slots,
    )


FORM_DOMAIN = Domain.from_dict(
    {
        "version": "3.1",
        "intents": ["inform"],
        "slots": {
            name: {"type": "any", "influence_conversation": False, "mappings": [{"type": "custom"}]}
            for name in ("card_digits", "birth_date")
        },
        "forms": {"identify_form": {"required_slots": ["card_digits", "birth_date"]}},
    }
)


def users(rows: list[dict]) -> list[str]:
    return [json.loads(r["data"])["text"] for r in rows if r["type_name"] == "user"]


def assert_nothing_in_clear(rows: list[dict]) -> None:
    dump = json.dumps(rows, ensure_ascii=False)
    for secret in SECRETS + ("123 456",):
        assert secret not in dump


async def test_a_half_filled_form_goes_on_during_an_outage_and_is_stored_once_after(outage):
    store = outage.store()
    store.domain = FORM_DOMAIN
    await store.save(half_filled_form("conv-form"))
    stored_before = len(outage.rows("conv-form"))
    errors = metric("assistant_tracker_store_errors_total", operation="retrieve")
    outage.cut()

    during = await store.retrieve("conv-form")
    assert during is not None, "not a blank conversation"
    assert during.active_loop_name == "identify_form"
    assert during.get_slot("card_digits") == "123456", "the vault still holds the real value"
    assert during.get_slot("requested_slot") == "birth_date"
    assert metric("assistant_tracker_store_errors_total", operation="retrieve") == errors + 1
    for event in (UserUttered("12 mars 1985", intent={"name": "inform", "confidence": 0.9}),
                  ActionExecuted("identify_form"), SlotSet("birth_date", "1985-03-12"), ActiveLoop(None),
                  SlotSet("requested_slot", None), BotUttered("Votre carte expire le 31 mars 2027."),
                  ActionExecuted("action_listen")):
        during.update(event)
    await store.save(during)
    assert metric("assistant_tracker_store_pending_events") == 7
    assert_nothing_in_clear([{"data": row[DATA]} for row in store.memory.view("conv-form") or []])
    again = await store.retrieve("conv-form")
    assert again is not None and again.get_slot("birth_date") == "1985-03-12" and again.active_loop_name is None
    assert len(again.events) == len(during.events)

    outage.restore()
    after = await store.retrieve("conv-form")
    assert after is not None and [e.as_dict() for e in after.events] == [e.as_dict() for e in again.events]
    rows = outage.rows("conv-form")
    assert [r["type_name"] for r in rows][1:] == [e.type_name for e in during.events], "all but action_session_start"
    assert len(rows) == stored_before + 7
    assert users(rows) == ["quand expire ma carte", "[carte]", "[date]"]
    assert_nothing_in_clear(rows)
    assert metric("assistant_tracker_store_pending_events") == 0


async def test_every_turn_of_the_outage_is_stored_once_and_in_order(outage):
    store = outage.store()
    await store.save(first_turn("conv-out"))
    outage.cut()
    for number in (2, 3, 4):
        await next_turn(store, "conv-out", f"question {number}")
    tracker = await store.retrieve("conv-out")
    tracker.update(UserUttered("encore une question", intent={"name": "inform", "confidence": 0.9}))
    await store.save(tracker)
    tracker.update(BotUttered("Voici la réponse."))
    await store.save(tracker)  # saved twice without reloading, during the outage
    recovered = metric("assistant_tracker_store_recovered_events_total")
    outage.restore()
    await next_turn(store, "conv-out", "question 5")
    rows = outage.rows("conv-out")
    assert users(rows)[1:] == ["question 2", "question 3", "question 4", "encore une question", "question 5"]
    assert len(rows) == 10 + 3 * 3 + 2 + 3
    assert metric("assistant_tracker_store_recovered_events_total") == recovered + 3 * 3 + 2
    assert_nothing_in_clear(rows)
    assert len((await store.retrieve("conv-out")).events) == 9 + 3 * 3 + 2 + 3


async def test_events_whose_write_committed_unseen_are_not_written_twice(outage):
    store = outage.store()
    await store.save(first_turn("conv-lost"))
    outage.cut()
    await next_turn(store, "conv-lost", "question 2")
    outage.restore()

    def answer_lost(_session: Any) -> None:  # the database committed; the answer never came back
        raise sa.exc.OperationalError("COMMIT", {}, ConnectionResetError("connection lost"))

    sa.event.listen(store.sessionmaker, "after_commit", answer_lost)
    await next_turn(store, "conv-lost", "question 3")
    sa.event.remove(store.sessionmaker, "after_commit", answer_lost)
    assert len(store.memory.pending("conv-lost")) == 6, "as far as the store knows, not written"
    await next_turn(store, "conv-lost", "question 4")
    rows = outage.rows("conv-lost")
    assert users(rows)[1:] == ["question 2", "question 3", "question 4"]
    assert len(rows) == 10 + 3 * 3
    assert store.memory.pending("conv-lost") == []


async def test_a_conversation_this_instance_never_saw_starts_blank_says_so_and_is_kept(outage):
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    from bot import faults

    await outage.store().save(first_turn("conv-moved"))
    other = outage.store()  # another instance: it never saw the conversation
    outage.cut()
    output = CollectingOutputChannel()
    message = UserMessage("bonjour", output, "conv-moved", input_channel="rest")
    blank = metric("assistant_tracker_store_memory_reads_total", outcome="blank")
    with faults.restart_notice(message, lambda: {}):
        assert await other.retrieve("conv-moved") is None
        await output.send_response("conv-moved", {"text": "Bonjour!"})
        await output.send_response("conv-moved", {"text": "Que puis-je faire pour vous?"})
    assert [m["text"] for m in output.messages][1:] == ["Bonjour!", "Que puis-je faire pour vous?"]
    assert output.messages[0]["text"].startswith("Un problème technique m'empêche de retrouver le début")
    assert "send_response" not in vars(output), "the channel's own method again after the turn"
    assert metric("assistant_tracker_store_memory_reads_total", outcome="blank") == blank + 1

    tracker = DialogueStateTracker("conv-moved", DOMAIN.slots)
    await other.save(tracker)  # Rasa saves the tracker it creates
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                  UserUttered("bonjour", intent={"name": "greet", "confidence": 0.9}), BotUttered("Bonjour!"),
                  ActionExecuted("action_listen")):
        tracker.update(event)
    await other.save(tracker)
    resumed = await other.retrieve("conv-moved")
    assert resumed is not None and len(resumed.events) == 5, "the new session goes on from memory"
    outage.restore()
    latest = await other.retrieve("conv-moved")
    assert latest is not None and [e.type_name for e in latest.events] == [e.type_name for e in resumed.events]
    assert users(outage.rows("conv-moved")) == [users(raw_rows(other, "conv-moved"))[0], "bonjour"]
    assert len(outage.rows("conv-moved")) == 10 + 6, "the old session, then the one started during the outage"


async def test_a_successful_operation_writes_what_other_conversations_owe(outage):
    store = outage.store()
    for sender in ("conv-a", "conv-b", "conv-c"):
        await store.save(first_turn(sender))
    outage.cut()
    await next_turn(store, "conv-a", "pendant la panne A")
    await next_turn(store, "conv-b", "pendant la panne B")
    assert metric("assistant_tracker_store_pending_conversations") == 2
    outage.restore()
    await next_turn(store, "conv-c", "après la panne")
    assert users(outage.rows("conv-a"))[1:] == ["pendant la panne A"]
    assert users(outage.rows("conv-b"))[1:] == ["pendant la panne B"]
    assert metric("assistant_tracker_store_pending_conversations") == 0


async def test_pending_events_are_retried_without_a_turn(outage):
    store = outage.store()
    store.FLUSH_INTERVAL_SECONDS = 0.05
    await store.save(first_turn("conv-quiet"))
    outage.cut()
    await next_turn(store, "conv-quiet", "dernière question")
    assert store._flusher is not None and not store._flusher.done()
    outage.restore()
    await asyncio.wait_for(store._flusher, 10)  # the retry task ends once nothing is owed
    assert users(outage.rows("conv-quiet"))[1:] == ["dernière question"]


async def test_through_rasas_fail_safe_the_conversation_goes_on_and_readiness_says_down(outage):
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot import health

    store = outage.store()
    wrapped = FailSafeTrackerStore(store)
    await wrapped.save(first_turn("conv-safe"))
    outage.cut()
    tracker = await wrapped.retrieve("conv-safe")
    assert tracker is not None and tracker.get_slot("card_digits") == "123456"
    tracker.update(UserUttered("et ensuite", intent={"name": "inform", "confidence": 0.9}))
    await wrapped.save(tracker)
    assert wrapped._fallback_tracker_store is None, "Rasa's fail-safe never kicked in"
    check = await health.check_tracker_store(types.SimpleNamespace(tracker_store=wrapped), 5)
    assert not check.up
    outage.restore()
    assert (await health.check_tracker_store(types.SimpleNamespace(tracker_store=wrapped), 5)).up
    await next_turn(store, "conv-safe", "de retour")
    assert users(outage.rows("conv-safe"))[1:] == ["et ensuite", "de retour"]


async def test_the_memory_of_recent_conversations_stays_within_its_bound(outage):
    store = outage.store(memory=ConversationMemory(max_conversations=3, idle_seconds=3600))
    for number in range(6):
        await store.save(first_turn(f"conv-{number}"))
        await store.retrieve(f"conv-{number}")
    assert len(store.memory) == 3
    assert await store.retrieve("conv-0") is not None, "a conversation the memory dropped is read from the database"
    for number in (3, 4, 5):
        await store.retrieve(f"conv-{number}")
    lost = metric("assistant_tracker_store_lost_events_total")
    outage.cut()
    for number in (3, 4, 5):
        await next_turn(store, f"conv-{number}", "pendant la panne")
    # Two more conversations: the first makes the bound drop the oldest one that owes events (all do), the
    # second the least recently used that owes nothing (the first).
    for number in (6, 7):
        assert await store.retrieve(f"conv-{number}") is None
    assert len(store.memory) == 3
    assert metric("assistant_tracker_store_lost_events_total") == lost + 3
    assert store.memory.pending_conversations() == ["conv-4", "conv-5"]
    assert metric("assistant_tracker_store_pending_events") == 2 * 3
    outage.restore()
    await next_turn(store, "conv-5", "après")
    assert users(outage.rows("conv-5"))[1:] == ["pendant la panne", "après"]
    assert users(outage.rows("conv-4"))[1:] == ["pendant la panne"]
    assert users(outage.rows("conv-3"))[1:] == [], "dropped by the bound, and counted"

async def test_passwords_typed_again_after_the_check_are_masked_strictly_turn_after_turn(store):
    """Another try (bot/another_try.py): each retyped password comes right after a password check, read as
    anything by the model; the store masks it strictly, whatever separates its words."""
    turns = [
        [UserUttered("le site refuse mon mot de passe Soleilbleu2024", intent={"name": "password_rejected"}),
         ActionExecuted("utter_password_rejected"), BotUttered("Vérifiez qu'il contient un symbole.")],
        [UserUttered("non attends c'était Soleil/bleu", intent={"name": "out_of_scope", "confidence": 0.9}),
         SlotSet("another_try", None)],
        [UserUttered("ou plutôt Pomme/verte", intent={"name": "nlu_fallback", "confidence": 0.3}),
         SlotSet("another_try", None)],
    ]
    tracker = DialogueStateTracker("conv-again", DOMAIN.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted()):
        tracker.update(event)
    for turn in turns:
        for event in [ActionExecuted("action_listen"), *turn, ActionExecuted("action_check_password"),
                      BotUttered("Le mot de passe que vous avez écrit ne respecte pas ces règles :"),
                      SlotSet("another_try", "action_check_password")]:
            tracker.update(event)
        await store.save(tracker)
        tracker = await store.retrieve("conv-again")
    rows = raw_rows(store, "conv-again")
    users = [json.loads(r["data"])["text"] for r in rows if r["type_name"] == "user"]
    assert users == ["le site refuse mon mot de passe [mot de passe]", "non attends c'était [mot de passe]",
                     "ou plutôt [mot de passe]"]
    dump = json.dumps(rows, ensure_ascii=False)
    for secret in ("Soleilbleu2024", "Soleil/bleu", "Pomme/verte"):
        assert secret not in dump

"""The redacting tracker store on a real SQLite file and on the real PostgreSQL: raw rows, slots, purge."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import InMemorySlotVault, RedactingSQLTrackerStore, RedisSlotVault, purge_tracker_store

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

"""`make scale`: two Rasa instances and an action server on PostgreSQL and Redis, behind HAProxy.

The proxy is the real one of `make run` (Debian's HAProxy, scripts/haproxy.cfg via
scripts/haproxy.sh): it routes each conversation to one instance by a hash of the conversation
id read from the JSON body (Rasa's Redis lock store races between instances, and the phone line
counts silences per call in one process's memory). Phone calls first: each call's silences are
counted by one instance, so the second silence transfers. Then 200 conversations of 5 turns run
at once. After the second turn one instance is killed (SIGKILL); its
conversations continue on the other with their history, from PostgreSQL, and with their
personal slots, from the Redis slot vault. Then every user message and every bot reply must be
stored exactly once and in order, and each conversation must have taken the same actions as a
reference conversation. Skipped unless BOT_SCALE_TEST=1 (the Makefile's `scale` target sets it).
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy as sa

from bot.privacy import redact_event
from bot.settings import PROJECT_ROOT
from bot.tools.bench import API_TOKEN, Stack, make_stack, redis_lock_store

pytestmark = pytest.mark.skipif(not os.environ.get("BOT_SCALE_TEST"), reason="run with `make scale`")

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379"
CONVERSATIONS = 200
CARD = "123456"
SCRIPT = [
    "Bonjour",
    f'/inform{{"card_digits": "{CARD}"}}',
    "Comment créer un compte?",
    "Quelles sont les règles pour le mot de passe?",
    "merci beaucoup",
]
# As stored: the card digits masked, the payload's intent and entity name kept for the help desk.
STORED_SCRIPT = [
    "Bonjour",
    '/inform{"card_digits": "[carte]"}',
    "Comment créer un compte?",
    "Quelles sont les règles pour le mot de passe?",
    "merci beaucoup",
]
KILL_AFTER_TURN = 2


def trained_model() -> Path:
    """The current model, trained first when data or config changed (scripts/train.sh)."""
    out = subprocess.run([str(PROJECT_ROOT / "scripts" / "train.sh")], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True)
    return PROJECT_ROOT / out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, str]]:
    suffix = uuid.uuid4().hex[:10]
    names = {"tracker": f"scale_tracker_{suffix}", "accounts": f"scale_accounts_{suffix}"}
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names.values():
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield {key: f"postgresql://postgres@127.0.0.1:5432/{name}" for key, name in names.items()}
    finally:
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def stack(databases, tmp_path_factory) -> Iterator[Stack]:
    prefix = f"scale{uuid.uuid4().hex[:8]}"
    env = {
        "BOT_DATABASE_URL": databases["accounts"],
        "BOT_TRACKER_STORE_URL": databases["tracker"],
        "BOT_SLOT_VAULT_URL": f"{REDIS_URL}/4",
    }
    lock_store = redis_lock_store(3, prefix)
    running = make_stack(tmp_path_factory.mktemp("scale"), env)
    model = trained_model()
    running.start_actions(workers=2)
    running.start_rasa("rasa-a", model, lock_store)
    running.start_rasa("rasa-b", model, lock_store)
    try:
        running.wait_until_up()
        running.start_proxy()
        running.wait_until_up()
        yield running
    finally:
        running.stop()
        redis.Redis.from_url(f"{REDIS_URL}/4").flushdb()


def instance_url(stack: Stack, reply: requests.Response) -> str:
    """The Rasa instance HAProxy sent a request to (its `X-Rasa-Instance` header, rasa1 = the first)."""
    return stack.rasa_urls[int(reply.headers["X-Rasa-Instance"].removeprefix("rasa")) - 1]


def test_a_phone_call_stays_on_one_instance_so_its_silences_are_counted(stack):
    calls = [f"scale-call-{uuid.uuid4().hex[:8]}" for _ in range(30)]
    served: dict[str, set[str]] = {}

    def silence(call_id: str) -> dict:
        reply = requests.post(f"{stack.proxy_url}/webhooks/ivr/webhook", json={"call_id": call_id, "transcript": ""},
                              timeout=120)
        assert reply.status_code == 200, reply.text[:300]
        served.setdefault(call_id, set()).add(instance_url(stack, reply))
        return reply.json()

    first = [silence(call_id) for call_id in calls]
    second = [silence(call_id) for call_id in calls]
    assert all(reply["actions"] == [] for reply in first), "a first silence asks whether the caller is there"
    assert all(reply["actions"][0]["type"] == "transfer" for reply in second), "the second one transfers"
    assert all(len(instances) == 1 for instances in served.values())
    assert len(set().union(*served.values())) == 2, "the calls were spread over both instances"


def test_two_instances_on_postgresql_and_redis_lose_nothing_when_one_dies(stack, databases):
    received: dict[str, list[list[str]]] = {}
    routes: dict[str, list[str]] = {}
    lock = threading.Lock()

    def turn(number: int, text: str) -> None:
        sender = f"scale-{number:03d}"
        reply = requests.post(f"{stack.proxy_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                              timeout=600)
        assert reply.status_code == 200, reply.text[:300]
        with lock:
            received.setdefault(sender, []).append([m.get("text", "") for m in reply.json()])
            routes.setdefault(sender, []).append(instance_url(stack, reply))

    def converse(number: int, turns: list[str]) -> None:
        for text in turns:
            turn(number, text)

    with ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
        list(pool.map(lambda n: converse(n, SCRIPT[:KILL_AFTER_TURN]), range(CONVERSATIONS)))
    assert all(len(set(r)) == 1 for r in routes.values()), "each conversation stayed on one instance"
    on_killed = {s for s, r in routes.items() if r[-1] == stack.rasa_urls[0]}
    stack.processes["rasa-a"].kill()  # SIGKILL: no goodbye to HAProxy
    stack.stop("rasa-a")
    with ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
        list(pool.map(lambda n: converse(n, SCRIPT[KILL_AFTER_TURN:]), range(CONVERSATIONS)))

    assert 0 < len(on_killed) < CONVERSATIONS, "the hash spread conversations over both instances"
    assert all(routes[s][-1] == stack.rasa_urls[1] for s in on_killed), "they moved to the survivor"
    stayed = set(routes) - on_killed
    assert all(set(routes[s]) == {stack.rasa_urls[1]} for s in stayed), "the others never moved"

    engine = sa.create_engine(databases["tracker"])
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT sender_id, type_name, action_name, data FROM events ORDER BY id"))
        events: dict[str, list] = {}
        for sender, type_name, action_name, data in rows:
            if not sender.startswith("scale-call-"):  # the phone calls of the test above, handed to a person
                events.setdefault(sender, []).append((type_name, action_name, json.loads(data)))
    engine.dispose()

    def actions(sender: str) -> list[str]:
        return [a for t, a, _ in events[sender] if t == "action" and a not in ("action_listen", "action_session_start")]

    reference = actions("scale-000")
    assert len(events) == CONVERSATIONS
    for number in range(CONVERSATIONS):
        sender = f"scale-{number:03d}"
        stored = events[sender]
        user_texts = [d["text"] for t, _, d in stored if t == "user"]
        assert user_texts == STORED_SCRIPT, sender
        bot_texts = [d.get("text") or "" for t, _, d in stored if t == "bot"]
        replies = [text or "" for turn_replies in received[sender] for text in turn_replies]
        assert len(bot_texts) == len(replies), f"{sender}: every reply stored exactly once"
        expected = [redact_event({"event": "bot", "text": r})["text"] for r in replies]
        assert bot_texts == expected, f"{sender}: replies stored in order"
        assert actions(sender) == reference, f"{sender}: same actions as every other conversation"
        assert CARD not in json.dumps(stored)

    survivor = stack.rasa_urls[1]
    for sender in sorted(on_killed)[:20]:
        tracker = requests.get(f"{survivor}/conversations/{sender}/tracker", params={"token": API_TOKEN}, timeout=30)
        assert tracker.json()["slots"]["card_digits"] == CARD, "the slot vault in Redis followed the conversation"


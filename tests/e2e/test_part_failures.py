"""When a part fails, against a real Rasa server and action server of their own (docs/production.md,
"When a part fails"):

- the slot vault (Redis) loses a half-filled form's values between two turns: the citizen hears why
  the form asks again, and the form goes on to the identification;
- a conversation's messages sent at once, through the Redis lock store (`bot.lock_store`), are
  answered one after the other, and the lock is gone after the last;
- the account database is slow (SQLite's write lock held elsewhere) past Rasa's time limit for the
  action: the citizen gets the technical-problem message, and the confirmation email the action would
  have asked for is not recorded afterwards (the action's deadline, bot/deadline.py).
"""
from __future__ import annotations

import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests

from tests.e2e.conftest import RasaStack, start_stack, stop_stack
from tests.responses import render

VAULT_URL = "redis://127.0.0.1:6379/6"
LOCK_PREFIX = f"e2elock{uuid.uuid4().hex[:8]}"
LOCK_STORE = ("\nlock_store:\n  type: bot.lock_store.RedisTicketLockStore\n  url: 127.0.0.1\n  port: 6379\n"
              f"  db: 6\n  key_prefix: {LOCK_PREFIX}\n")
ACTION_TIMEOUT_SECONDS = 2
JEAN_EMAIL = "jean.gagnon@example.com"


def _redis() -> redis.Redis | None:
    client = redis.Redis.from_url(VAULT_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        return None
    return client


@pytest.fixture(scope="module")
def vault() -> redis.Redis:
    client = _redis()
    if client is None:
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    return client


@pytest.fixture(scope="module")
def failing_stack(rasa_model: Path, tmp_path_factory: pytest.TempPathFactory, vault) -> Iterator[RasaStack]:
    env = {"BOT_SLOT_VAULT_URL": VAULT_URL, "BOT_ACTION_TIMEOUT_SECONDS": str(ACTION_TIMEOUT_SECONDS)}
    stack = start_stack(tmp_path_factory.mktemp("rasa-failures"), rasa_model, extra_env=env,
                        extra_endpoints=LOCK_STORE)
    yield stack
    stop_stack(stack)
    shutil.rmtree(stack.workdir, ignore_errors=True)
    for key in vault.scan_iter(f"{LOCK_PREFIX}:*"):
        vault.delete(key)


def test_messages_of_one_conversation_sent_at_once_are_answered_in_turn_under_the_redis_lock(failing_stack, vault):
    sender = f"lock-{uuid.uuid4().hex[:8]}"
    texts = ["bonjour", "comment créer un compte", "merci beaucoup"]  # nothing personal: stored as said
    with ThreadPoolExecutor(len(texts)) as pool:
        replies = list(pool.map(lambda text: failing_stack.texts(sender, text), texts))
    assert len(replies) == len(texts)
    events = [event for event in failing_stack.tracker(sender)["events"] if event["event"] in ("user", "action")]
    assert sorted(event["text"] for event in events if event["event"] == "user") == sorted(texts)  # each ran once
    for before, event in zip(events, events[1:], strict=False):  # one turn at a time: each ends before the next
        if event["event"] == "user":
            assert before["event"] == "action" and before["name"] == "action_listen", events
    assert not vault.exists(f"{LOCK_PREFIX}:lock:{sender}")  # the lock is deleted after its last ticket
    ready = requests.get(f"{failing_stack.url}/ready", timeout=10).json()
    assert ready["components"]["lock_store"]["detail"] == "redis" and ready["components"]["lock_store"]["up"]


def test_a_form_whose_values_the_vault_lost_says_why_and_goes_on(failing_stack, vault):
    sender = f"vault-lost-{uuid.uuid4().hex[:8]}"
    failing_stack.texts(sender, "quand expire ma carte accès terrebonne")
    assert "six (6) derniers chiffres" in failing_stack.texts(sender, "oui")
    assert "date de naissance" in failing_stack.texts(sender, "246 810")
    key = f"bot:slot-vault:{sender}"
    assert vault.exists(key)  # the digits are in the vault, not in the tracker store
    vault.delete(key)  # what a Redis restart does to them

    reply = failing_stack.texts(sender, "21 juillet 1990")
    assert reply.startswith(render("utter_form_values_lost")), reply
    assert "six (6) derniers chiffres" in reply
    reply = failing_stack.texts(sender, "246 810")
    assert "vous êtes identifié" in reply
    assert "Sophie : carte valide jusqu'au 31 janvier 2028." in reply
    assert render("utter_form_values_lost") not in reply  # said once


def confirmation_requests(stack: RasaStack) -> int:
    with sqlite3.connect(stack.workdir / "accounts.db") as connection:
        return int(connection.execute("SELECT COUNT(*) FROM confirmation_requests").fetchone()[0])


def refused_past_deadline(stack: RasaStack) -> float:
    metrics = requests.get(f"{stack.actions_url}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("assistant_backend_errors_total{") and 'kind="deadline"' in line)


def test_a_slow_action_asks_for_no_email_once_the_citizen_was_told_it_failed(failing_stack):
    stack = failing_stack
    in_time = f"email-in-time-{uuid.uuid4().hex[:8]}"
    stack.texts(in_time, "je n'ai pas reçu le courriel de confirmation")
    before = confirmation_requests(stack)
    assert "renvoyé le courriel de confirmation" in stack.texts(in_time, JEAN_EMAIL)
    assert confirmation_requests(stack) == before + 1  # in time, the request is recorded

    late = f"email-late-{uuid.uuid4().hex[:8]}"
    stack.texts(late, "je n'ai pas reçu le courriel de confirmation")
    before, refused = confirmation_requests(stack), refused_past_deadline(stack)
    # The account database is busy: another writer holds SQLite's lock for longer than Rasa waits.
    writer = sqlite3.connect(stack.workdir / "accounts.db", isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(ACTION_TIMEOUT_SECONDS + 1.5, lambda: writer.execute("ROLLBACK"))
    release.start()
    try:
        reply = stack.texts(late, JEAN_EMAIL)
    finally:
        release.join()
        writer.close()
    assert reply.startswith("Désolé, un problème technique"), reply
    assert "450 961-2001" in reply
    started = time.monotonic()  # the action server goes on once the lock is released, then refuses
    while refused_past_deadline(stack) == refused and time.monotonic() - started < 20:
        time.sleep(0.2)
    assert refused_past_deadline(stack) == refused + 1
    assert confirmation_requests(stack) == before  # nothing asked for after the citizen was told it failed

"""`make scale`: two Rasa instances and an action server on PostgreSQL and Redis, behind a sticky front.

200 conversations of 5 turns run at once through a front that routes each conversation to one
instance by a hash of its sender id (Rasa's Redis lock store races between instances, so a
conversation stays on one). After the second turn one instance is killed (SIGKILL); its
conversations continue on the other with their history, from PostgreSQL, and with their
personal slots, from the Redis slot vault. Then every user message and every bot reply must be
stored exactly once and in order, and each conversation must have taken the same actions as a
reference conversation. Skipped unless BOT_SCALE_TEST=1 (the Makefile's `scale` target sets it).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy as sa

from bot.privacy import redact_event
from bot.settings import PROJECT_ROOT
from bot.tools.bench import API_TOKEN, Stack, make_stack

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


class StickyFront:
    """A small HTTP front: each sender id always goes to the same live instance (hash), else the next.

    An instance that refuses connections is dead and its conversations go to the next one; any
    other error is a 502 (never a retry, which could store a message twice).
    """

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.dead: set[str] = set()
        # At most 32 requests at a time per instance, the others wait (as nginx's max_conns would).
        self.slots = {upstream: threading.BoundedSemaphore(32) for upstream in upstreams}
        self.routes: dict[str, list[str]] = {}
        lock = threading.Lock()
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sender = json.loads(body).get("sender", "")
                start = zlib.crc32(sender.encode()) % len(front.upstreams)
                for offset in range(len(front.upstreams)):
                    upstream = front.upstreams[(start + offset) % len(front.upstreams)]
                    if upstream in front.dead:
                        continue
                    try:
                        with front.slots[upstream]:
                            reply = requests.post(upstream + self.path, data=body, timeout=300,
                                                  headers={"Content-Type": "application/json"})
                    except requests.ConnectionError:
                        if not front.alive(upstream):
                            front.dead.add(upstream)
                            continue
                        self.send_error(502)
                        return
                    with lock:
                        front.routes.setdefault(sender, []).append(upstream)
                    self.send_response(reply.status_code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.content)))
                    self.end_headers()
                    self.wfile.write(reply.content)
                    return
                self.send_error(502)

            def log_message(self, *args: object) -> None:
                return

        class Server(ThreadingHTTPServer):
            request_queue_size = 4 * CONVERSATIONS  # all conversations connect at once
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def alive(upstream: str) -> bool:
        """Whether an instance still accepts connections (a killed one refuses them)."""
        host, port = upstream.removeprefix("http://").split(":")
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
        except OSError:
            return False
        return True

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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
    lock_store = f"\nlock_store:\n  type: redis\n  url: 127.0.0.1\n  port: 6379\n  db: 3\n  key_prefix: {prefix}\n"
    running = make_stack(tmp_path_factory.mktemp("scale"), env)
    model = trained_model()
    running.start_actions(workers=2)
    running.start_rasa("rasa-a", model, lock_store)
    running.start_rasa("rasa-b", model, lock_store)
    try:
        running.wait_until_up()
        yield running
    finally:
        running.stop()
        redis.Redis.from_url(f"{REDIS_URL}/4").flushdb()


def test_two_instances_on_postgresql_and_redis_lose_nothing_when_one_dies(stack, databases):
    front = StickyFront(stack.rasa_urls)
    received: dict[str, list[list[str]]] = {}

    def turn(number: int, text: str) -> None:
        sender = f"scale-{number:03d}"
        reply = requests.post(f"{front.url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                              timeout=600)
        assert reply.status_code == 200, reply.text[:300]
        received.setdefault(sender, []).append([m.get("text", "") for m in reply.json()])

    def converse(number: int, turns: list[str]) -> None:
        for text in turns:
            turn(number, text)

    try:
        with ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
            list(pool.map(lambda n: converse(n, SCRIPT[:KILL_AFTER_TURN]), range(CONVERSATIONS)))
        on_killed = {s for s, routes in front.routes.items() if routes[-1] == stack.rasa_urls[0]}
        stack.stop("rasa-a")
        with ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
            list(pool.map(lambda n: converse(n, SCRIPT[KILL_AFTER_TURN:]), range(CONVERSATIONS)))
    finally:
        front.close()

    assert 0 < len(on_killed) < CONVERSATIONS, "the hash spread conversations over both instances"
    assert all(front.routes[s][-1] == stack.rasa_urls[1] for s in on_killed), "they moved to the survivor"

    engine = sa.create_engine(databases["tracker"])
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT sender_id, type_name, action_name, data FROM events ORDER BY id"))
        events: dict[str, list] = {}
        for sender, type_name, action_name, data in rows:
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


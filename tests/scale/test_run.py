"""`make run`'s own layout, started by scripts/run.sh as a citizen's `make run` would: every core.

Two one-worker Rasa instances behind HAProxy on RASA_PORT, the action server and the widget's page,
on free ports with their own SQLite files and the Redis lock store and slot vault. A web
conversation with an identification stays on one instance and gets Marie's expiry; a phone call's
silences are counted by one instance; a socket.io conversation over the polling transport (several
HTTP requests, sticky by client address) gets its replies; everything the script started holds
at most 2.5 GB resident; Ctrl-C stops all of it. Skipped unless BOT_SCALE_TEST=1 (`make scale`).
"""
from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.settings import PROJECT_ROOT
from bot.tools.bench import BIN, CITIZEN_SCRIPT, _rss_kb, _tree_sum, free_port

pytestmark = pytest.mark.skipif(not os.environ.get("BOT_SCALE_TEST"), reason="run with `make scale`")

MEMORY_LIMIT_MB = 2500


def free_run_port() -> int:
    """A free port whose next two ports are free too (the instances of `make run` use RASA_PORT+1, +2)."""
    for _ in range(50):
        port = free_port()
        if port < 65000 and all(_port_free(port + offset) for offset in (1, 2)):
            return port
    raise RuntimeError("no three free consecutive ports")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Running:
    def __init__(self, process: subprocess.Popen, url: str, banner: str) -> None:
        self.process, self.url, self.banner = process, url, banner

    def rss_mb(self) -> float:
        return _tree_sum(self.process.pid, _rss_kb) / 1024


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("run")
    rasa_port = free_run_port()
    env = {
        **os.environ,
        "RASA_PORT": str(rasa_port), "ACTIONS_PORT": str(free_port()), "WIDGET_PORT": str(free_port()),
        "BOT_RASA_INSTANCES": "2",
        "BOT_DATABASE_URL": f"sqlite:///{workdir / 'accounts.db'}",
        "BOT_TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
        "BOT_SLOT_VAULT_URL": "redis://127.0.0.1:6379/4",
    }
    subprocess.run([str(BIN / "python"), "-m", "bot", "backend", "seed"], cwd=PROJECT_ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    # Ctrl-C reaches run.sh as it does in a terminal, even when the tests themselves were started in the
    # background (a non-interactive shell starts background jobs with SIGINT ignored, and bash cannot
    # trap a signal ignored on entry).
    process = subprocess.Popen([str(PROJECT_ROOT / "scripts" / "run.sh")], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    banner = []
    deadline = time.monotonic() + 900
    assert process.stdout is not None
    for line in process.stdout:
        banner.append(line)
        if "Assistant prêt" in line or time.monotonic() > deadline:
            break
    text = "".join(banner)
    try:
        assert "Assistant prêt" in text, text
        yield Running(process, f"http://127.0.0.1:{rasa_port}", text)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGINT)  # Ctrl-C: the script stops what it started
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_make_run_serves_every_core_behind_haproxy_within_the_memory_limit(running):
    assert "HAProxy devant 2 instances Rasa" in running.banner
    started_mb = int(re.search(r"(\d+) Mo de mémoire résidente", running.banner).group(1))
    assert started_mb <= MEMORY_LIMIT_MB

    sender = f"run-{uuid.uuid4().hex[:8]}"
    served = set()
    for turn in CITIZEN_SCRIPT:
        reply = requests.post(f"{running.url}/webhooks/rest/webhook", json={"sender": sender, "message": turn.text},
                              timeout=120)
        assert reply.status_code == 200, reply.text[:300]
        served.add(reply.headers["X-Rasa-Instance"])
        texts = " ".join(m.get("text") or "" for m in reply.json())
        assert turn.expect in texts, (turn.text, texts[:300])
    assert len(served) == 1, "one conversation, one instance"

    call_id = f"run-call-{uuid.uuid4().hex[:8]}"
    answers = [requests.post(f"{running.url}/webhooks/ivr/webhook", json={"call_id": call_id, "transcript": ""},
                             timeout=120).json() for _ in range(2)]
    assert answers[0]["actions"] == [] and answers[1]["actions"][0]["type"] == "transfer"

    assert running.rss_mb() <= MEMORY_LIMIT_MB, "everything make run started, after conversations"


def test_socketio_over_polling_stays_with_its_instance(running):
    import socketio

    async def converse() -> list[str]:
        client = socketio.AsyncClient()
        replies: asyncio.Queue = asyncio.Queue()
        client.on("bot_uttered", lambda data: replies.put_nowait(data.get("text") or ""))
        session = f"run-sio-{uuid.uuid4().hex[:8]}"
        await client.connect(running.url, transports=["polling"])
        await client.emit("session_request", {"session_id": session})
        texts = []
        for text in ("Bonjour", "Comment créer un compte?", "merci"):
            await client.emit("user_uttered", {"session_id": session, "message": text})
            texts.append(await asyncio.wait_for(replies.get(), 60))
            await asyncio.sleep(0.3)
            while not replies.empty():
                replies.get_nowait()
        await client.disconnect()
        return texts

    texts = asyncio.run(converse())
    assert texts[0].startswith("Bonjour")
    assert "Pour créer votre compte" in texts[1]
    assert texts[2]


def test_ctrl_c_stops_everything_it_started(running):
    children = subprocess.run(["pgrep", "-g", str(running.process.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) >= 5  # run.sh, actions, 2 instances, HAProxy, widget
    os.kill(running.process.pid, signal.SIGINT)
    running.process.wait(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Path(f"/proc/{children[-1]}").exists():
        time.sleep(0.5)
    left = subprocess.run(["pgrep", "-g", str(running.process.pid)], capture_output=True, text=True).stdout.split()
    assert left == []
    with pytest.raises(requests.ConnectionError):
        requests.get(running.url, timeout=5)

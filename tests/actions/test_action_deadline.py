"""The real action server (`rasa run actions`, with the project's plugins) against a SQLite demo backend: an
action call whose deadline has passed commits nothing, answers as for a database fault and is counted as
``kind="deadline"``; one before its deadline writes as usual; /ready answers."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from bot import deadline
from bot.backend.setup import prepare_database
from bot.settings import PROJECT_ROOT

ACTION = "action_email_confirmation_submit"
JEAN_EMAIL = "jean.gagnon@example.com"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_action_server(workdir: Path, **env: str) -> tuple[subprocess.Popen, str, str]:
    """``rasa run actions`` on a free port and a fresh demo database; the process, its URL, the database's."""
    database_url = f"sqlite:///{workdir / 'accounts.db'}"
    prepare_database(database_url)
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "rasa"), "run", "actions", "--port", str(port), "--actions", "actions"],
        cwd=PROJECT_ROOT, env={**os.environ, "BOT_DATABASE_URL": database_url, "BOT_VAR_DIR": str(workdir), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    while time.monotonic() - started < 60:
        try:
            if requests.get(f"{url}/health", timeout=1).ok:
                return process, url, database_url
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    pytest.fail("the action server did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A real action server: its URL and its database's."""
    process, url, database_url = start_action_server(tmp_path_factory.mktemp("actions"))
    yield url, database_url
    stop(process)


def action_call(domain: dict) -> dict[str, Any]:
    """Rasa's call of the email form's submit action, the form having read Jean's email."""
    parse_data = {"text": JEAN_EMAIL, "intent": {"name": "inform", "confidence": 0.99}, "entities": []}
    return {
        "next_action": ACTION,
        "sender_id": "deadline-conversation",
        "version": "3.6.21",
        "domain": domain,
        "tracker": {
            "sender_id": "deadline-conversation",
            "slots": {"form_email": JEAN_EMAIL},
            "latest_message": parse_data,
            "events": [{"event": "action", "name": "action_listen"},
                       {"event": "user", "text": JEAN_EMAIL, "parse_data": parse_data, "input_channel": "rest"}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "email_form",
        },
    }


def confirmation_requests(database_url: str) -> int:
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT COUNT(*) FROM confirmation_requests")).scalar_one())
    finally:
        engine.dispose()


def deadline_errors(url: str) -> float:
    """``assistant_backend_errors_total{action=ACTION,kind="deadline"}`` of the action server's /metrics."""
    metrics = requests.get(f"{url}/metrics", timeout=10).text
    prefix = f'assistant_backend_errors_total{{action="{ACTION}",kind="deadline"}} '
    return sum(float(line[len(prefix):]) for line in metrics.splitlines() if line.startswith(prefix))


def call(url: str, body: dict, headers: dict[str, str] | None = None) -> dict:
    response = requests.post(f"{url}/webhook", json=body, headers=headers or {}, timeout=30)
    assert response.status_code == 200
    return response.json()


def handoff_reason(answer: dict) -> str | None:
    return next((e["value"] for e in answer["events"] if e.get("name") == "handoff_reason"), None)


def test_a_call_rasa_stopped_waiting_for_commits_nothing(server, domain):
    url, database_url = server
    before, counted = confirmation_requests(database_url), deadline_errors(url)
    # Rasa stopped waiting a second ago: the request was read late (a busy worker, a stopped process)
    answer = call(url, action_call(domain), {deadline.HEADER: f"{time.time() - 1:.3f}"})
    assert handoff_reason(answer) == "backend_unavailable"  # as for a database fault (nobody reads it)
    assert confirmation_requests(database_url) == before  # no confirmation email asked for
    assert deadline_errors(url) == counted + 1


def test_a_call_in_time_writes_as_usual(server, domain):
    url, database_url = server
    before, counted = confirmation_requests(database_url), deadline_errors(url)
    answer = call(url, action_call(domain), {deadline.HEADER: deadline.header_value(8)})
    assert handoff_reason(answer) is None
    assert [r.get("response") for r in answer["responses"]] == ["utter_confirmation_resent"]
    assert confirmation_requests(database_url) == before + 1
    assert deadline_errors(url) == counted


def test_without_rasas_header_the_deadline_runs_from_the_arrival(tmp_path, domain):
    # a timeout already over once the request is read: its margin is a quarter of it
    process, url, database_url = start_action_server(tmp_path, BOT_ACTION_TIMEOUT_SECONDS="0.0001")
    try:
        answer = call(url, action_call(domain))
        assert handoff_reason(answer) == "backend_unavailable"
        assert confirmation_requests(database_url) == 0
    finally:
        stop(process)


def test_the_action_server_says_its_account_database_is_ready(server):
    response = requests.get(f"{server[0]}/ready", timeout=10)
    assert response.status_code == 200
    assert response.json()["components"]["account_database"]["detail"] == "sqlite"

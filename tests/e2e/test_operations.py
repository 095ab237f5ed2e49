"""Operators see it: /metrics on both servers, /ready says which part is down (a stack of its own, broken on purpose)."""
from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import RasaStack, start_stack, stop_stack

API_TOKEN = "e2e-ops-api-token"


@pytest.fixture(scope="module")
def ops_stack(rasa_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    stack = start_stack(tmp_path_factory.mktemp("rasa-ops"), rasa_model, api_token=API_TOKEN,
                        extra_env={"BOT_READINESS_TIMEOUT_SECONDS": "1"})
    yield stack
    stop_stack(stack)
    shutil.rmtree(stack.workdir, ignore_errors=True)


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of Prometheus' text format (0 when absent)."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return 0.0


def scrape(url: str) -> str:
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.text


def test_ready_without_the_api_token_when_every_part_answers(ops_stack):
    response = requests.get(f"{ops_stack.url}/ready", timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["down"] == []
    assert requests.get(f"{ops_stack.url}/ready/instance", timeout=10).status_code == 200
    assert set(body["components"]) == {"model", "tracker_store", "lock_store", "slot_vault", "action_server",
                                       "account_database"}
    assert body["components"]["tracker_store"]["detail"] == "sqlite"
    assert body["components"]["account_database"]["detail"] == "sqlite"
    actions = requests.get(f"{ops_stack.actions_url}/ready", timeout=10)
    assert actions.status_code == 200 and actions.json()["down"] == []


def ready_when(url: str, done, seconds: float = 5) -> requests.Response:
    """/ready until ``done(response)`` (it may answer from a check up to 1 s old), within ``seconds``."""
    started = time.monotonic()
    response = requests.get(f"{url}/ready", timeout=10)
    while not done(response) and time.monotonic() - started < seconds:
        time.sleep(0.2)
        response = requests.get(f"{url}/ready", timeout=10)
    return response


def test_account_database_down_shows_in_both_readiness_routes(ops_stack):
    database = ops_stack.workdir / "accounts.db"
    away = database.with_suffix(".away")
    database.rename(away)  # SQLite then opens an empty file: no accounts table
    try:
        response = ready_when(ops_stack.url, lambda r: r.status_code == 503)
        assert response.status_code == 503
        body = response.json()
        assert body["down"] == ["account_database"]  # the action server itself answers
        assert body["components"]["account_database"]["detail"] == "OperationalError"
        actions = requests.get(f"{ops_stack.actions_url}/ready", timeout=10)
        assert actions.status_code == 503 and actions.json()["down"] == ["account_database"]
        assert str(ops_stack.workdir) not in actions.text + response.text
        assert metric(scrape(ops_stack.actions_url), "assistant_component_up", component="account_database") == 0
        probe = requests.get(f"{ops_stack.url}/ready/instance", timeout=10)
        assert probe.status_code == 200 and probe.json()["down"] == ["account_database"], \
            "a shared part down: the instance still answers (the fault's answer) and stays in the rotation"
    finally:
        away.replace(database)
    assert ready_when(ops_stack.url, lambda r: r.status_code == 200).status_code == 200


def test_turns_intents_escalations_and_latency_are_counted(ops_stack):
    before = scrape(ops_stack.url)
    ops_stack.texts("ops-1", "Comment créer un compte?")
    ops_stack.texts("ops-1", "je veux parler à quelqu'un")
    after = scrape(ops_stack.url)
    assert metric(after, "assistant_turns_total", channel="rest") == metric(before, "assistant_turns_total",
                                                                            channel="rest") + 2
    assert metric(after, "assistant_turn_seconds_count", channel="rest") >= 2
    assert sum(metric(after, "assistant_intents_total", intent=i) for i in ("create_account", "request_human")) >= 1
    assert metric(after, "assistant_escalations_total", reason="request_human") == metric(
        before, "assistant_escalations_total", reason="request_human") + 1
    route = "/webhooks/rest/webhook"
    assert metric(after, "assistant_http_request_seconds_count", method="POST", route=route, status="200") >= 2
    assert "ops-1" not in after  # no conversation id in any label

    actions = scrape(ops_stack.actions_url)
    assert metric(actions, "assistant_action_seconds_count", action="action_escalate") >= 1 or \
        "assistant_action_seconds_count" in actions


def test_action_server_down_shows_in_readiness_and_metrics(ops_stack):
    actions = ops_stack.processes[0]
    before = scrape(ops_stack.url)
    actions.terminate()
    actions.wait(timeout=20)
    started = time.monotonic()
    response = ready_when(ops_stack.url, lambda r: r.status_code != 200)
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["action_server", "account_database"]
    assert body["components"]["action_server"]["up"] is False
    assert body["components"]["account_database"]["detail"] == "action_server_down"
    ops_stack.texts("ops-2", "Est-ce que j'ai un solde à payer?")
    after = scrape(ops_stack.url)
    failed = [line for line in after.splitlines()
              if line.startswith("assistant_action_call_errors_total{") and 'kind="unreachable"' in line]
    assert failed, after[-2000:]
    assert metric(after, "assistant_component_up", component="action_server") == 0
    assert sum(float(line.rsplit(" ", 1)[1]) for line in failed) > sum(
        float(line.rsplit(" ", 1)[1]) for line in before.splitlines()
        if line.startswith("assistant_action_call_errors_total{") and 'kind="unreachable"' in line)


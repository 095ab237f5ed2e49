"""A message the assistant does not understand goes through the review inbox into data/nlu/reviewed.yml,
is trained on, and is then understood.

The training runs in a temporary copy of the project's training data (the project's own files are
never touched), under the shared training lock: about a minute and a half of both cores since the
pipeline's logistic regression (config.yml), so it runs in `make test` (marker ``training``).
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import yaml

from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.training

PREFIX = "review-training-"
# A way of asking for the opening hours that the guide's training data does not have (checked first: the
# model answers it as off-topic or does not understand it).
SAID = ["le machin des heures de la shop à loisirs", "Le machin des heures de la shop à loisirs",
        "le machin des heures de la shop a loisirs"]
INTENT = "ask_hours"
TRAINING_INPUTS = ("domain.yml", "config.yml", "data")


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "review", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def parse(url: str, text: str, params: dict) -> dict:
    response = requests.post(f"{url}/model/parse", json={"text": text}, params=params, timeout=30)
    response.raise_for_status()
    return response.json()["intent"]


def test_a_message_not_understood_is_reviewed_trained_on_and_then_understood(rasa_server, tmp_path):
    for number, text in enumerate(SAID):
        assert parse(rasa_server.url, text, rasa_server.api_params)["name"] in {"nlu_fallback", "out_of_scope"}, text
        rasa_server.talk(f"{PREFIX}{number}", text)

    env = {**os.environ, "BOT_TRACKER_STORE_URL": f"sqlite:///{rasa_server.tracker_db}",
           "BOT_VAR_DIR": str(tmp_path / "var")}
    listing = cli("--format", "json", env=env)
    assert listing.returncode == 0, listing.stderr
    groups = [g for g in yaml.safe_load(listing.stdout) if set(g["examples"]) & set(SAID)]
    assert len(groups) == 1 and groups[0]["count"] == len(SAID), groups

    copy = tmp_path / "project"
    copy.mkdir()
    for name in TRAINING_INPUTS:
        source = PROJECT_ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / name)
    reviewed = copy / "data" / "nlu" / "reviewed.yml"
    assert cli("--assign", groups[0]["key"], INTENT, env=env).returncode == 0
    written = cli("--write", "--out", str(reviewed), env=env)
    assert written.returncode == 0, written.stderr
    examples = {item["intent"]: item["examples"] for item in yaml.safe_load(reviewed.read_text())["nlu"]}
    assert all(text in examples[INTENT] for text in SAID)

    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    train = subprocess.run(
        ["flock", str(PROJECT_ROOT / "var" / "train.lock"), str(Path(sys.executable).parent / "rasa"), "train",
         "--fixed-model-name", "reviewed", "--out", str(copy / "models")],
        cwd=copy, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True, text=True, timeout=1800, check=False,
    )
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]

    from rasa.core.agent import Agent

    agent = Agent.load(str(copy / "models" / "reviewed.tar.gz"))
    with ThreadPoolExecutor(1) as pool:  # a loop of its own: the browser tests' may run in this thread
        understood = pool.submit(asyncio.run, agent.parse_message(SAID[0])).result()["intent"]
    assert understood["name"] == INTENT, understood

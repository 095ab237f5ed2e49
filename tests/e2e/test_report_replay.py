"""`python -m bot replay` on the trained model: good lines answered, malformed lines skipped, store untouched."""
from __future__ import annotations

import json
import socket
import subprocess
import sys

from bot.settings import PROJECT_ROOT
from bot.tools.replay import replay


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


RECORDED = [
    json.dumps({"id": "web-1", "channel": "web", "turns": ["Bonjour", "Comment créer un compte?"]}),
    "{ceci n'est pas du JSON",
    json.dumps({"id": "web-2", "channel": "web", "turns": ["/request_human"]}),
    json.dumps({"id": "sans-tours", "channel": "web", "turns": []}),
    json.dumps({"id": "appel-1", "channel": "ivr", "turns": ["euh bonjour", "c'est quoi les règles du mot de passe"]}),
    json.dumps({"id": "web-3", "channel": "web", "turns": ["xqzv plorbnik wuggle", "zzkrt vlomp frabble"]}),
]


def test_replay_with_the_action_server(rasa_model, rasa_server, tmp_path):
    source = tmp_path / "appels.jsonl"
    source.write_text("\n".join(RECORDED) + "\n", encoding="utf-8")
    out = tmp_path / "appels.replay.jsonl"
    store_before = rasa_server.tracker_db.read_bytes() if rasa_server.tracker_db.exists() else b""

    summary = replay(source, out, PROJECT_ROOT / rasa_model, rasa_server.workdir / "endpoints.yml", progress=False)

    turns = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(t["conversation"], t["turn"]) for t in turns] == [
        ("web-1", 1), ("web-1", 2), ("web-2", 1), ("appel-1", 1), ("appel-1", 2), ("web-3", 1), ("web-3", 2)]
    assert all(t["intent"] and 0.0 <= t["confidence"] <= 1.0 for t in turns)
    assert all(t["replies"] for t in turns), "every turn gets an answer"
    assert next(t for t in turns if t["conversation"] == "web-2")["intent"] == "request_human"
    assert not any(t["needs_action_server"] for t in turns)
    assert [(bad.line, bad.reason.split(" (")[0]) for bad in summary.malformed] == [
        (2, "JSON invalide"), (4, "« turns » doit être une liste non vide")]
    assert summary.conversations == 4
    assert summary.without_person + summary.escalated == 4
    assert summary.escalated >= 1
    assert summary.action_server
    # The production tracker store is never touched.
    after = rasa_server.tracker_db.read_bytes() if rasa_server.tracker_db.exists() else b""
    assert after == store_before


def test_replay_command_without_an_action_server(rasa_model, tmp_path):
    source = tmp_path / "appels.jsonl"
    source.write_text("\n".join(RECORDED) + "\n", encoding="utf-8")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{free_port()}/webhook"\n')
    result = subprocess.run(
        [sys.executable, "-m", "bot", "replay", str(source), "--model", str(PROJECT_ROOT / rasa_model),
         "--endpoints", str(endpoints)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Ligne 2 ignorée : JSON invalide" in result.stderr
    assert "Ligne 4 ignorée : « turns » doit être une liste non vide" in result.stderr
    assert "Conversations rejouées : 4 (7 tours)" in result.stdout
    assert "Traceback" not in result.stderr
    summary = json.loads((tmp_path / "appels.replay.summary.json").read_text(encoding="utf-8"))
    assert summary["conversations"] == 4
    assert summary["action_server_reachable"] is False
    assert summary["without_person"] + summary["escalated"] + summary["undetermined"] == 4
    turns = [json.loads(line) for line in (tmp_path / "appels.replay.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(turns) == 7
    assert all(t["needs_action_server"] == bool(t["custom_actions"]) for t in turns)

"""Replay input, summary and action-server check, without a model (the model run is in tests/e2e)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from bot.cli import main
from bot.tools.replay import (
    BadLine,
    Outcome,
    Recorded,
    Summary,
    Turn,
    action_server_reachable,
    read_recorded,
)

GOOD_AND_BAD = "\n".join([
    json.dumps({"id": "a1", "channel": "web", "turns": ["Bonjour", "Comment créer un compte?"]}),
    "{pas du json",
    json.dumps({"id": 7, "channel": "ivr", "turns": [{"text": "euh je veux parler à quelqu'un"}]}),
    "",
    json.dumps({"channel": "web", "turns": ["sans id"]}),
    json.dumps({"id": "a2", "channel": "fax", "turns": ["allo"]}),
    json.dumps({"id": "a3", "turns": []}),
    json.dumps(["une", "liste"]),
    json.dumps({"id": "a4", "turns": ["ok", "  "]}),
    json.dumps({"id": "a5", "turns": ["par défaut sur le web"]}),
])


def test_good_lines_are_read_and_each_bad_line_is_reported_with_its_number():
    items = list(read_recorded(GOOD_AND_BAD.splitlines()))
    good = [item for item in items if isinstance(item, Recorded)]
    bad = [item for item in items if isinstance(item, BadLine)]
    assert good == [
        Recorded("a1", "web", ["Bonjour", "Comment créer un compte?"]),
        Recorded("7", "ivr", ["euh je veux parler à quelqu'un"]),
        Recorded("a5", "web", ["par défaut sur le web"]),
    ]
    assert [(b.line, b.reason) for b in bad] == [
        (2, "JSON invalide (Expecting property name enclosed in double quotes, colonne 2)"),
        (5, "« id » manquant"),
        (6, "canal « fax » inconnu (web ou ivr)"),
        (7, "« turns » doit être une liste non vide"),
        (8, "un objet JSON est attendu"),
        (9, "chaque tour doit être un texte non vide"),
    ]


def turn(intent: str, needs_server: bool = False) -> Turn:
    return Turn("c", 1, "web", "texte", intent, 0.9, ["réponse"], [], ["action_x"] if needs_server else [],
                needs_server)


def test_summary_counts_settled_escalated_and_undetermined_conversations():
    summary = Summary(action_server=False, malformed=[BadLine(2, "JSON invalide")])
    summary.add(Outcome("1", "web", [turn("greet"), turn("ask_create_account")], None))
    summary.add(Outcome("2", "web", [turn("request_human")], "request_human"))
    summary.add(Outcome("3", "ivr", [turn("link_card", needs_server=True)], None))
    summary.add(Outcome("4", "ivr", [turn("nlu_fallback"), turn("nlu_fallback")], "repeated_fallback"))
    data = summary.as_dict()
    assert (data["conversations"], data["turns"], data["without_person"], data["escalated"],
            data["undetermined"]) == (4, 6, 1, 2, 1)
    assert data["deflection_rate"] == pytest.approx(0.25)
    assert data["escalation_reasons"] == {"request_human": 1, "repeated_fallback": 1}
    text = summary.text()
    assert "Réglées sans personne : 1 (25,0\u00a0%)" in text
    assert "Indéterminées (serveur d'actions injoignable) : 1" in text
    assert "Lignes ignorées : 1 (2)" in text


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args) -> None:
        pass


def test_action_server_check():
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        assert action_server_reachable(f"http://127.0.0.1:{port}/webhook")
    finally:
        server.shutdown()
        server.server_close()
    assert not action_server_reachable(f"http://127.0.0.1:{port}/webhook")
    assert not action_server_reachable(None)


def test_command_refuses_a_missing_file_or_model(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "absent.jsonl")]) == 2
    assert "introuvable" in capsys.readouterr().err
    recorded = tmp_path / "appels.jsonl"
    recorded.write_text(GOOD_AND_BAD)
    assert main(["replay", str(recorded), "--model", str(tmp_path / "absent.tar.gz")]) == 2
    assert "aucun modèle" in capsys.readouterr().err

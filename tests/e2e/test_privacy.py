"""Conversations full of personal data leave none in the tracker database or the server logs."""
from __future__ import annotations

import json
import sqlite3

from bot.identity import sign_token
from bot.session import PERSONAL_ANSWER_PLACEHOLDER, issue_client_session

CARD, OTHER_CARD = "123456", "654321"
SECRETS = (
    CARD, OTHER_CARD, "1985-03-12", "12 mars 1985", "450 555-0123", "4505550188",
    "marie.tremblay@example.com", "jean.gagnon@example.com", "Soleil2024!", "Hiver#2026x",
)
CONVERSATIONS = {
    "privacy-card": [
        "Bonjour, je veux lier ma carte",
        f"les six derniers chiffres sont {CARD}",
        "je suis née le 12 mars 1985",
        "mon téléphone est le 450 555-0123",
    ],
    "privacy-account": [
        "je n'ai pas reçu le courriel de confirmation",
        "mon adresse est marie.tremblay@example.com",
        "mon mot de passe Soleil2024! est refusé",
        "et si j'essaie Hiver#2026x?",
    ],
    "privacy-mixed": [
        f"carte {OTHER_CARD}, né le 1985-03-12, tél 4505550188, jean.gagnon@example.com",
        f'/inform{{"card_digits": "{CARD}"}}',
    ],
}


def rows(stack, sender: str | None = None) -> list[dict]:
    with sqlite3.connect(stack.tracker_db) as connection:
        connection.row_factory = sqlite3.Row
        found = [dict(r) for r in connection.execute("SELECT * FROM events ORDER BY id")]
    return [r for r in found if sender is None or r["sender_id"] == sender]


def raw_database_bytes(stack) -> str:
    """Every byte of the SQLite files, free pages and write-ahead log included."""
    files = [stack.tracker_db, *stack.tracker_db.parent.glob("tracker.db-*")]
    return b"".join(p.read_bytes() for p in files if p.exists()).decode("utf-8", errors="replace")


def test_nothing_personal_is_stored_or_logged_and_no_message_is_lost(production_server):
    token = sign_token(1)
    for sender, messages in CONVERSATIONS.items():
        for text in messages:
            assert production_server.talk(sender, text, metadata={"token": token}) is not None
    raw = raw_database_bytes(production_server)
    logs = production_server.logs()
    for secret in (*SECRETS, token):
        assert secret not in raw, f"{secret!r} stored in clear"
        assert secret not in logs, f"{secret!r} logged in clear"
    for sender, messages in CONVERSATIONS.items():
        stored = [json.loads(r["data"]) for r in rows(production_server, sender) if r["type_name"] == "user"]
        assert len(stored) == len(messages), "every user message is stored exactly once"
        for event in stored:
            assert event["metadata"].get("token") == "[jeton]"
    texts = [json.loads(r["data"])["text"] for r in rows(production_server, "privacy-card") if r["type_name"] == "user"]
    assert texts == [
        "Bonjour, je veux lier ma carte",
        "les six derniers chiffres sont [carte]",
        "je suis née le [date]",
        "mon téléphone est le [téléphone]",
    ]


def test_a_personal_slot_is_stored_as_its_placeholder_but_reloads_with_its_value(production_server):
    sender = "privacy-slot"
    production_server.talk(sender, f'/inform{{"card_digits": "{CARD}"}}')
    stored = [json.loads(r["data"]) for r in rows(production_server, sender) if r["type_name"] == "slot"]
    assert {"event": "slot", "name": "card_digits", "value": "[carte]"}.items() <= next(
        e for e in stored if e["name"] == "card_digits"
    ).items()
    assert production_server.tracker(sender)["slots"]["card_digits"] == CARD
    assert CARD not in raw_database_bytes(production_server)


# What the assistant says about an identified person (bot/session.py): names, amounts, activities, expiry dates.
DOSSIER_ANSWERS = ("Marie :", "Léa", "45,00", "Soccer U12", "31 mars 2027", "30 septembre 2026", "en attente de paiement")


def test_the_bots_answers_about_an_identified_person_are_not_stored_nor_logged_in_clear(production_server):
    sender = "0a" * 16
    key = {"client_session": issue_client_session(sender)}
    said = []
    for text in ("quand expire ma carte accès terrebonne", "oui", CARD, "12 mars 1985",
                 "combien je dois", "à quelles activités je suis inscrite"):
        said += [m.get("text", "") for m in production_server.talk(sender, text, metadata=key)]
    replies = "\n".join(said)
    assert "Marie : carte valide jusqu'au 31 mars 2027." in replies and "Marie : 45,00 $" in replies
    assert "Soccer U12" in replies  # the citizen was told; the store keeps none of it
    raw = raw_database_bytes(production_server)
    logs = production_server.logs()  # both servers log at DEBUG, Rasa's events included
    for value in DOSSIER_ANSWERS:
        assert value not in raw, f"{value!r} stored in clear"
        assert value not in logs, f"{value!r} logged in clear"
    stored = [json.loads(r["data"]) for r in rows(production_server, sender) if r["type_name"] == "bot"]
    assert sum(e["text"] == PERSONAL_ANSWER_PLACEHOLDER for e in stored) == 3
    assert key["client_session"] not in raw

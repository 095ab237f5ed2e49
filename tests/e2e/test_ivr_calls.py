"""Whole phone calls over the IVR webhook against the real Rasa server and action server, demo data."""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys

import requests

from bot.settings import PROJECT_ROOT

# Confidences and timestamps: their digits can hold any run of four digits ("6.51985385523907e-05").
FLOAT = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")
MARKUP = re.compile(r"\*\*|__|\[[^\]]*\]\(|https?://|www\.|[\U0001F300-\U0001FAFF]")


def call(rasa_server, call_id: str, transcript: str = "", **fields) -> dict:
    """One caller turn; the channel's answer, checked to be speakable."""
    body = {"call_id": call_id, "transcript": transcript, **fields}
    response = requests.post(f"{rasa_server.url}/webhooks/ivr/webhook", json=body, timeout=60)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["call_id"] == call_id
    for text in reply["say"]:
        assert not MARKUP.search(text), text
    return reply


def said(reply: dict) -> str:
    return " ".join(reply["say"])


def test_faq_answer_is_speakable_with_the_number_grouped(rasa_server):
    reply = call(rasa_server, "ivr-faq", "euh c'est quoi le numéro de téléphone des loisirs", confidence=0.91)
    assert "450 961-2001, poste 4000" in said(reply)
    assert reply["actions"] == []


def test_identification_by_voice_then_the_family_cards_expiry(rasa_server):
    reply = call(rasa_server, "ivr-marie", "euh ma carte accès elle expire quand", confidence=0.9)
    assert "identifier" in said(reply)
    assert "2027" not in said(reply)
    reply = call(rasa_server, "ivr-marie", "oui", confidence=0.95)
    assert "six derniers chiffres" in said(reply)
    assert {"type": "collect_digits", "count": 6} in reply["actions"]
    reply = call(rasa_server, "ivr-marie", "un deux trois quatre cinq six", confidence=0.88)
    assert "date de naissance" in said(reply)
    reply = call(rasa_server, "ivr-marie", "le douze mars mille neuf cent quatre-vingt-cinq", confidence=0.9)
    text = said(reply)
    assert "identifié" in text
    assert "Marie" in text and "2027" in text
    assert "Léa" in text and "expirée" in text


def test_identification_by_keypad_and_home_phone(rasa_server):
    call(rasa_server, "ivr-sophie", "quand est-ce que ma carte expire", confidence=0.9)
    call(rasa_server, "ivr-sophie", "oui s'il vous plaît", confidence=0.9)
    reply = call(rasa_server, "ivr-sophie", "", dtmf="246810#")
    assert "date de naissance" in said(reply)
    reply = call(rasa_server, "ivr-sophie", "quatre cinq zéro cinq cinq cinq zéro un quatre deux", confidence=0.9)
    text = said(reply)
    assert "identifié" in text and "2028" in text


def test_spoken_personal_data_is_not_stored_nor_logged_in_clear(rasa_server):
    with sqlite3.connect(rasa_server.tracker_db) as connection:
        stored = [FLOAT.sub("#", row[0])
                  for row in connection.execute("SELECT data FROM events WHERE sender_id = 'ivr-marie'")]
    assert stored, "the call is in the tracker store"
    logs = FLOAT.sub("#", rasa_server.logs())
    for secret in ("123456", "un deux trois quatre cinq six", "1985", "quatre-vingt-cinq"):
        assert not any(secret in data for data in stored), f"{secret!r} stored in clear"
        assert secret not in logs, f"{secret!r} logged in clear"


def test_asking_for_a_person_transfers_to_the_call_centre(rasa_server):
    reply = call(rasa_server, "ivr-agent", "je veux parler à un agent s'il vous plaît", confidence=0.93)
    assert {"type": "transfer", "number": "4509612001", "extension": "4000"} in reply["actions"]
    assert "transf" in said(reply)


def test_goodbye_hangs_up(rasa_server):
    call(rasa_server, "ivr-bye", "bonjour", confidence=0.9)
    reply = call(rasa_server, "ivr-bye", "c'est beau merci au revoir", confidence=0.9)
    assert reply["actions"] == [{"type": "hangup"}]
    assert reply["say"]


def test_silence_twice_then_transfer_and_low_confidence_asks_to_repeat(rasa_server):
    assert call(rasa_server, "ivr-silent")["actions"] == []
    assert call(rasa_server, "ivr-silent")["actions"][0]["type"] == "transfer"
    reply = call(rasa_server, "ivr-noisy", "carte machin truc", confidence=0.2)
    assert "répéter" in said(reply) and reply["actions"] == []


def test_three_unclear_turns_hand_the_caller_to_a_person_and_the_report_counts_it(rasa_server):
    unclear = {"transcript": "mmm la carte euh machin", "confidence": 0.21}
    assert "répéter" in said(call(rasa_server, "ivr-unclear", **unclear))
    assert "clavier" in said(call(rasa_server, "ivr-unclear", **unclear))
    third = call(rasa_server, "ivr-unclear", **unclear)
    assert third["actions"] == [{"type": "transfer", "number": "4509612001", "extension": "4000"}]
    assert "transf" in said(third)
    events = rasa_server.tracker("ivr-unclear")["events"]
    assert [e["value"] for e in events if e["event"] == "slot" and e["name"] == "handoff_reason"] == ["unclear_speech"]

    env = {**os.environ, "BOT_TRACKER_STORE_URL": f"sqlite:///{rasa_server.tracker_db}"}
    report = subprocess.run([sys.executable, "-m", "bot", "report", "--channel", "ivr", "--format", "json"],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    figures = json.loads(report.stdout)
    assert {"reason": "unclear_speech", "conversations": 1} in figures["escalation_reasons"]
    assert [h["channel"] for h in figures["handoffs"] if h["reason"] == "unclear_speech"] == ["ivr"]
    table = subprocess.run([sys.executable, "-m", "bot", "report", "--channel", "ivr"], cwd=PROJECT_ROOT, env=env,
                           capture_output=True, text=True, timeout=120, check=True).stdout
    assert "Parole mal comprise au téléphone" in table


def test_bad_requests_get_a_clean_400(rasa_server):
    url = f"{rasa_server.url}/webhooks/ivr/webhook"
    response = requests.post(url, data="{pas du json", headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400 and "JSON" in response.json()["error"]
    response = requests.post(url, json={"transcript": "bonjour"}, timeout=30)
    assert response.status_code == 400 and "call_id" in response.json()["error"]
    assert requests.get(f"{rasa_server.url}/webhooks/ivr/", timeout=30).json() == {"status": "ok"}


def test_rest_format_route_for_jambonz(rasa_server):
    response = requests.post(f"{rasa_server.url}/webhooks/ivr/rest",
                             json={"sender": "ivr-jambonz", "message": "je veux parler à un agent"}, timeout=60)
    messages = response.json()
    assert messages[-1]["custom"]["actions"][0]["type"] == "transfer"
    assert all(m["recipient_id"] == "ivr-jambonz" for m in messages)


def test_before_hanging_up_one_skippable_question_and_the_answer_is_stored(rasa_server):
    call(rasa_server, "ivr-feedback", "c'est quoi les règles pour le mot de passe", confidence=0.92)
    bye = call(rasa_server, "ivr-feedback", "c'est beau merci au revoir", confidence=0.9)
    assert "est-ce que cela vous a aidé" in said(bye) and bye["actions"] == []
    answer = call(rasa_server, "ivr-feedback", "ouais pas mal", confidence=0.9)
    assert answer == {"call_id": "ivr-feedback", "say": ["Merci de votre réponse. Au revoir!"],
                      "actions": [{"type": "hangup"}]}
    with sqlite3.connect(rasa_server.tracker_db) as connection:
        rows = [json.loads(data) for (data,) in connection.execute(
            "SELECT data FROM events WHERE sender_id = 'ivr-feedback' AND type_name = 'slot' ORDER BY id")]
    feedback = [(e["name"], e["value"]) for e in rows if e["name"].startswith("feedback")]
    assert feedback == [("feedback_asked", "ask_password_rules"),
                        ("feedback", {"helpful": "oui", "topic": "ask_password_rules"})]

    call(rasa_server, "ivr-feedback-silent", "c'est quoi les règles pour le mot de passe", confidence=0.92)
    call(rasa_server, "ivr-feedback-silent", "c'est beau merci au revoir", confidence=0.9)
    assert call(rasa_server, "ivr-feedback-silent", "")["actions"] == [{"type": "hangup"}], "silence skips"

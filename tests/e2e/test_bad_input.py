"""Broken and hostile input over REST, socket.io and the IVR webhook: a reply or a clean 4xx, nothing lost or leaked.

Each case talks as its own sender, so that the database shows, case by case, that an accepted
message is stored exactly once (and redacted) and a refused one not at all.
"""
from __future__ import annotations

import json
import queue
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import jwt
import pytest
import requests
import socketio

from bot.identity import sign_token

CARD = "123456"
TEXT_CASES = {
    "empty": "",
    "whitespace": "   \n\t  ",
    "control-chars": "\x00\x01Bon\x07jour\x1b[31m \x7f",
    "emoji": "😀👍🏽 merci ❤️‍🔥",
    "rtl-arabic": "مرحبا، أريد إنشاء حساب",
    "rtl-hebrew": "שלום, אני צריך עזרה",
    "bidi-override": "\u202eBonjour\u202c carte",
    "sql-injection": "'; DROP TABLE events; -- OR 1=1",
    "html-js": "<script>alert('xss')</script><img src=x onerror=alert(1)>",
    "personal-data": f"ma carte {CARD} et je suis née le 1985-03-12",
    "combining-accents": "cre\u0301er un compte",
    "lone-surrogate": "Bonjour \ud800",
}
PERSONAL = (CARD, "1985-03-12", "marie.tremblay@example.com")


def forged_token() -> str:
    return jwt.encode({"sub": "1", "exp": datetime.now(timezone.utc) + timedelta(hours=1)}, "not-the-city-secret-but-long-enough-0123456789",
                      algorithm="HS256")


def expired_token() -> str:
    return sign_token(1, now=datetime.now(timezone.utc) - timedelta(days=2))


def user_events(stack, sender: str) -> list[dict]:
    with sqlite3.connect(stack.tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def all_stored(stack) -> str:
    with sqlite3.connect(stack.tracker_db) as connection:
        return "\n".join(f"{s} {d}" for s, d in connection.execute("SELECT sender_id, data FROM events"))


def assert_stays_up(stack) -> None:
    assert requests.get(f"{stack.url}/status", params=stack.api_params, timeout=10).ok
    for process in stack.processes:
        assert process.poll() is None, "a server stopped"


def assert_reply_or_clean_refusal(response: requests.Response) -> None:
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text[:300]
    if response.status_code == 200:
        assert response.json(), "a 200 carries the bot's reply"
    else:
        assert response.json().get("error"), "a refusal says why"


# --- REST ---


def rest(stack, body=None, *, data: bytes | None = None, headers: dict | None = None) -> requests.Response:
    url = f"{stack.url}/webhooks/rest/webhook"
    if data is not None:
        return requests.post(url, data=data, headers=headers or {}, timeout=60)
    return requests.post(url, json=body, timeout=60)


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
def test_rest_texts(production_server, case):
    sender = f"bad-rest-{case}"
    response = rest(production_server, {"sender": sender, "message": TEXT_CASES[case]})
    assert_reply_or_clean_refusal(response)
    assert response.status_code == 200
    stored = user_events(production_server, sender)
    assert len(stored) == 1, "the message is stored exactly once"
    assert "\x00" not in stored[0]["text"] and "\ud800" not in stored[0]["text"]
    assert "<script" not in json.dumps(response.json()), "the bot never echoes markup"
    assert_stays_up(production_server)


REST_REFUSED = {
    "100kb": ({"sender": "bad-rest-100kb", "message": "inscription " * 8_534}, None, None, 413),
    "invalid-json": (None, b'{"sender": "bad-rest-invalid-json", "message": ', {"Content-Type": "application/json"}, 400),
    "json-list": (["bad-rest-json-list", "Bonjour"], None, None, 400),
    "json-string": ("Bonjour", None, None, 400),
    "form-encoded": (None, b"sender=bad-rest-form&message=Bonjour",
                     {"Content-Type": "application/x-www-form-urlencoded"}, 400),
    "invalid-utf8": (None, b'{"sender": "bad-rest-utf8", "message": "Bonjour \xff\xfe\xc3("}',
                     {"Content-Type": "application/json"}, 400),
    "no-sender": ({"message": "Bonjour"}, None, None, 400),
    "sender-too-long": ({"sender": "x" * 300, "message": "Bonjour"}, None, None, 400),
    "sender-with-nul": ({"sender": "bad\x00sender", "message": "Bonjour"}, None, None, 400),
    "number-message": ({"sender": "bad-rest-number", "message": 12345}, None, None, 400),
    "object-message": ({"sender": "bad-rest-object", "message": {"text": "Bonjour"}}, None, None, 400),
    "list-metadata": ({"sender": "bad-rest-metadata", "message": "Bonjour", "metadata": [1, 2]}, None, None, 400),
}


@pytest.mark.parametrize("case", sorted(REST_REFUSED))
def test_rest_refusals_are_clean_4xx_and_store_nothing(production_server, case):
    body, data, headers, status = REST_REFUSED[case]
    response = rest(production_server, body, data=data, headers=headers)
    assert response.status_code == status, response.text[:300]
    assert response.json()["text"].startswith(("Votre message", "Je n'ai pas pu"))
    if isinstance(body, dict) and isinstance(body.get("sender"), str):
        assert user_events(production_server, body["sender"]) == []
    assert_stays_up(production_server)


def test_rest_json_sent_as_plain_text_is_still_read(production_server):
    body = json.dumps({"sender": "bad-rest-text-plain", "message": "Bonjour"}).encode()
    response = rest(production_server, data=body, headers={"Content-Type": "text/plain"})
    assert_reply_or_clean_refusal(response)
    assert len(user_events(production_server, "bad-rest-text-plain")) == 1


def test_rest_client_cannot_claim_another_channel(production_server):
    rest(production_server, {"sender": "bad-rest-channel", "message": "Bonjour", "input_channel": "ivr"})
    assert user_events(production_server, "bad-rest-channel")[0]["input_channel"] == "rest"


@pytest.mark.parametrize("token", ["forged", "expired", "garbage"])
def test_forged_or_expired_web_tokens_identify_nobody(production_server, token):
    value = {"forged": forged_token(), "expired": expired_token(), "garbage": "eyJ.not.a-token"}[token]
    sender = f"bad-token-{token}"
    reply = production_server.texts(sender, "Combien je dois payer? Quel est mon solde?", metadata={"token": value})
    assert reply
    for personal in ("45,00", "Natation", "Tremblay", "123456"):
        assert personal not in reply
    assert value not in all_stored(production_server)


def test_twenty_messages_in_the_same_second_from_one_sender(production_server):
    sender = "bad-burst"
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def send(number: int) -> None:
        barrier.wait()
        statuses.append(rest(production_server, {"sender": sender, "message": f"message {number}"}).status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 20
    stored = sorted(e["text"] for e in user_events(production_server, sender))
    assert stored == sorted(f"message {n}" for n in range(20)), "every message stored exactly once"
    assert_stays_up(production_server)


# --- socket.io ---


class SocketUser:
    """A web visitor on socket.io: one connection, one session."""

    def __init__(self, stack, session_id: str) -> None:
        self.replies: queue.Queue = queue.Queue()
        confirmed: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", confirmed.put)
        self.client.connect(stack.url, socketio_path="/socket.io", transports=["polling"], wait_timeout=15)
        self.client.emit("session_request", {"session_id": session_id})
        self.session_id = confirmed.get(timeout=15)

    def send(self, data) -> dict:
        self.client.emit("user_uttered", data)
        return self.replies.get(timeout=60)

    def close(self) -> None:
        self.client.disconnect()


SOCKET_CASES = {
    **{name: {"message": text} for name, text in TEXT_CASES.items()},
    "100kb": {"message": "inscription " * 8_534},
    "number-message": {"message": 12345},
    "bad-metadata": {"message": "Bonjour", "metadata": "{not json"},
    "forged-token": {"message": "Quel est mon solde?", "metadata": {"token": forged_token()}},
}
SOCKET_REFUSED = {"100kb", "number-message", "bad-metadata"}


@pytest.mark.parametrize("case", sorted(SOCKET_CASES))
def test_socketio_messages_all_get_a_reply(production_server, case):
    session_id = f"bad-socket-{case}"
    user = SocketUser(production_server, session_id)
    try:
        reply = user.send({**SOCKET_CASES[case], "session_id": session_id})
    finally:
        user.close()
    assert reply.get("text") or reply.get("quick_replies") or reply.get("attachment")
    # A REST message on the same conversation waits for the socket.io turn's lock: then all is stored.
    assert rest(production_server, {"sender": session_id, "message": "merci"}).status_code == 200
    stored = user_events(production_server, session_id)
    assert len(stored) == (1 if case in SOCKET_REFUSED else 2)
    assert_stays_up(production_server)


def test_socketio_payload_that_is_not_an_object_gets_a_reply(production_server):
    user = SocketUser(production_server, "bad-socket-string-payload")
    try:
        assert user.send("Bonjour")["text"].startswith("Je n'ai pas pu")
    finally:
        user.close()
    assert_stays_up(production_server)


# --- the IVR webhook ---


def ivr(stack, body=None, *, data: bytes | None = None, token: str | None = "good") -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        given = stack.env["BOT_IVR_TOKEN"] if token == "good" else token
        headers["Authorization"] = f"Bearer {given}"
    url = f"{stack.url}/webhooks/ivr/webhook"
    payload = data if data is not None else json.dumps(body).encode()
    return requests.post(url, data=payload, headers=headers, timeout=60)


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
def test_ivr_transcripts(production_server, case):
    call_id = f"bad-ivr-{case}"
    response = ivr(production_server, {"call_id": call_id, "transcript": TEXT_CASES[case], "confidence": 0.9})
    assert response.status_code == 200, response.text[:300]
    assert response.json().get("say") or response.json().get("actions")
    assert len(user_events(production_server, call_id)) <= 1
    assert_stays_up(production_server)


IVR_REFUSED = {
    "100kb": ({"call_id": "bad-ivr-100kb", "transcript": "inscription " * 8_534}, None, "good", 400),
    "invalid-json": (None, b'{"call_id": "bad-ivr-json", ', "good", 400),
    "invalid-utf8": (None, b'{"call_id": "bad-ivr-utf8", "transcript": "\xff\xfe"}', "good", 400),
    "json-list": (["bad-ivr-list"], None, "good", 400),
    "forged-token": ({"call_id": "bad-ivr-forged", "transcript": "bonjour"}, None, "forged", 401),
    "no-token": ({"call_id": "bad-ivr-none", "transcript": "bonjour"}, None, None, 401),
}


@pytest.mark.parametrize("case", sorted(IVR_REFUSED))
def test_ivr_refusals_are_clean_4xx(production_server, case):
    body, data, token, status = IVR_REFUSED[case]
    response = ivr(production_server, body, data=data, token=token)
    assert response.status_code == status, response.text[:300]
    assert_stays_up(production_server)


def test_ivr_body_with_a_wrong_content_type_gets_a_reply_or_a_clean_refusal(production_server):
    url = f"{production_server.url}/webhooks/ivr/webhook"
    headers = {"Content-Type": "text/plain", "Authorization": f"Bearer {production_server.env['BOT_IVR_TOKEN']}"}
    body = json.dumps({"call_id": "bad-ivr-text-plain", "transcript": "bonjour", "confidence": 0.9})
    response = requests.post(url, data=body.encode(), headers=headers, timeout=60)
    assert response.status_code == 200 or 400 <= response.status_code < 500
    assert_stays_up(production_server)


# --- across channels ---


def test_one_sender_id_on_three_channels_keeps_every_message(production_server):
    sender = "bad-shared-id"
    assert rest(production_server, {"sender": sender, "message": "Bonjour"}).status_code == 200
    user = SocketUser(production_server, sender)
    try:
        assert user.send({"message": "comment créer un compte?", "session_id": sender})
    finally:
        user.close()
    response = ivr(production_server, {"call_id": sender, "transcript": "merci", "confidence": 0.95})
    assert response.status_code == 200
    stored = user_events(production_server, sender)
    assert [e["input_channel"] for e in stored] == ["rest", "socketio", "ivr"]


def test_after_everything_nothing_personal_is_stored_and_the_server_answers(production_server):
    stored, logs = all_stored(production_server), production_server.logs()
    for personal in PERSONAL:
        assert personal not in stored
        assert personal not in logs
    assert production_server.texts("bad-final", "Bonjour")

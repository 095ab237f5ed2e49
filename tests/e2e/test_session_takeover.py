"""A conversation cannot be taken over: a second client with the same sender id gets nothing personal (REST)."""
from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.session import CLIENT_SESSION_KEY, issue_client_session
from bot.widget.serve import make_server, start_in_thread
from tests.e2e.conftest import RasaStack, start_stack, stop_stack

IDLE_SECONDS = 15
PERSONAL = ("Marie", "Léa", "45,00", "Soccer U12", "2027")


@pytest.fixture(scope="module")
def stack(rasa_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    stack = start_stack(tmp_path_factory.mktemp("rasa-takeover"), rasa_model,
                        extra_env={"BOT_IDENTIFICATION_IDLE_MINUTES": str(IDLE_SECONDS / 60)})
    yield stack
    stop_stack(stack)
    shutil.rmtree(stack.workdir, ignore_errors=True)


def identify(stack: RasaStack, sender: str, key: str | None) -> str:
    """Marie identifies by card and birth date, asking what she owes; the reply of the last step."""
    metadata = {CLIENT_SESSION_KEY: key} if key else {}
    assert "Voulez-vous vous identifier?" in stack.texts(sender, "combien je dois", metadata)
    stack.texts(sender, "oui", metadata)
    stack.texts(sender, "123456", metadata)
    return stack.texts(sender, "12 mars 1985", metadata)


def nothing_personal(reply: str) -> bool:
    return not any(value in reply for value in PERSONAL)


def test_the_identifying_client_keeps_it_a_second_client_gets_nothing(stack):
    sender = "a1" * 16
    key = issue_client_session(sender)
    assert "Marie : 45,00 $" in identify(stack, sender, key)
    assert "Soccer U12" in stack.texts(sender, "à quelles activités je suis inscrite", {CLIENT_SESSION_KEY: key})

    for intruder in ({}, {CLIENT_SESSION_KEY: issue_client_session(sender)}, {CLIENT_SESSION_KEY: "v1.forged"}):
        reply = stack.texts(sender, "à quelles activités je suis inscrite", intruder)
        assert nothing_personal(reply), reply
        assert "Voulez-vous vous identifier?" in reply
        reply = stack.texts(sender, "combien je dois", intruder)
        assert nothing_personal(reply), reply

    # The legitimate client still does, after the intruder's attempts.
    assert "Marie : 45,00 $" in stack.texts(sender, "combien je dois", {CLIENT_SESSION_KEY: key})


def test_a_client_without_a_key_gets_its_answer_then_nothing_personal(stack):
    sender = "b2" * 16
    assert "Marie : 45,00 $" in identify(stack, sender, None)
    assert nothing_personal(stack.texts(sender, "à quelles activités je suis inscrite"))


def test_the_phone_call_id_replayed_on_the_web_gets_nothing(stack):
    call = "call-takeover-1"
    gateway = f"{stack.url}/webhooks/ivr/webhook"

    def say(text: str) -> str:
        body = {"call_id": call, "transcript": text, "confidence": 0.95}
        response = requests.post(gateway, json=body, timeout=30)
        response.raise_for_status()
        return " ".join(response.json()["say"])

    say("combien je dois")
    say("oui")
    say("un deux trois quatre cinq six")
    assert "Marie" in say("le douze mars mille neuf cent quatre-vingt-cinq")
    assert "Marie" in say("combien je dois")  # the call itself keeps it
    assert nothing_personal(stack.texts(call, "combien je dois"))


def test_after_the_idle_time_nothing_personal(stack):
    sender = "c3" * 16
    key = {CLIENT_SESSION_KEY: issue_client_session(sender)}
    assert "Marie : 45,00 $" in identify(stack, sender, key[CLIENT_SESSION_KEY])
    time.sleep(IDLE_SECONDS + 1)
    reply = stack.texts(sender, "combien je dois", key)
    assert nothing_personal(reply) and "Voulez-vous vous identifier?" in reply
    assert nothing_personal(stack.texts(sender, "à quelles activités je suis inscrite", key))


def test_after_recommencer_nothing_personal(stack):
    sender = "d4" * 16
    key = issue_client_session(sender)
    assert "Marie : 45,00 $" in identify(stack, sender, key)
    widget = make_server(port=0, rasa_url=stack.url, api_token=stack.api_token)
    start_in_thread(widget)
    try:
        ended = requests.post(widget.url + "session/end", json={"sessionId": sender, "key": key}, timeout=10)
        assert ended.status_code == 200, ended.text
    finally:
        widget.shutdown()
        widget.server_close()
    reply = stack.texts(sender, "combien je dois", {CLIENT_SESSION_KEY: key})
    assert nothing_personal(reply) and "Voulez-vous vous identifier?" in reply

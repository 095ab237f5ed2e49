"""A first French conversation over REST, and the REST channel surviving bad input."""
from __future__ import annotations

import requests


def test_greeting_is_french_and_says_what_it_can_help_with(rasa_server):
    reply = rasa_server.texts("found-greet", "Bonjour").lower()
    assert "bonjour" in reply
    assert "compte" in reply and "carte accès" in reply


def test_goodbye_thanks_and_bot_challenge(rasa_server):
    assert rasa_server.texts("found-thanks", "merci beaucoup!")
    assert "assistant" in rasa_server.texts("found-bot", "est-ce que je parle à un robot?").lower()
    assert rasa_server.texts("found-bye", "bonne journée, au revoir")


def test_gibberish_gets_a_french_not_understood_with_what_it_can_do(rasa_server):
    reply = rasa_server.texts("found-fallback", "xkqzv plonf wertyu").lower()
    assert "compris" in reply
    assert "compte" in reply


def test_empty_message_gets_an_answer_or_clean_client_error(rasa_server):
    response = requests.post(
        f"{rasa_server.url}/webhooks/rest/webhook", json={"sender": "found-empty", "message": ""}, timeout=30
    )
    assert response.status_code == 200 or 400 <= response.status_code < 500
    assert requests.get(f"{rasa_server.url}/status", timeout=5).ok


def test_hundred_thousand_characters_do_not_crash_the_server(rasa_server):
    response = requests.post(
        f"{rasa_server.url}/webhooks/rest/webhook",
        json={"sender": "found-long", "message": "inscription " * 8_334},
        timeout=120,
    )
    assert response.status_code == 200 or 400 <= response.status_code < 500
    assert rasa_server.texts("found-long-after", "Bonjour")

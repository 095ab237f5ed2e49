"""Card linking over REST with the demo people: no token, forged token, quitting, switching topic,
a child's card, the happy path, and wrong digits five times (the tests run in this order: the
lock-out of the last one must not touch the others' accounts)."""
from __future__ import annotations

import pytest

from bot.backend.factory import get_backend
from bot.identity import make_demo_token

GUIDE_MESSAGE = "Votre dossier est maintenant lié à votre dossier à la Ville."


@pytest.fixture(scope="module")
def tokens(rasa_server):
    rasa_server.reset_demo_data()  # other modules link Marie's account
    url = rasa_server.env["BOT_DATABASE_URL"]
    return {
        "marie": {"token": make_demo_token("marie.tremblay@example.com", database_url=url)},
        "jean": {"token": make_demo_token("jean.gagnon@example.com", database_url=url)},
    }


def assert_nothing_personal(reply: str, *typed: str) -> None:
    for value in typed:
        assert value not in reply


def test_without_a_token_the_guide_steps_and_log_in_first(rasa_server):
    reply = rasa_server.texts("link-anon", "je veux lier ma carte accès terrebonne")
    assert "Activer mon profil" in reply
    assert "connectez-vous d'abord" in reply
    assert "seulement les six (6) derniers chiffres" in reply  # the guide's steps
    assert "Quels sont les six (6) derniers chiffres" not in reply  # no question without a token


def test_a_forged_token_identifies_nobody(rasa_server, tokens):
    forged = {"token": tokens["jean"]["token"][:-6] + "AAAAAA"}
    reply = rasa_server.texts("link-forged", "je veux lier ma carte accès terrebonne", forged)
    assert "connectez-vous d'abord" in reply


def test_quit_and_switch_topic_and_come_back(rasa_server, tokens):
    jean = tokens["jean"]
    reply = rasa_server.texts("link-switch", "je veux lier ma carte accès terrebonne", jean)
    assert "Quels sont les six (6) derniers chiffres" in reply
    reply = rasa_server.texts("link-switch", "c'est quoi les règles pour le mot de passe?", jean)
    assert "huit (8) lettres" in reply
    assert "Quels sont les six (6) derniers chiffres" in reply  # back to the form
    reply = rasa_server.texts("link-switch", "12345", jean)
    assert "il en faut six (6)" in reply
    reply = rasa_server.texts("link-switch", "laisse faire", jean)
    assert "on arrête là" in reply
    assert not get_backend(rasa_server.env["BOT_DATABASE_URL"]).account_status("jean.gagnon@example.com").linked


def test_a_childs_card_explains_the_adult_in_charge(rasa_server, tokens):
    marie = tokens["marie"]
    rasa_server.texts("link-child", "je veux lier ma carte accès terrebonne", marie)
    rasa_server.texts("link-child", "987 123", marie)
    reply = rasa_server.texts("link-child", "1er juin 2015", marie)
    assert "personne adulte qui sera en charge du compte" in reply
    rasa_server.texts("link-child", "annuler", marie)


def test_marie_links_her_card(rasa_server, tokens):
    marie = tokens["marie"]
    reply = rasa_server.texts("link-marie", "je veux lier ma carte accès terrebonne", marie)
    assert "Quels sont les six (6) derniers chiffres" in reply
    reply = rasa_server.texts("link-marie", "123 456", marie)
    assert "date de naissance" in reply and "téléphone de la maison" in reply
    reply = rasa_server.texts("link-marie", "12 mars 1985", marie)
    assert GUIDE_MESSAGE in reply
    assert_nothing_personal(reply, "123456", "123 456", "12 mars 1985", "1985")
    assert get_backend(rasa_server.env["BOT_DATABASE_URL"]).account_status("marie.tremblay@example.com").linked
    stored = rasa_server.tracker_db.read_bytes()
    logs = rasa_server.logs()
    for typed in ("123456", "123 456", "12 mars 1985", "1985-03-12", marie["token"]):
        assert typed.encode() not in stored
        assert typed not in logs


def test_wrong_digits_five_times_then_locked_with_the_call_centre(rasa_server, tokens):
    jean = tokens["jean"]
    rasa_server.texts("link-lock", "je veux lier ma carte accès terrebonne", jean)
    for attempt in range(5):
        rasa_server.texts("link-lock", "999 999", jean)
        reply = rasa_server.texts("link-lock", "2 novembre 1979", jean)
        assert "ne correspondent pas" in reply, attempt
        assert "Quels sont les six (6) derniers chiffres" in reply  # asked again
        assert_nothing_personal(reply, "999", "1979")
    rasa_server.texts("link-lock", "654321", jean)
    reply = rasa_server.texts("link-lock", "2 novembre 1979", jean)  # right values, but too late
    assert "bloquée pendant 15 minutes" in reply
    assert "450 961-2001, poste 4000" in reply
    slots = rasa_server.tracker("link-lock")["slots"]
    assert slots["handoff_reason"] == "locked"
    assert slots["handoff_topic"] == "link_card"

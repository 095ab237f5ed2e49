"""Dossier, identification, confirmation email, password and escalation over REST with the demo people."""
from __future__ import annotations

import pytest

from bot.backend.factory import get_backend
from bot.identity import make_demo_token


@pytest.fixture(scope="module")
def marie(rasa_server):
    """Marie's portal token, her account linked to her file."""
    backend = get_backend(rasa_server.env["BOT_DATABASE_URL"])
    account = backend.account_status("marie.tremblay@example.com")
    backend.link_card(account.account_id, "123456", birth_date="1985-03-12")
    return {"token": make_demo_token("marie.tremblay@example.com", database_url=rasa_server.env["BOT_DATABASE_URL"])}


def test_expired_child_card_for_a_logged_in_parent(rasa_server, marie):
    reply = rasa_server.texts("dossier-marie", "est-ce que ma carte est expirée", marie)
    assert "Marie : carte valide jusqu'au 31 mars 2027." in reply
    assert "Léa : carte expirée depuis le 30 septembre 2026." in reply
    assert "Aucun avis de renouvellement ne sera envoyé" in reply


def test_amounts_and_registrations_for_a_logged_in_parent(rasa_server, marie):
    assert "Marie : 45,00 $" in rasa_server.texts("dossier-marie-2", "combien je dois", marie)
    reply = rasa_server.texts("dossier-marie-2", "à quelles activités je suis inscrit", marie)
    assert "Soccer U12" in reply and "en attente de paiement" in reply


def test_unidentified_gets_where_to_look_then_identifies_by_card_and_birth_date(rasa_server):
    reply = rasa_server.texts("dossier-sophie", "quand expire ma carte accès terrebonne")
    assert "Mon profil" in reply
    assert "Voulez-vous vous identifier?" in reply
    assert "2028" not in reply
    reply = rasa_server.texts("dossier-sophie", "oui")
    assert "six (6) derniers chiffres" in reply
    rasa_server.texts("dossier-sophie", "246 810")
    reply = rasa_server.texts("dossier-sophie", "21 juillet 1990")
    assert "vous êtes identifié" in reply
    assert "Sophie : carte valide jusqu'au 31 janvier 2028." in reply
    assert "246" not in reply and "1990" not in reply


def test_no_account_for_the_email(rasa_server):
    reply = rasa_server.texts("email-none", "je n'ai pas reçu le courriel de confirmation")
    assert "indésirables" in reply  # the guide's answer first
    assert "quelle adresse courriel" in reply
    reply = rasa_server.texts("email-none", "personne.inconnue@example.com")
    assert "Je ne trouve pas de compte" in reply
    assert "Créer un compte" in reply
    assert "personne.inconnue" not in reply


def test_unconfirmed_email_is_resent(rasa_server):
    rasa_server.texts("email-jean", "je n'ai pas reçu le courriel de confirmation")
    reply = rasa_server.texts("email-jean", "jean.gagnon@example.com")
    assert "renvoyé le courriel de confirmation" in reply
    assert "jean.gagnon" not in reply


def test_refused_password_names_the_missed_rule_without_repeating_it(rasa_server):
    reply = rasa_server.texts("password-check", "le site refuse mon mot de passe Soleil2024!")
    assert "huit (8) lettres" in reply
    assert "ne communiquez jamais votre mot de passe" in reply
    assert "Soleil2024" not in reply


def test_asking_for_a_person_records_the_handoff(rasa_server):
    rasa_server.texts("handoff", "je veux lier ma carte accès terrebonne")
    reply = rasa_server.texts("handoff", "je veux parler à un agent")
    assert "450 961-2001, poste 4000" in reply
    assert "loisirs@ville.terrebonne.qc.ca" in reply
    slots = rasa_server.tracker("handoff")["slots"]
    assert slots["handoff_reason"] == "request_human"
    assert slots["handoff_topic"] == "link_card"
    assert "utter_link_card" in slots["handoff_tried"]


def test_two_fallbacks_in_a_row_go_to_the_call_centre(rasa_server):
    # "/nlu_fallback" is what the FallbackClassifier yields; which gibberish it catches is the NLU's concern.
    rasa_server.texts("handoff-fallback", "/nlu_fallback")
    reply = rasa_server.texts("handoff-fallback", "/nlu_fallback")
    assert "450 961-2001, poste 4000" in reply
    assert rasa_server.tracker("handoff-fallback")["slots"]["handoff_reason"] == "repeated_fallback"


def test_hours_while_not_configured_claim_nothing(rasa_server):
    reply = rasa_server.texts("hours", "quelles sont vos heures d'ouverture")
    assert "pendant nos heures d'ouverture" in reply
    assert "ouvert en ce moment" not in reply and "fermé" not in reply

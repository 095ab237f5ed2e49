"""Citizen-led conversations against the real Rasa server and action server: the issue's own tries.

The citizen gives details before being asked, answers the offer with the data, says everything in one
message, corrects a digit, asks something else in the middle and comes back, asks two things at once.
"""
from __future__ import annotations

from tests.e2e.test_ivr_calls import call, said


def test_the_offer_answered_with_the_digits_goes_on_without_a_loop(rasa_server):
    reply = rasa_server.texts("led-offer", "ma carte accès expire quand?")
    assert "Voulez-vous vous identifier?" in reply
    reply = rasa_server.texts("led-offer", "246810")
    assert "dites-moi d'abord" not in reply
    assert "date de naissance" in reply
    reply = rasa_server.texts("led-offer", "21 juillet 1990")
    assert "Sophie : carte valide jusqu'au 31 janvier 2028." in reply


def test_asking_again_while_the_offer_waits_starts_the_identification(rasa_server):
    rasa_server.texts("led-again", "c'est quand que ma carte expire")
    reply = rasa_server.texts("led-again", "je veux vérifier ma carte")
    assert reply.count("Voulez-vous vous identifier?") == 0
    assert "six (6) derniers chiffres" in reply


def test_purpose_and_both_details_in_one_message_are_served_in_one_turn(rasa_server):
    reply = rasa_server.texts(
        "led-one-turn", "Bonjour ma carte c'est 246810 pis je suis née le 21 juillet 1990, elle expire quand ma carte?"
    )
    assert "dites-moi d'abord" not in reply
    assert "vous êtes identifié" in reply
    assert "Sophie : carte valide jusqu'au 31 janvier 2028." in reply


def test_details_given_before_the_question_are_not_asked_again(rasa_server):
    rasa_server.texts("led-before", "mon numéro de carte c'est le 246 810")
    reply = rasa_server.texts("led-before", "ok pis elle expire quand ma carte?")
    assert "six (6) derniers chiffres" not in reply
    assert "date de naissance" in reply
    reply = rasa_server.texts("led-before", "450 555-0142")
    assert "Sophie : carte valide jusqu'au 31 janvier 2028." in reply


def test_a_wrong_value_is_never_said_which_one(rasa_server):
    reply = rasa_server.texts("led-wrong", "c'est quoi mon solde? ma carte 246810 née le 22 juillet 1990")
    assert "ne correspondent pas" in reply
    assert "date de naissance est" not in reply and "carte est" not in reply
    assert "246810" not in reply and "1990" not in reply


def test_a_correction_of_the_card_digits_replaces_them_and_keeps_going(rasa_server):
    rasa_server.texts("led-fix", "mon solde svp")
    rasa_server.texts("led-fix", "oui")
    reply = rasa_server.texts("led-fix", "246801")
    assert "date de naissance" in reply
    messages = [m.get("text", "") for m in rasa_server.talk("led-fix", "non non je me suis trompé c'est 246810")]
    assert any("corrigé" in text for text in messages)
    assert not any("Je n'ai reconnu ni une date" in text for text in messages)
    assert len(set(messages)) == len(messages)
    reply = rasa_server.texts("led-fix", "21 juillet 1990")
    assert "vous êtes identifié" in reply


def test_a_question_inside_the_form_is_answered_then_the_form_resumes(rasa_server):
    rasa_server.texts("led-digress", "je veux voir mes inscriptions")
    reply = rasa_server.texts("led-digress", "oui")
    assert "six (6) derniers chiffres" in reply
    reply = rasa_server.texts("led-digress", "attends, c'est quoi les règles pour le mot de passe?")
    assert "majuscule" in reply
    assert "Reprenons : Quels sont les six (6) derniers chiffres" in reply
    reply = rasa_server.texts("led-digress", "on oublie ça")
    assert "on arrête là" in reply


def test_two_questions_in_one_message_get_both_answers(rasa_server):
    reply = rasa_server.texts("led-two", "Comment je crée un compte? Pis c'est quoi les règles du mot de passe?")
    assert "Créer un compte" in reply
    assert "majuscule" in reply


def test_on_the_phone_the_digits_given_with_the_question_are_used(rasa_server):
    reply = call(rasa_server, "led-ivr", "ma carte c'est deux quatre six huit un zéro elle expire quand", confidence=0.9)
    assert "date de naissance" in said(reply)
    assert "six derniers chiffres" not in said(reply)
    reply = call(rasa_server, "led-ivr", "le vingt et un juillet mille neuf cent quatre-vingt-dix", confidence=0.9)
    assert "31 janvier 2028" in said(reply)


def test_details_then_the_question_without_a_greeting_nor_punctuation(rasa_server):
    reply = rasa_server.texts("led-bare", "246810 21 juillet 1990 je veux savoir quand expire ma carte")
    assert "dites-moi d'abord" not in reply
    assert "Sophie : carte valide jusqu'au 31 janvier 2028." in reply

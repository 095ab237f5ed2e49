"""Several things in one message: where a message is cut, and which parts are questions of the guide."""
import pytest

from bot.several_questions import clauses, questions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bonjour, comment je crée un compte?", ["comment je crée un compte"]),
        ("allo madame, j'ai oublié mon mot de passe", ["j'ai oublié mon mot de passe"]),
        ("Comment créer un compte? Pis c'est quoi les règles du mot de passe?",
         ["Comment créer un compte", "Pis c'est quoi les règles du mot de passe"]),
        ("comment je lie ma carte et aussi quand est-ce qu'elle expire",
         ["comment je lie ma carte", "quand est-ce qu'elle expire"]),
        ("oui allô bonjour combien est-ce que je dois", ["combien est-ce que je dois"]),
        ("combien je dois pis ma carte expire quand?", ["combien je dois", "ma carte expire quand"]),
        ("jveux voir mon profil, carte 654321 date de naissance 1979-11-02",
         ["jveux voir mon profil", "carte 654321 date de naissance 1979-11-02"]),
        # speech transcripts have no punctuation
        ("euh je veux créer un compte ensuite je veux savoir les heures du centre d'appels",
         ["euh je veux créer un compte", "je veux savoir les heures du centre d'appels"]),
    ],
)
def test_a_message_is_cut_after_a_greeting_and_between_questions(text, expected):
    assert clauses(text) == expected


@pytest.mark.parametrize(
    "text",
    ["quand expire ma carte?", "je veux créer un compte et activer mon profil", "bonjour", "oui", "oui merci"],
)
def test_a_single_question_or_a_short_message_is_one_clause(text):
    assert clauses(text) == [text.strip()]


def _parse(name, confidence):
    return {"intent": {"name": name, "confidence": confidence}}


def test_only_clear_questions_of_the_guide_are_kept_once_each():
    parsed = [
        ("comment créer un compte", _parse("ask_create_account", 0.95)),
        ("mon numéro 123456", _parse("inform", 0.99)),
        ("je sais pas trop quoi", _parse("ask_hours", 0.41)),
        ("pis créer un compte ça marche comment", _parse("ask_create_account", 0.9)),
        ("les règles du mot de passe", _parse("ask_password_rules", 0.88)),
    ]
    assert questions(parsed) == ["comment créer un compte", "les règles du mot de passe"]


def test_a_clause_of_details_is_no_question_even_when_the_model_reads_a_topic_in_it():
    details = {"intent": {"name": "no_card", "confidence": 0.8},
               "entities": [{"entity": "card_digits", "value": "123456"}, {"entity": "birth_date", "value": "1985-03-12"}]}
    parsed = [("combien jdois", _parse("ask_amount_due", 0.9)), ("carte 123456, née 12/03/1985", details)]
    assert questions(parsed) == ["combien jdois"]


def test_several_answers_collected_say_a_form_s_reminder_once_after_the_last():
    from rasa.core.channels.channel import CollectingOutputChannel

    from bot.several_questions import _once

    channel = CollectingOutputChannel()
    resume = {"recipient_id": "c", "text": "Reprenons : Quels sont les six (6) derniers chiffres?"}
    channel.messages += [{"recipient_id": "c", "text": "Les montants dus ..."}, resume,
                         {"recipient_id": "c", "text": "En personne ..."}, dict(resume)]
    assert [m["text"][:10] for m in _once(channel, channel.messages)] == ["Les montan", "En personn", "Reprenons "]

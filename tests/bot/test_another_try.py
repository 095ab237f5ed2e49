"""Another try (bot/another_try.py): right after a flow ended, a message with a value of its kind starts it
again, whatever the model read it as, unless it clearly asks another question of the guide."""
from __future__ import annotations

from datetime import date

import pytest

from bot.another_try import asks_another_question, restart, value_of
from bot.contract import ANOTHER_TRIES, CARD_TRY, EMAIL_TRY, PASSWORD_TRY, Kind, another_try
from bot.nlu.normalize import normalize

TODAY = date(2026, 11, 26)
EMAIL, PASSWORD, CARD = EMAIL_TRY.restart, PASSWORD_TRY.restart, CARD_TRY.restart


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (Kind.EMAIL, "je me suis trompé, c'est jean.gagnon@example.com", "jean.gagnon@example.com"),
        (Kind.EMAIL, "ah non scusez c Jean.Gagnon@Exemple.com", "jean.gagnon@exemple.com"),
        (Kind.EMAIL, "je me suis trompé", None),
        (Kind.PASSWORD, "non attends je l'avais écrit Soleil2024!", "Soleil2024!"),
        (Kind.PASSWORD, "pis si j'essaie Hiver#2026x", "Hiver#2026x"),
        (Kind.PASSWORD, "non attends", None),
        (Kind.PASSWORD, "c'est jean.gagnon@example.com", None),  # an address is not a password
        (Kind.PASSWORD, "123456", None),
        (Kind.CARD, "oups c'est la carte de ma fille ça, la mienne c'est 123 456", "123456"),
        (Kind.CARD, "la mienne est née le 12 mars 1985", None),  # a date's digits are not card digits
        (Kind.DATE, "née le 12 mars 1985", "1985-03-12"),
        (Kind.PHONE, "plutôt 450 555-0123", "4505550123"),
    ],
)
def test_the_value_of_each_kind_is_read_as_its_flow_reads_it(kind, text, expected):
    assert value_of(kind, text, TODAY) == expected


@pytest.mark.parametrize("intent", ["out_of_scope", "nlu_fallback", "inform", "deny", "affirm", "thank", None])
def test_a_new_address_starts_the_email_check_again_whatever_the_reading(intent):
    text = "je me suis trompé, c'est jean.gagnon@example.com"
    assert restart(EMAIL, intent, 0.99, text, TODAY) == "email_form"


@pytest.mark.parametrize(
    ("offered", "text", "expected"),
    [
        (PASSWORD, "non attends je l'avais écrit Soleilbleu2024!", "action_check_password"),
        (PASSWORD, "non attends", None),  # nothing to check again
        (PASSWORD, "ah non c'est jean.gagnon@example.com", None),  # another kind of value
        (EMAIL, "ark encore mal écrit", None),
        (EMAIL, "Soleil2024!", None),
        (CARD, "oups c'est la carte de ma fille ça, la mienne c'est 123456", "link_card_form"),
        (CARD, "ah ok merci", None),
        (None, "je me suis trompé, c'est jean.gagnon@example.com", None),  # no flow just ended
        ("utter_greet", "je me suis trompé, c'est jean.gagnon@example.com", None),  # not a flow of the contract
    ],
)
def test_only_a_value_of_the_offered_kind_starts_the_flow_again(offered, text, expected):
    assert restart(offered, "out_of_scope", 0.9, text, TODAY) == expected


def test_a_clear_other_question_is_answered_instead():
    text = "comment je me connecte avec jean.gagnon@example.com?"
    assert restart(EMAIL, "ask_login_field", 0.98, text, TODAY) is None
    # A weak reading of another question is no clear question: the model read this correction as one.
    text = "ah non mon adresse c'est plutôt jean.gagnon@example.com"
    assert restart(EMAIL, "ask_update_file", 0.57, text, TODAY) == "email_form"


@pytest.mark.parametrize("flow", ANOTHER_TRIES, ids=lambda flow: flow.restart)
def test_the_flows_own_intent_starts_it_again_too(flow):
    (intent,) = flow.intents
    assert not asks_another_question(flow, intent, 1.0)
    assert asks_another_question(flow, "ask_hours", 0.9)
    assert not asks_another_question(flow, "ask_hours", 0.5)


def test_a_spoken_address_is_read_once_written_out():
    heard = "ah non excusez je me suis trompée c'est jean point gagnon arobase example point com"
    assert restart(EMAIL, "out_of_scope", 1.0, normalize(heard), TODAY) == "email_form"


def test_each_flow_is_found_by_its_restart_action():
    for flow in ANOTHER_TRIES:
        assert another_try(flow.restart) is flow
    assert another_try(None) is None and another_try("nothing") is None

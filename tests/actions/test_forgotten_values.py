"""A value the citizen gave that the slot vault no longer holds (Redis restarted, or its time to live over):
the form's question for it says why, once, then the form goes on (bot/forgotten.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from actions.forms import AskBirthDateOrPhone, AskCardDigits, ValidateIdentifyForm
from tests.actions.conftest import NOW
from tests.actions.trackers import make_tracker, slot_events, texts
from tests.responses import render

pytestmark = pytest.mark.usefixtures("demo_db", "frozen")

CARD, SECOND = "form_card_digits", "form_birth_date_or_phone"
NOW_EPOCH = datetime.fromisoformat(NOW).replace(tzinfo=timezone.utc).timestamp()
LOST = render("utter_form_values_lost")
EXPIRED = render("utter_form_values_expired")


def given_before(seconds_ago: float) -> list[dict]:
    """The card digits given ``seconds_ago`` in an earlier turn (their value now gone from the vault)."""
    at = NOW_EPOCH - seconds_ago
    return [
        {"event": "action", "name": "action_listen", "timestamp": at - 1},
        {"event": "user", "text": "[carte]", "timestamp": at - 0.5},
        {"event": "slot", "name": CARD, "value": None, "timestamp": at},
        {"event": "slot", "name": "form_given", "value": [CARD], "timestamp": at},
    ]


def asking_again(seconds_ago: float = 60, channel: str = "rest", **slots) -> object:
    """The tracker the ask action sees once the birth date was read and the digits are gone."""
    return make_tracker("12 mars 1985", slots={"requested_slot": CARD, "form_given": [CARD, SECOND],
                                               SECOND: "date:1985-03-12", **slots},
                        events=given_before(seconds_ago), channel=channel)


async def test_the_form_keeps_a_receipt_of_the_values_given_never_the_values(dispatcher, domain):
    tracker = make_tracker("123 456", slots={"requested_slot": CARD}, active_loop="identify_form")
    events = await ValidateIdentifyForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["form_given"] == [CARD]


async def test_a_value_lost_by_the_vault_is_asked_again_with_why_once(dispatcher, domain):
    events = await AskCardDigits().run(dispatcher, asking_again(), domain)
    said = texts(dispatcher)
    assert said.startswith(LOST)
    assert "six (6) derniers chiffres" in said
    assert slot_events(events) == {"form_given": [SECOND]}  # said once: the receipt forgets it
    dispatcher.messages.clear()
    await AskCardDigits().run(dispatcher, asking_again(form_given=[SECOND]), domain)
    assert LOST not in texts(dispatcher) and "six (6) derniers chiffres" in texts(dispatcher)


async def test_a_value_past_the_vaults_time_to_live_is_said_to_have_expired(dispatcher, domain):
    await AskCardDigits().run(dispatcher, asking_again(seconds_ago=20 * 60), domain)
    assert texts(dispatcher).startswith(EXPIRED)
    assert "Pour votre sécurité" in EXPIRED


async def test_on_the_phone_the_caller_hears_why_and_may_use_the_keypad(dispatcher, domain):
    await AskCardDigits().run(dispatcher, asking_again(channel="ivr"), domain)
    spoken = texts(dispatcher, "ivr")
    assert spoken.startswith(render("utter_form_values_lost", "ivr"))
    assert "tapez sur le clavier" in spoken and "**" not in spoken
    assert dispatcher.messages[-1]["custom"] == {"collect_digits": 6}


async def test_a_question_never_answered_is_asked_without_explanation(dispatcher, domain):
    tracker = make_tracker("123 456", slots={"requested_slot": SECOND, "form_given": [CARD], CARD: "123456"})
    assert await AskBirthDateOrPhone().run(dispatcher, tracker, domain) == []
    assert LOST not in texts(dispatcher) and EXPIRED not in texts(dispatcher)


async def test_a_hint_already_said_does_not_silence_the_explanation(dispatcher, domain):
    """The birth date refused (its hint asked again) while the digits were lost: the digits come next."""
    events = await AskCardDigits().run(dispatcher, asking_again(form_prompted=True), domain)
    assert texts(dispatcher).startswith(LOST)
    assert slot_events(events)["form_prompted"] is None

"""The guided forms' shared behaviour: precise hints, quitting, topic switches, N failures, asking."""
import pytest

from actions.forms import (
    AskCardDigits,
    AskEmail,
    ValidateEmailForm,
    ValidateIdentifyForm,
    ValidateLinkCardForm,
)
from tests.actions.trackers import make_tracker, slot_events, texts
from tests.responses import message_text

pytestmark = pytest.mark.usefixtures("demo_db", "frozen")


def answer(text, requested, form="identify_form", intent="inform", slots=None, metadata=None):
    """The tracker a form's validation sees right after the person answered ``text``."""
    return make_tracker(
        text, intent=intent, slots={"requested_slot": requested, **(slots or {})}, metadata=metadata,
        active_loop=form,
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [("123456", "123456"), ("123 456", "123456"), ("123-456", "123456"), ("ma carte : 12 34 56", "123456")],
)
async def test_card_digits_are_read_as_typed(dispatcher, domain, text, value):
    events = await ValidateIdentifyForm().run(dispatcher, answer(text, "form_card_digits"), domain)
    assert slot_events(events)["form_card_digits"] == value
    assert dispatcher.messages == []


async def test_a_whole_card_number_keeps_the_last_six_and_says_so(dispatcher, domain):
    events = await ValidateIdentifyForm().run(dispatcher, answer("6004 1234 5612 3456", "form_card_digits"), domain)
    assert slot_events(events)["form_card_digits"] == "123456"
    assert "six (6) derniers chiffres" in texts(dispatcher)
    assert "3456" not in texts(dispatcher)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12 mars 1985", "date:1985-03-12"),
        ("1985-03-12", "date:1985-03-12"),
        ("12/03/85", "date:1985-03-12"),
        ("le douze mars 1985", "date:1985-03-12"),
        ("(450) 555-0123", "phone:4505550123"),
        ("450-555-0123", "phone:4505550123"),
        ("4505550123", "phone:4505550123"),
        ("+1 450 555 0123", "phone:4505550123"),
    ],
)
async def test_birth_date_or_phone_at_the_persons_choice(dispatcher, domain, text, value):
    tracker = answer(text, "form_birth_date_or_phone", slots={"form_card_digits": "123456"})
    events = await ValidateIdentifyForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["form_birth_date_or_phone"] == value


@pytest.mark.parametrize(
    ("text", "requested", "hint"),
    [
        ("12345", "form_card_digits", "il en faut six (6)"),
        ("mars 1985", "form_birth_date_or_phone", "date complète"),
        ("31/02/1985", "form_birth_date_or_phone", "n'existe pas"),
        ("2030-01-01", "form_birth_date_or_phone", "futur"),
        ("555-0123", "form_birth_date_or_phone", "indicatif régional"),
        ("je sais pas", "form_birth_date_or_phone", "ni une date ni un numéro de téléphone"),
    ],
)
async def test_invalid_answers_are_asked_again_with_a_precise_hint(dispatcher, domain, text, requested, hint):
    events = await ValidateIdentifyForm().run(dispatcher, answer(text, requested), domain)
    slots = slot_events(events)
    assert slots[requested] is None
    assert slots["form_failures"] == {requested: 1}
    assert hint in texts(dispatcher)
    assert text not in texts(dispatcher)


async def test_after_n_invalid_answers_the_form_stops_and_offers_the_call_centre(dispatcher, domain, monkeypatch):
    tracker = answer("12", "form_card_digits", slots={"form_failures": {"form_card_digits": 2}})
    events = await ValidateIdentifyForm().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["requested_slot"] is None
    assert slots["handoff_reason"] == "repeated_invalid_input"
    assert slots["handoff_topic"] == "identify"
    reply = texts(dispatcher)
    assert "Je n'arrive pas à lire cette information" in reply
    assert "450 961-2001, poste 4000" in reply


async def test_the_number_of_failures_is_configurable(dispatcher, domain, monkeypatch):
    from bot.settings import get_settings

    monkeypatch.setenv("BOT_FORM_MAX_FAILURES", "5")
    get_settings.cache_clear()
    tracker = answer("12", "form_card_digits", slots={"form_failures": {"form_card_digits": 2}})
    events = await ValidateIdentifyForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["form_failures"] == {"form_card_digits": 3}
    assert "handoff_reason" not in slot_events(events)


@pytest.mark.parametrize(
    ("text", "intent"),
    [("laisse faire", "deny"), ("annuler", "inform"), ("non", "deny"), ("ok stop, laisse tomber", "nlu_fallback")],
)
async def test_the_person_may_quit_at_any_time(dispatcher, domain, text, intent):
    tracker = answer(text, "form_birth_date_or_phone", intent=intent, slots={"form_card_digits": "123456"})
    events = await ValidateIdentifyForm().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["requested_slot"] is None
    assert slots["form_card_digits"] is None
    assert texts(dispatcher).startswith("D'accord, on arrête là.")


async def test_another_question_lets_the_topic_switch(dispatcher, domain):
    tracker = answer("c'est quoi les règles du mot de passe?", "form_card_digits", intent="ask_password_rules")
    assert await ValidateIdentifyForm().run(dispatcher, tracker, domain) == []
    assert dispatcher.messages == []


async def test_digits_are_taken_even_when_the_intent_is_another_topic(dispatcher, domain):
    tracker = answer("123456", "form_card_digits", intent="ask_card_expiry")
    events = await ValidateIdentifyForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["form_card_digits"] == "123456"


async def test_coming_back_after_a_digression_does_not_read_the_digression_as_an_answer(dispatcher, domain):
    tracker = make_tracker(
        "c'est quoi les règles du mot de passe?",
        intent="ask_password_rules",
        slots={"requested_slot": "form_card_digits"},
        active_loop="identify_form",
    )
    tracker.events[-2:-2] = [{"event": "action", "name": "utter_password_rules"}, {"event": "bot", "text": "..."}]
    events = await ValidateIdentifyForm().run(dispatcher, tracker, domain)
    assert "form_card_digits" not in slot_events(events)
    assert dispatcher.messages == []


async def test_card_linking_needs_a_portal_token(dispatcher, domain):
    tracker = make_tracker("je veux lier ma carte", intent="link_card")
    events = await ValidateLinkCardForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"requested_slot": None}


async def test_card_linking_with_a_token_asks_the_digits(dispatcher, domain, token):
    tracker = make_tracker("je veux lier ma carte", intent="link_card", metadata={"token": token("jean.gagnon@example.com")})
    events = await ValidateLinkCardForm().run(dispatcher, tracker, domain)
    assert "requested_slot" not in slot_events(events)


async def test_a_forged_token_is_nobody(dispatcher, domain, token):
    forged = token("jean.gagnon@example.com")[:-4] + "AAAA"
    tracker = make_tracker("je veux lier ma carte", intent="link_card", metadata={"token": forged})
    events = await ValidateLinkCardForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"requested_slot": None}


@pytest.mark.parametrize(
    ("text", "value"),
    [("jean.gagnon@example.com", "jean.gagnon@example.com"), ("mon courriel est Jean.Gagnon@Example.COM", "jean.gagnon@example.com")],
)
async def test_email_form_reads_the_address(dispatcher, domain, text, value):
    events = await ValidateEmailForm().run(dispatcher, answer(text, "form_email", form="email_form"), domain)
    assert slot_events(events)["form_email"] == value


async def test_email_form_hint(dispatcher, domain):
    events = await ValidateEmailForm().run(dispatcher, answer("jean point gagnon", "form_email", form="email_form"), domain)
    assert slot_events(events)["form_email"] is None
    assert "prenom.nom@exemple.com" in texts(dispatcher)


async def test_asking_for_the_digits_on_the_phone_offers_the_keypad(dispatcher, domain):
    await AskCardDigits().run(dispatcher, make_tracker("oui", intent="affirm", channel="ivr"), domain)
    assert message_text(dispatcher.messages[0], "ivr").startswith("Dites, ou tapez sur le clavier")
    assert dispatcher.messages[1]["custom"] == {"collect_digits": 6}


async def test_asking_on_the_web(dispatcher, domain):
    await AskCardDigits().run(dispatcher, make_tracker("oui", intent="affirm"), domain)
    await AskEmail().run(dispatcher, make_tracker("oui", intent="affirm"), domain)
    assert len(dispatcher.messages) == 2
    assert "six (6) derniers chiffres" in message_text(dispatcher.messages[0])
    assert "adresse courriel" in message_text(dispatcher.messages[1])


async def test_an_email_in_the_first_message_is_not_asked_again(dispatcher, domain):
    tracker = make_tracker("pas reçu le courriel de confirmation pour jean.gagnon@example.com", intent="email_confirmation_missing")
    events = await ValidateEmailForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"form_email": "jean.gagnon@example.com", "form_given": ["form_email"]}
    assert dispatcher.messages == []


async def test_a_first_message_without_values_fills_nothing(dispatcher, domain):
    tracker = make_tracker("je n'ai pas reçu le courriel de confirmation", intent="email_confirmation_missing")
    assert await ValidateEmailForm().run(dispatcher, tracker, domain) == []
    assert dispatcher.messages == []


async def test_card_digits_in_the_first_message_when_logged_in(dispatcher, domain, token):
    tracker = make_tracker(
        "je veux lier ma carte 123 456", intent="link_card", metadata={"token": token("jean.gagnon@example.com")}
    )
    events = await ValidateLinkCardForm().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"form_card_digits": "123456", "form_given": ["form_card_digits"]}


async def test_after_a_mismatch_the_form_starts_over_without_reusing_the_last_answer(dispatcher, domain, token):
    tracker = make_tracker("2 novembre 1979", metadata={"token": token("jean.gagnon@example.com")})
    tracker.events.append({"event": "action", "name": "action_link_card_submit"})
    events = await ValidateLinkCardForm().run(dispatcher, tracker, domain)
    assert "form_birth_date_or_phone" not in slot_events(events)

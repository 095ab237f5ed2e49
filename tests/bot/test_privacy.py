"""Redaction of personal data: what people type, events as stored, and log records."""
from __future__ import annotations

import logging

import pytest
import yaml

from bot.contract import FLOWS
from bot.privacy import (
    PLACEHOLDERS,
    RedactingFilter,
    install_log_redaction,
    redact_event,
    redact_log_message,
    redact_slot_value,
    redact_text,
    slot_kind,
)
from bot.settings import PROJECT_ROOT
from tests.responses import say


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Les 6 derniers chiffres : 123456", "Les 6 derniers chiffres : [carte]"),
        ("c'est 123 456", "c'est [carte]"),
        ("1 2 3 4 5 6", "[carte]"),
        ("ma carte 6298 4512 3456 7890", "ma carte [carte]"),
        ("un deux trois quatre cinq six", "[carte]"),
        ("je suis née le 12 mars 1985", "je suis née le [date]"),
        ("né le 1er mars 1985", "né le [date]"),
        ("1985-03-12", "[date]"),
        ("12/03/1985", "[date]"),
        ("12.03.85", "[date]"),
        ("19850312", "[date]"),
        ("douze mars mille neuf cent quatre-vingt-cinq", "[date]"),
        ("mon numéro est le 450 555-0123", "mon numéro est le [téléphone]"),
        ("(450) 555-0123", "[téléphone]"),
        ("+1 450 555 0123", "[téléphone]"),
        ("4505550123", "[téléphone]"),
        ("555-0123", "[téléphone]"),
        ("marie.tremblay@example.com", "[courriel]"),
        ("Mon courriel: Jean.Gagnon+loisirs@Example.QC.CA.", "Mon courriel: [courriel]."),
        ("marie point tremblay arobase example point com", "[courriel]"),
        ("mon mot de passe Soleil2024! est refusé", "mon mot de passe [mot de passe] est refusé"),
        ("mot de passe : « motdepasse »", "mot de passe : « [mot de passe] »"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "[jeton]"),
    ],
)
def test_personal_data_people_type_is_replaced_by_its_placeholder(typed, expected):
    assert redact_text(typed) == expected


@pytest.mark.parametrize(
    "ordinary",
    [
        "Bonjour, comment créer un compte?",
        "Appelez le 450 961-2001, poste 4000, pendant nos heures d'ouverture.",
        "Écrivez à loisirs@ville.terrebonne.qc.ca",
        "Vous devez 45,00 $ pour Natation – Niveau 3.",
        "La session d'hiver 2027 commence en janvier.",
        "Soccer U12, de 19 h à 20 h 30",
        "940, montée Masson, bureau 102",
        "",
    ],
)
def test_ordinary_french_and_the_citys_own_contacts_stay_as_they_are(ordinary):
    assert redact_text(ordinary) == ordinary


def test_redaction_is_idempotent():
    once = redact_text("carte 123456, née le 12 mars 1985, marie@example.com, Soleil2024!")
    assert once == "carte [carte], née le [date], [courriel], [mot de passe]"
    assert redact_text(once) == once


def test_several_kinds_in_one_message():
    text = "Je suis Marie, carte 123456, née le 1985-03-12, tél. 450 555-0123, marie.tremblay@example.com"
    assert redact_text(text) == "Je suis Marie, carte [carte], née le [date], tél. [téléphone], [courriel]"


def test_a_hundred_kilobyte_message_is_redacted_whole():
    text = ("inscription 123456 " * 5_300)[:100_000]
    redacted = redact_text(text)
    assert "123456" not in redacted
    assert redacted.count("[carte]") == text.count("123456")


@pytest.mark.parametrize(
    ("slot", "kind"),
    [("card_digits", "[carte]"), ("birth_date", "[date]"), ("phone_number", "[téléphone]"),
     ("email", "[courriel]"), ("password_candidate", "[mot de passe]"), ("requested_slot", None)],
)
def test_personal_slots_are_known_by_name(slot, kind):
    found = slot_kind(slot)
    assert (found.value if found else None) == kind


def test_slot_values_personal_by_name_or_by_pattern():
    assert redact_slot_value("card_digits", "123456") == "[carte]"
    assert redact_slot_value("birth_date", "1985-03-12") == "[date]"
    assert redact_slot_value("card_digits", None) is None
    assert redact_slot_value("requested_slot", "card_digits") == "card_digits"
    assert redact_slot_value("identified", True) is True
    assert redact_slot_value("note", "rappeler au 450 555-0123") == "rappeler au [téléphone]"


def user_event() -> dict:
    return {
        "event": "user",
        "timestamp": 1.5,
        "text": "carte 123456 née le 12 mars 1985",
        "parse_data": {
            "text": "carte 123456 née le 12 mars 1985",
            "intent": {"name": "inform", "confidence": 0.9},
            "entities": [
                {"entity": "card_digits", "value": "123456", "start": 6, "end": 12},
                {"entity": "birth_date", "value": "12 mars 1985", "start": 20, "end": 32},
            ],
            "intent_ranking": [{"name": "inform", "confidence": 0.9}],
        },
        "input_channel": "rest",
        "message_id": "abc",
        "metadata": {"token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "page": "/profil"},
    }


def test_a_user_event_is_stored_without_its_personal_data():
    original = user_event()
    stored = redact_event(original)
    assert stored["text"] == stored["parse_data"]["text"] == "carte [carte] née le [date]"
    assert [e["value"] for e in stored["parse_data"]["entities"]] == ["[carte]", "[date]"]
    assert stored["metadata"] == {"token": "[jeton]", "page": "/profil"}
    assert stored["parse_data"]["intent"] == {"name": "inform", "confidence": 0.9}
    assert original == user_event(), "the event given is not modified"


def form_responses() -> set[str]:
    """The guided forms' asks, hints and choices, whose examples (a birth date, a phone, an email) look personal."""
    return {name for item in FLOWS for slot in item.slots for name in slot.prompts}


def guide_answers() -> list[tuple[str, dict]]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return [
        (name, answer) for name, answers in domain["responses"].items() for answer in answers
        if name not in form_responses()
    ]


def clicked(payload: str, intent: str) -> str:
    event = {"event": "user", "text": payload, "parse_data": {"text": payload, "intent": {"name": intent}}}
    stored = redact_event(event)
    assert stored["parse_data"]["text"] == stored["text"]
    return stored["text"]


def test_a_button_click_is_stored_as_the_button_s_intent_and_its_values_redacted():
    """The help desk sees which buttons people click, not "[mot de passe]"."""
    assert clicked("/link_card", "link_card") == "/link_card"
    assert clicked("/password_rejected", "password_rejected") == "/password_rejected"
    assert clicked('/inform{"card_digits":"123456"}', "inform") == '/inform{"card_digits":"[carte]"}'
    assert clicked('/inform{"card_digits": "123 456"}', "inform") == '/inform{"card_digits": "[carte]"}'
    assert "Soleil2024" not in clicked('/inform{"password": "Soleil2024!"}', "inform")
    assert clicked('/inform{"card_digits": 123456}', "inform") == '/inform{"card_digits": "[carte]"}'
    assert clicked('/inform{"email": "marie@example.com"}', "inform") == '/inform{"email": "[courriel]"}'
    assert clicked('/inform{"password": "soleil"}', "inform") == '/inform{"password": "[mot de passe]"}'


def test_a_typed_slash_word_that_is_no_known_intent_is_still_a_possible_password():
    assert clicked("/soleil_abc", "nlu_fallback") == "[mot de passe]"
    assert clicked("/Soleil2024!", "nlu_fallback") == "[mot de passe]"


def test_the_guide_s_answers_are_stored_as_the_citizen_read_them():
    """The help desk's report and replay show the bot's answers: bold words are not passwords."""
    changed = []
    for name, answer in guide_answers():
        event = {"event": "bot", "text": answer.get("text"), "data": {"buttons": answer.get("buttons", [])},
                 "metadata": {"utter_action": name}}
        if redact_event(event) != event:
            changed.append(name)
    assert changed == []
    assert any("**" in answer.get("text", "") for _, answer in guide_answers()), "the guide uses bold"


@pytest.mark.parametrize(
    ("response", "example", "placeholder"),
    [("utter_hint_date_not_found", "21 juin 1980", "[date]"), ("utter_hint_phone_invalid", "450 555-0100", "[téléphone]"),
     ("utter_hint_email_not_found", "prenom.nom@exemple.com", "[courriel]")],
)
def test_the_forms_examples_are_stored_redacted_like_the_values_they_show(response, example, placeholder):
    """An example birth date looks like any birth date: the hints are stored with placeholders."""
    text = say(response)
    assert example in text
    stored = redact_event({"event": "bot", "text": text})["text"]
    assert example not in stored and placeholder in stored


def test_a_password_in_bold_in_a_bot_text_is_still_redacted():
    stored = redact_event({"event": "bot", "text": "Vous avez écrit **Soleil2024!** : il manque une majuscule."})
    assert "Soleil2024" not in stored["text"]
    assert stored["text"].startswith("Vous avez écrit **[mot de passe]")


def test_bot_and_slot_events_are_redacted_and_names_of_actions_kept():
    bot = redact_event(
        {"event": "bot", "text": "Votre carte expire le 31 mars 2027. Appelez le 450 961-2001.",
         "data": {"buttons": [{"title": "Oui", "payload": "/affirm"}]},
         "metadata": {"utter_action": "utter_card_expiry_date"}}
    )
    assert bot["text"] == "Votre carte expire le [date]. Appelez le 450 961-2001."
    assert bot["metadata"] == {"utter_action": "utter_card_expiry_date"}
    assert bot["data"]["buttons"][0]["payload"] == "/affirm"
    slot = redact_event({"event": "slot", "name": "email", "value": "marie@example.com"})
    assert slot["value"] == "[courriel]"
    action = redact_event({"event": "action", "name": "action_link_card_form", "policy": "RulePolicy"})
    assert action == {"event": "action", "name": "action_link_card_form", "policy": "RulePolicy"}


def test_log_lines_keep_code_names_and_lose_personal_data():
    line = ("Received user message 'Soleil2024! et 123456' with intent '{'name': 'password_rejected'}' "
            "slot card_digits: 123456, email: marie@example.com, file /work/models/model-1a2b.tar.gz")
    assert redact_log_message(line) == (
        "Received user message '[mot de passe] et [carte]' with intent '{'name': 'password_rejected'}' "
        "slot card_digits: [carte], email: [courriel], file /work/models/model-1a2b.tar.gz"
    )


def test_every_log_record_is_redacted_once_installed(caplog):
    install_log_redaction()
    install_log_redaction()
    logger = logging.getLogger("tests.privacy")
    with caplog.at_level(logging.DEBUG, logger="tests.privacy"):
        logger.info("user %s born %s wrote %r", "marie@example.com", "1985-03-12", "mot de passe: Hiver2026#")
        try:
            raise ValueError("bad card 123456")
        except ValueError:
            logger.exception("failed for 450 555-0123")
    text = caplog.text
    for secret in ("marie@example.com", "1985-03-12", "Hiver2026#", "123456", "555-0123"):
        assert secret not in text
    assert "[courriel]" in text and "[date]" in text and "[mot de passe]" in text and "[carte]" in text


@pytest.mark.parametrize(
    "line",
    [
        "[2026-11-26 09:13:13 +0000] [30863] [ERROR] Exception occurred while handling uri: "
        "'http://127.0.0.1:35919/webhooks/ivr/webhook'",
        '  File "/root/.pyenv/versions/3.10.13/lib/python3.10/concurrent/futures/_base.py", line 451, in result',
        "    await self._handle_message_with_tracker(message, tracker)",
        "<rasa.shared.core.events.SessionStarted object at 0x7f2eedbf8d00> model_id='bff70567737f4fcd9436d8a60cdd5be8'",
    ],
)
def test_log_lines_without_personal_data_stay_readable(line):
    assert redact_log_message(line) == line


def test_log_lines_keep_no_card_digits_in_brackets():
    assert redact_log_message("values [123456] ['450 555-0123']") == "values [[carte]] ['[téléphone]']"


def test_structured_log_lines_with_json_escapes_are_redacted():
    line = '{"event": "rest.message.received.failure", "text": "n\\u00e9e le 12 f\\u00e9vrier 1985"}'
    assert redact_log_message(line) == '{"event": "rest.message.received.failure", "text": "n\\u00e9e le [date]"}'


def test_the_filter_redacts_records_for_a_logging_config_file():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "card %s", ("123456",), None)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "card [carte]"


def test_placeholders_are_the_typed_ones_of_the_brief():
    assert set(PLACEHOLDERS) >= {"[carte]", "[date]", "[téléphone]", "[courriel]", "[mot de passe]"}


def test_metadata_credentials_are_replaced_whatever_their_shape():
    slot = redact_event({"event": "slot", "name": "session_started_metadata", "value": {"token": "not-a-jwt"}})
    assert slot["value"] == {"token": "[jeton]"}
    user = redact_event({"event": "user", "text": "x", "metadata": {"jwt": "abc", "page": "/profil"}})
    assert user["metadata"] == {"jwt": "[jeton]", "page": "/profil"}
    typed = redact_event({"event": "user", "text": "x", "metadata": {"password": "soleil", "email": "a@b.ca"}})
    assert typed["metadata"] == {"password": "[mot de passe]", "email": "[courriel]"}


# --- Passwords: strict where one is expected, readable ordinary writing elsewhere ---

ORDINARY_MESSAGES_NOT_UNDERSTOOD = [
    "ok,merci",
    "bon/mauvais",
    "heu...ok",
    "inscription (soccer)",
    "soccer U12-U14 c'est quand",
    "camp de jour 9h-12h pour les 3-5ans",
    "covid-19",
    "terrebonne.ca marche pas",
    "bibliothèque/aréna",
    "**urgent**",
    "#inscription",
    "aquaforme-50+",
    "c.-à-d. la piscine",
]


@pytest.mark.parametrize("typed", ORDINARY_MESSAGES_NOT_UNDERSTOOD)
def test_an_ordinary_message_keeps_its_words(typed):
    """The help desk reads what citizens wrote: ordinary punctuation or a number with its unit is no password."""
    assert redact_text(typed) == typed


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("j'ai mis Bonjour2024 partout", "j'ai mis [mot de passe] partout"),
        ("et si j'essaie Hiver#2026x", "et si j'essaie [mot de passe]"),
        ("P@ssw0rd", "[mot de passe]"),
        ("abc123", "[mot de passe]"),
        ("Soleil-2024", "[mot de passe]"),
        ("Soleilbleu.2024!", "[mot de passe]"),
        ("mot de passe : « motdepasse »", "mot de passe : « [mot de passe] »"),
    ],
)
def test_a_password_in_an_ordinary_message_is_still_masked(typed, expected):
    assert redact_text(typed) == expected


@pytest.mark.parametrize("typed", ["bon/mauvais", "ok,merci", "terrebonne.ca", "9h-12h", "covid-19"])
def test_where_a_password_is_expected_every_password_like_token_is_masked(typed):
    """After the assistant spoke of passwords, or in a message about one, nothing that could be one stays."""
    assert redact_text(typed, password_expected=True) == "[mot de passe]"
    assert redact_text(f"mon mot de passe {typed} marche pas") == "mon mot de passe [mot de passe] marche pas"
    stored = redact_event({"event": "user", "text": typed, "parse_data": {"text": typed, "intent": {"name": "inform"}}},
                          password_expected=True)
    assert stored["text"] == stored["parse_data"]["text"] == "[mot de passe]"


@pytest.mark.parametrize("intent", ["password_rejected", "ask_password_rules", "forgot_password", "login_problem"])
def test_a_message_the_password_check_reads_is_masked_strictly(intent):
    event = {"event": "user", "text": "ça marche pas avec bon/mauvais",
             "parse_data": {"text": "ça marche pas avec bon/mauvais", "intent": {"name": intent},
                            "entities": [{"entity": "topic", "value": "bon/mauvais"}]}}
    stored = redact_event(event)
    assert stored["text"] == stored["parse_data"]["text"] == "ça marche pas avec [mot de passe]"
    assert stored["parse_data"]["entities"][0]["value"] == "[mot de passe]"


def test_the_same_message_about_something_else_stays_readable():
    event = {"event": "user", "text": "ça marche pas avec bon/mauvais",
             "parse_data": {"text": "ça marche pas avec bon/mauvais", "intent": {"name": "nlu_fallback"}}}
    assert redact_event(event)["text"] == "ça marche pas avec bon/mauvais"


def test_a_password_key_and_a_token_stay_masked_whatever_they_hold():
    typed = redact_event({"event": "user", "text": "ok,merci",
                          "metadata": {"password": "ok", "mdp": "bon/mauvais", "token": "abc"}})
    assert typed["metadata"] == {"password": "[mot de passe]", "mdp": "[mot de passe]", "token": "[jeton]"}
    assert typed["text"] == "ok,merci"
    assert clicked('/inform{"password": "bon/mauvais"}', "inform") == '/inform{"password": "[mot de passe]"}'


@pytest.mark.parametrize(
    "typed",
    ["123 456 12 mars 1985", "654321 2 nov 1979", "ma carte 123 456 née le 12 mars 1985 pis 450 555-0123"],
)
def test_card_digits_typed_right_before_a_date_are_not_left_in_clear(typed):
    """Read together with the date's day, the card's digits overlapped the date and stayed in clear."""
    stored = redact_text(typed)
    assert "123" not in stored and "456" not in stored and "654321" not in stored
    assert "[carte]" in stored and "[date]" in stored

"""Checks of web messages before Rasa sees them: refused with a clean status, or cleaned."""
from __future__ import annotations

import pytest

from bot.channels.web import INVALID, TOO_LONG, InvalidInput, check_message, check_sender, clean_text


def check(body):
    return check_message(body, "sender", "message", "metadata")


def test_a_good_message_passes_cleaned():
    checked = check({"sender": "abc", "message": "Bonjour\x00\x07 à\ttous\n", "metadata": {"token": "x"}})
    assert (checked.sender_id, checked.text, checked.metadata) == ("abc", "Bonjour à\ttous\n", {"token": "x"})


@pytest.mark.parametrize(
    "text",
    ["😀 merci 👍🏽", "مرحبا، أريد إنشاء حساب", "שלום", "'; DROP TABLE events; --", "<script>alert(1)</script>", ""],
)
def test_emoji_right_to_left_and_injections_are_plain_text(text):
    assert check({"sender": "s", "message": text}).text == text


def test_metadata_may_be_a_json_string_or_absent():
    assert check({"sender": "s", "message": "x", "metadata": '{"a": 1}'}).metadata == {"a": 1}
    assert check({"sender": "s", "message": "x", "metadata": None}).metadata == {}
    assert check({"sender": "s"}).text == ""


def test_lone_surrogates_and_decomposed_accents():
    assert clean_text("caf\u0065\u0301 \ud800") == "café ?"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (["sender", "message"], 400),
        ("Bonjour", 400),
        ({"message": "Bonjour"}, 400),
        ({"sender": "", "message": "Bonjour"}, 400),
        ({"sender": 42, "message": "Bonjour"}, 400),
        ({"sender": "a" * 129, "message": "Bonjour"}, 400),
        ({"sender": "a\x00b", "message": "Bonjour"}, 400),
        ({"sender": "s", "message": 42}, 400),
        ({"sender": "s", "message": ["Bonjour"]}, 400),
        ({"sender": "s", "message": "x", "metadata": "{not json"}, 400),
        ({"sender": "s", "message": "x", "metadata": [1]}, 400),
        ({"sender": "s", "message": "x", "metadata": {"k": "v" * 9000}}, 413),
        ({"sender": "s", "message": "inscription " * 8_334}, 413),
    ],
)
def test_broken_or_hostile_bodies_are_refused_with_a_status_and_french_text(body, status):
    with pytest.raises(InvalidInput) as refused:
        check(body)
    assert refused.value.status == status
    assert refused.value.response in (INVALID, TOO_LONG)
    assert refused.value.text().startswith(("Votre message est trop long.", "Je n'ai pas pu lire ce message."))


def test_sender_ids_the_widget_makes_are_accepted():
    assert check_sender("3f2b9c1e-5d7a-4b8e-9f00-1a2b3c4d5e6f") == "3f2b9c1e-5d7a-4b8e-9f00-1a2b3c4d5e6f"

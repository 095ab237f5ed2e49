"""A birth date or a home phone, at the person's choice, with the more precise problem of the two."""
from datetime import date

import pytest

from bot.policy.date_or_phone import parse_date_or_phone, split_date_or_phone
from tests.responses import hint_text

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("text", "value", "split"),
    [
        ("12 mars 1985", "date:1985-03-12", ("1985-03-12", None)),
        ("450 555-0123", "phone:4505550123", (None, "4505550123")),
    ],
)
def test_either_is_read(text, value, split):
    result = parse_date_or_phone(text, TODAY)
    assert result.value == value
    assert split_date_or_phone(result.value) == split


@pytest.mark.parametrize(
    ("text", "words"),
    [("mars 1985", "date complète"), ("555-0123", "indicatif régional"), ("je sais pas", "ni une date ni un numéro")],
)
def test_the_hint_is_the_one_of_what_the_text_looks_like(text, words):
    assert words in hint_text(parse_date_or_phone(text, TODAY))


def test_an_unknown_stored_value_is_neither():
    assert split_date_or_phone("") == (None, None)

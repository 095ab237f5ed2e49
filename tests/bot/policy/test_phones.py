"""Home phone numbers from what people type, and their spoken form."""
import pytest

from bot.policy.phones import PhoneProblem, e164, parse_home_phone, spoken_phone
from tests.responses import hint_text


@pytest.mark.parametrize(
    "text",
    [
        "(450) 555-0123",
        "450-555-0123",
        "4505550123",
        "+1 450 555 0123",
        "1-450-555-0123",
        "450.555.0123",
        "450 555 01 23",
        "mon numéro c'est le 450 555-0123",
    ],
)
def test_home_phones_as_people_type_them(text):
    result = parse_home_phone(text)
    assert result.ok
    assert result.value == "4505550123"
    assert e164(result.value) == "+14505550123"
    assert hint_text(result) is None


@pytest.mark.parametrize(
    ("text", "problem", "words"),
    [
        ("", PhoneProblem.NOT_FOUND, "pas reconnu"),
        ("bonjour", PhoneProblem.NOT_FOUND, "pas reconnu"),
        ("123 456", PhoneProblem.NOT_FOUND, "pas reconnu"),
        ("555-0123", PhoneProblem.NO_AREA_CODE, "indicatif régional"),
        ("5550123", PhoneProblem.NO_AREA_CODE, "indicatif régional"),
        ("000-000-0000", PhoneProblem.INVALID, "pas valide"),
        ("450 555 012", PhoneProblem.INVALID, "pas valide"),
        ("+33 1 23 45 67 89", PhoneProblem.FOREIGN, "au Canada"),
    ],
)
def test_rejected_numbers_get_a_precise_french_hint(text, problem, words):
    result = parse_home_phone(text)
    assert result.problem is problem
    assert words in hint_text(result)
    assert "0123" not in hint_text(result)


@pytest.mark.parametrize(
    ("digits", "extension", "spoken"),
    [
        ("4509612001", "4000", "450 961-2001, poste 4000"),
        ("450 961-8388", None, "450 961-8388"),
        ("+1 450 555 0123", None, "450 555-0123"),
        ("14505550123", None, "450 555-0123"),
    ],
)
def test_spoken_form(digits, extension, spoken):
    assert spoken_phone(digits, extension) == spoken

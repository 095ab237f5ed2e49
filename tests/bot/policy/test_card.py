"""Reading the last six digits of a Carte Accès Terrebonne from what people type."""
import pytest

from bot.policy.card import CardNote, CardProblem, parse_card_digits
from tests.responses import hint_text


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("123456", "123456"),
        ("123 456", "123456"),
        ("123-456", "123456"),
        ("12.34.56", "123456"),
        ("12 34 56", "123456"),
        ("1 2 3 4 5 6", "123456"),
        ("123, 456", "123456"),
        ("les 6 derniers chiffres : 123456", "123456"),
        ("ma carte c'est le 123 456 merci", "123456"),
        ("  654321  ", "654321"),
    ],
)
def test_six_digits_as_people_type_them(text, digits):
    result = parse_card_digits(text)
    assert result.ok
    assert result.value == digits
    assert result.note is not CardNote.KEPT_LAST_SIX
    assert hint_text(result) is None


@pytest.mark.parametrize(
    "text",
    ["6004 1234 5612 3456", "60041234123456", "6004-1234-5612-3456", "mon numéro de carte : 6004.1234.5612.3456"],
)
def test_a_whole_card_number_keeps_the_last_six_and_says_so(text):
    result = parse_card_digits(text)
    assert result.value == "123456"
    assert result.note is CardNote.KEPT_LAST_SIX
    assert "six (6) derniers chiffres" in hint_text(result)
    assert "123456" not in hint_text(result)


@pytest.mark.parametrize(
    ("text", "problem", "words"),
    [
        ("", CardProblem.NO_DIGITS, "pas trouvé de chiffres"),
        ("je sais pas", CardProblem.NO_DIGITS, "pas trouvé de chiffres"),
        ("12345", CardProblem.TOO_FEW, "il en faut six (6)"),
        ("123 45", CardProblem.TOO_FEW, "il en faut six (6)"),
        ("12345A", CardProblem.LETTERS, "sans lettres"),
        ("1234567890123456789012", CardProblem.TOO_MANY, "trop long"),
        ("(450) 555-0123", CardProblem.LOOKS_LIKE_PHONE, "téléphone"),
        ("450-555-0123", CardProblem.LOOKS_LIKE_PHONE, "téléphone"),
        ("1985-03-12", CardProblem.LOOKS_LIKE_DATE, "une date"),
        ("12/03/1985", CardProblem.LOOKS_LIKE_DATE, "une date"),
        ("12 03 1985", CardProblem.LOOKS_LIKE_DATE, "une date"),
        ("123456 ou 654321", CardProblem.SEVERAL_NUMBERS, "plusieurs nombres"),
    ],
)
def test_invalid_input_gets_a_precise_french_hint(text, problem, words):
    result = parse_card_digits(text)
    assert not result.ok
    assert result.problem is problem
    assert words in hint_text(result)
    assert "six (6) derniers chiffres" in hint_text(result)


@pytest.mark.parametrize("text", ["12345", "(450) 555-0123", "1985-03-12", "123456 ou 654321"])
def test_hints_never_repeat_what_was_typed(text):
    hint = hint_text(parse_card_digits(text))
    digits = "".join(c for c in text if c.isdigit())
    assert digits[:4] not in hint.replace(" ", "")

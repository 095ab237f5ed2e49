"""Birth dates from what people type or say, and French date wording."""
from datetime import date

import pytest

from bot.policy.dates import DateProblem, french_date, parse_birth_date
from tests.responses import hint_text

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 mars 1985", date(1985, 3, 12)),
        ("1985-03-12", date(1985, 3, 12)),
        ("1985/03/12", date(1985, 3, 12)),
        ("12/03/85", date(1985, 3, 12)),
        ("12/03/1985", date(1985, 3, 12)),
        ("12-03-1985", date(1985, 3, 12)),
        ("12.03.1985", date(1985, 3, 12)),
        ("03/12/1985", date(1985, 12, 3)),  # day first, as in Quebec
        ("12 MARS 1985", date(1985, 3, 12)),
        ("12 mars 85", date(1985, 3, 12)),
        ("12 mar 1985", date(1985, 3, 12)),
        ("12 fevrier 1985", date(1985, 2, 12)),
        ("12 févr. 1985", date(1985, 2, 12)),
        ("1er mars 1985", date(1985, 3, 1)),
        ("le premier mars 1985", date(1985, 3, 1)),
        ("je suis née le 12 mars 1985", date(1985, 3, 12)),
        ("ma date de naissance c'est le 21 juillet 1990", date(1990, 7, 21)),
        # Speech after normalization: numbers in digits, or day numbers still in words.
        ("le 12 mars 1985", date(1985, 3, 12)),
        ("le douze mars 1985", date(1985, 3, 12)),
        ("trente et un décembre 1999", date(1999, 12, 31)),
        ("vingt-deux juillet 1990", date(1990, 7, 22)),
        ("dix-sept mai 2001", date(2001, 5, 17)),
        # Two-digit years are read in the past.
        ("12/03/30", date(1930, 3, 12)),
        ("12/03/05", date(2005, 3, 12)),
        ("le 12 mars 1985 et mon téléphone 450 555-0123", date(1985, 3, 12)),
    ],
)
def test_birth_dates_as_people_write_them(text, expected):
    result = parse_birth_date(text, TODAY)
    assert result.ok, result.problem
    assert result.value == expected
    assert hint_text(result) is None


@pytest.mark.parametrize(
    ("text", "problem", "words"),
    [
        ("", DateProblem.NOT_FOUND, "pas reconnu de date"),
        ("bonjour", DateProblem.NOT_FOUND, "pas reconnu de date"),
        ("hier", DateProblem.NOT_FOUND, "pas reconnu de date"),
        ("il y a 40 ans", DateProblem.NOT_FOUND, "pas reconnu de date"),
        ("mars 1985", DateProblem.INCOMPLETE, "date complète"),
        ("12 mars", DateProblem.INCOMPLETE, "date complète"),
        ("03/1985", DateProblem.INCOMPLETE, "date complète"),
        ("31/02/1985", DateProblem.INVALID, "n'existe pas"),
        ("31 février 1985", DateProblem.INVALID, "n'existe pas"),
        ("1985-02-31", DateProblem.INVALID, "n'existe pas"),
        ("2030-01-01", DateProblem.FUTURE, "futur"),
        ("27 novembre 2026", DateProblem.FUTURE, "futur"),
        ("1890-01-01", DateProblem.TOO_OLD, "plus de 120 ans"),
    ],
)
def test_rejected_dates_get_a_precise_french_hint(text, problem, words):
    result = parse_birth_date(text, TODAY)
    assert not result.ok
    assert result.problem is problem
    assert words in hint_text(result)


def test_born_today_is_accepted_and_the_limit_of_age_is_configurable():
    assert parse_birth_date("26 novembre 2026", TODAY).value == TODAY
    assert parse_birth_date("12 mars 1985", TODAY, max_age=30).problem is DateProblem.TOO_OLD


@pytest.mark.parametrize("text", ["31/02/1985", "2030-01-01", "1890-01-01", "mars 1985"])
def test_hints_never_repeat_the_typed_date(text):
    hint = hint_text(parse_birth_date(text, TODAY))
    assert text not in hint
    assert text[-4:] not in hint


@pytest.mark.parametrize(
    ("value", "words"),
    [(date(2027, 3, 1), "1er mars 2027"), (date(2027, 3, 31), "31 mars 2027"), (date(2026, 8, 15), "15 août 2026")],
)
def test_french_date(value, words):
    assert french_date(value) == words

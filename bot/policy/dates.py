"""Birth dates from what people type or say (day first, as in Quebec), and dates written in French."""
from __future__ import annotations

import re
from datetime import date, datetime
from enum import Enum

import dateparser

from bot.policy.parsed import Parsed

MAX_AGE_YEARS = 120

MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip
_MONTH_FORMS = {
    "janv": "janvier", "jan": "janvier", "fevrier": "février", "févr": "février", "fevr": "février",
    "fév": "février", "fev": "février", "avr": "avril", "juil": "juillet", "aout": "août",
    "sept": "septembre", "oct": "octobre", "nov": "novembre", "déc": "décembre", "dec": "décembre",
    "decembre": "décembre", "mar": "mars",
}  # fmt: skip
_UNITS = ["", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]
_DAY_NAMES = {
    "premier": 1, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "dix sept": 17, "dix huit": 18, "dix neuf": 19, "vingt": 20, "vingt et un": 21, "trente": 30,
    "trente et un": 31,
    **{word: n for n, word in enumerate(_UNITS) if n >= 1},
    **{f"vingt {word}": 20 + n for n, word in enumerate(_UNITS) if n >= 2},
}  # fmt: skip
_DAY_NAME = re.compile(
    r"(?<!\w)(" + "|".join(sorted((k.replace(" ", "[- ]") for k in _DAY_NAMES), key=len, reverse=True)) + r")(?!\w)",
    re.I,
)
_MONTH_WORD = "|".join(sorted({*MONTHS, *_MONTH_FORMS}, key=len, reverse=True))
_WORD_DATE = re.compile(rf"(?<!\w)(?P<day>\d{{1,2}}|1er)\s+(?P<month>{_MONTH_WORD})\.?\s+(?P<year>\d{{4}}|\d{{2}})(?!\d)", re.I)
_MONTH_YEAR = re.compile(rf"(?<!\w)(?:{_MONTH_WORD})\.?\s+(?:\d{{4}}|\d{{2}})(?!\d)", re.I)
_DAY_MONTH = re.compile(rf"(?<![\w-])(?:\d{{1,2}}|1er)\s+(?:{_MONTH_WORD})(?!\w)", re.I)
_ISO_DATE = re.compile(r"(?<!\d)(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})(?!\d)")
_NUMERIC_DATE = re.compile(r"(?<!\d)(?P<day>\d{1,2})[-/.](?P<month>\d{1,2})[-/.](?P<year>\d{4}|\d{2})(?!\d)")
_PARTIAL_NUMERIC = re.compile(r"(?<!\d)\d{1,2}[-/.]\d{4}(?!\d)")

_SETTINGS = {
    "DATE_ORDER": "DMY",
    "PREFER_DATES_FROM": "past",
    "PARSERS": ["custom-formats", "absolute-time"],
    "REQUIRE_PARTS": ["day", "month", "year"],
    "STRICT_PARSING": True,
}


class DateProblem(str, Enum):
    """Why no birth date could be read (the code of the hint ``utter_hint_<code>``)."""

    NOT_FOUND = "date_not_found"
    INCOMPLETE = "date_incomplete"
    INVALID = "date_invalid"
    FUTURE = "date_future"
    TOO_OLD = "date_too_old"  # its hint says the limit as ``{max_age_years}``


def parse_birth_date(text: str, today: date, max_age: int = MAX_AGE_YEARS) -> Parsed[date]:
    """Read a birth date from ``text``: "12 mars 1985", "1985-03-12", "12/03/85", "le 1er mars 1985".

    Numbers are day first (Quebec); a year first means year-month-day (ISO). Relative dates ("hier",
    "il y a 40 ans") are not birth dates. Future dates and ages over ``max_age`` are refused.
    """
    found = _find_date(_day_names_to_digits(text or ""), today)
    if isinstance(found, DateProblem):
        return Parsed(problem=found)
    if found > today:
        return Parsed(problem=DateProblem.FUTURE)
    if _age(found, today) > max_age:
        return Parsed(problem=DateProblem.TOO_OLD)
    return Parsed(found)


def _find_date(text: str, today: date) -> date | DateProblem:
    """The first complete date in ``text``, or why there is none."""
    iso = _ISO_DATE.search(text)
    if iso:
        try:
            return date(int(iso["year"]), int(iso["month"]), int(iso["day"]))
        except ValueError:
            return DateProblem.INVALID
    numeric = _NUMERIC_DATE.search(text)
    if numeric:
        return _parse(numeric.group(), today) or DateProblem.INVALID
    for match in _WORD_DATE.finditer(text):
        month = _MONTH_FORMS.get(match["month"].lower(), match["month"].lower())
        parsed = _parse(f"{match['day']} {month} {match['year']}", today)
        if parsed:
            return parsed
        return DateProblem.INVALID
    if _MONTH_YEAR.search(text) or _DAY_MONTH.search(text) or _PARTIAL_NUMERIC.search(text):
        return DateProblem.INCOMPLETE
    return DateProblem.NOT_FOUND


def date_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds something shaped like a date, complete or not (its digits are no card number)."""
    shapes = (_ISO_DATE, _NUMERIC_DATE, _WORD_DATE, _MONTH_YEAR, _DAY_MONTH, _PARTIAL_NUMERIC)
    return [match.span() for shape in shapes for match in shape.finditer(text or "")]


def _day_names_to_digits(text: str) -> str:
    """Day numbers said in words, right before a month, as digits: "trente et un décembre" -> "31 décembre"."""

    def replace(match: re.Match) -> str:
        rest = text[match.end() :]
        if not re.match(rf"\s+(?:{_MONTH_WORD})(?!\w)", rest, re.I):
            return match.group()
        return str(_DAY_NAMES[re.sub(r"[- ]", " ", match.group().lower())])

    return _DAY_NAME.sub(replace, text)


def _parse(candidate: str, today: date) -> date | None:
    """A date read by dateparser (French, day first, past preferred for two-digit years)."""
    base = datetime(today.year, today.month, today.day)
    parsed = dateparser.parse(candidate, languages=["fr"], settings={**_SETTINGS, "RELATIVE_BASE": base})
    return parsed.date() if parsed else None


def _age(born: date, today: date) -> int:
    """Age in whole years on ``today``."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def french_date(value: date) -> str:
    """A date as written and said in Quebec French: "1er mars 2027", "31 mars 2027"."""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"

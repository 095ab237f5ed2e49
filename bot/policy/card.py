"""The last six digits of a Carte Accès Terrebonne, from what people type, with a precise problem code when it fails."""
from __future__ import annotations

import re
from enum import Enum

from bot.policy.parsed import Parsed

CARD_DIGITS = 6
MAX_CARD_NUMBER_LENGTH = 19

# Digits, possibly grouped by single spaces, dashes, dots or slashes: "123 456", "12.34.56", "1-2-3".
_DIGIT_RUN = re.compile(r"\d+(?:[ \-./]\d+)*")
_PHONE_SHAPE = re.compile(r"(?<!\d)(?:1[ \-.])?(?:\(\d{3}\) ?|\d{3}[ \-.])\d{3}[ \-.]\d{4}(?!\d)")
_DATE_SHAPE = re.compile(
    r"^(?:(?:19|20)\d{2}[\-./](?:0?[1-9]|1[0-2])[\-./](?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])[\-./](?:0?[1-9]|1[0-2])[\-./](?:\d{2}|(?:19|20)\d{2})"
    r"|(?:0?[1-9]|[12]\d|3[01]) (?:0?[1-9]|1[0-2]) (?:19|20)\d{2})$"
)
_ALPHANUMERIC = re.compile(r"\b(?=\w*\d)(?=\w*[^\W\d_])\w+\b")


class CardProblem(str, Enum):
    """Why no card digits could be read (the code of the hint ``utter_hint_<code>``)."""

    NO_DIGITS = "card_no_digits"
    TOO_FEW = "card_too_few"
    TOO_MANY = "card_too_many"
    LETTERS = "card_letters"
    LOOKS_LIKE_PHONE = "card_looks_like_phone"
    LOOKS_LIKE_DATE = "card_looks_like_date"
    SEVERAL_NUMBERS = "card_several_numbers"


class CardNote(str, Enum):
    """What to tell the person even when the digits were read."""

    KEPT_LAST_SIX = "card_kept_last_six"  # a whole card number was given: only its last six are kept


def parse_card_digits(text: str) -> Parsed[str]:
    """Read the last six digits of a card from ``text``.

    Accepts "123456", "123 456", "123-456", "12.34.56", "1 2 3 4 5 6", a sentence around them
    ("les 6 derniers chiffres : 123456"), and a whole card number (7 to 19 digits, grouped or not),
    of which the last six are kept (with the note `CardNote.KEPT_LAST_SIX`).
    """
    text = text or ""
    if _PHONE_SHAPE.search(text):
        return Parsed(problem=CardProblem.LOOKS_LIKE_PHONE)
    if _ALPHANUMERIC.search(text):
        return Parsed(problem=CardProblem.LETTERS)
    runs = [m.group() for m in _DIGIT_RUN.finditer(text)]
    if not runs:
        return Parsed(problem=CardProblem.NO_DIGITS)
    if any(_DATE_SHAPE.match(run) for run in runs):
        return Parsed(problem=CardProblem.LOOKS_LIKE_DATE)
    long_runs = [run for run in runs if len(_digits(run)) >= CARD_DIGITS]
    if len(long_runs) > 1:
        return Parsed(problem=CardProblem.SEVERAL_NUMBERS)
    if long_runs:
        digits = _digits(long_runs[0])
    else:
        digits = "".join(_digits(run) for run in runs)
        if len(digits) > CARD_DIGITS:
            return Parsed(problem=CardProblem.SEVERAL_NUMBERS)
    if len(digits) < CARD_DIGITS:
        return Parsed(problem=CardProblem.TOO_FEW)
    if len(digits) > MAX_CARD_NUMBER_LENGTH:
        return Parsed(problem=CardProblem.TOO_MANY)
    if len(digits) == CARD_DIGITS:
        return Parsed(digits)
    return Parsed(digits[-CARD_DIGITS:], note=CardNote.KEPT_LAST_SIX)


def _digits(run: str) -> str:
    """Only the digits of a run."""
    return re.sub(r"\D", "", run)

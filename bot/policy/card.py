"""The last six digits of a Carte Accès Terrebonne, from what people type, with a precise hint when it fails."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

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
    """Why no card digits could be read."""

    NO_DIGITS = "no_digits"
    TOO_FEW = "too_few"
    TOO_MANY = "too_many"
    LETTERS = "letters"
    LOOKS_LIKE_PHONE = "looks_like_phone"
    LOOKS_LIKE_DATE = "looks_like_date"
    SEVERAL_NUMBERS = "several_numbers"


@dataclass(frozen=True)
class CardDigits:
    """The outcome of reading card digits: the six digits, or a problem and its French hint."""

    digits: str | None = None
    from_full_number: bool = False
    problem: CardProblem | None = None

    @property
    def ok(self) -> bool:
        """Whether six digits were read."""
        return self.digits is not None

    @property
    def hint(self) -> str | None:
        """What to tell the person: the problem, or that the last six of a whole number were kept."""
        if self.from_full_number:
            return (
                "J'ai retenu seulement les six (6) derniers chiffres de votre numéro de carte. "
                "Sur le portail aussi, entrez seulement ces six chiffres, sans espace."
            )
        return HINTS.get(self.problem) if self.problem else None


_ASK = "Entrez les six (6) derniers chiffres de votre Carte Accès Terrebonne."
HINTS = {
    CardProblem.NO_DIGITS: f"Je n'ai pas trouvé de chiffres dans votre message. {_ASK}",
    CardProblem.TOO_FEW: f"Il manque des chiffres : il en faut six (6). {_ASK}",
    CardProblem.TOO_MANY: f"Ce numéro est trop long pour un numéro de carte. {_ASK}",
    CardProblem.LETTERS: f"Le numéro de carte ne contient que des chiffres, sans lettres. {_ASK}",
    CardProblem.LOOKS_LIKE_PHONE: f"Cela ressemble à un numéro de téléphone plutôt qu'à un numéro de carte. {_ASK}",
    CardProblem.LOOKS_LIKE_DATE: f"Cela ressemble à une date plutôt qu'à un numéro de carte. {_ASK}",
    CardProblem.SEVERAL_NUMBERS: f"J'ai trouvé plusieurs nombres dans votre message. {_ASK}",
}


def parse_card_digits(text: str) -> CardDigits:
    """Read the last six digits of a card from ``text``.

    Accepts "123456", "123 456", "123-456", "12.34.56", "1 2 3 4 5 6", a sentence around them
    ("les 6 derniers chiffres : 123456"), and a whole card number (7 to 19 digits, grouped or not),
    of which the last six are kept.
    """
    text = text or ""
    if _PHONE_SHAPE.search(text):
        return CardDigits(problem=CardProblem.LOOKS_LIKE_PHONE)
    if _ALPHANUMERIC.search(text):
        return CardDigits(problem=CardProblem.LETTERS)
    runs = [m.group() for m in _DIGIT_RUN.finditer(text)]
    if not runs:
        return CardDigits(problem=CardProblem.NO_DIGITS)
    if any(_DATE_SHAPE.match(run) for run in runs):
        return CardDigits(problem=CardProblem.LOOKS_LIKE_DATE)
    long_runs = [run for run in runs if len(_digits(run)) >= CARD_DIGITS]
    if len(long_runs) > 1:
        return CardDigits(problem=CardProblem.SEVERAL_NUMBERS)
    if long_runs:
        digits = _digits(long_runs[0])
    else:
        digits = "".join(_digits(run) for run in runs)
        if len(digits) > CARD_DIGITS:
            return CardDigits(problem=CardProblem.SEVERAL_NUMBERS)
    if len(digits) < CARD_DIGITS:
        return CardDigits(problem=CardProblem.TOO_FEW)
    if len(digits) > MAX_CARD_NUMBER_LENGTH:
        return CardDigits(problem=CardProblem.TOO_MANY)
    if len(digits) == CARD_DIGITS:
        return CardDigits(digits=digits)
    return CardDigits(digits=digits[-CARD_DIGITS:], from_full_number=True)


def _digits(run: str) -> str:
    """Only the digits of a run."""
    return re.sub(r"\D", "", run)

"""Home phone numbers (North American, region CA) from what people type, and their spoken form."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import phonenumbers

REGION = "CA"
_DIGITS = re.compile(r"\d")


class PhoneProblem(str, Enum):
    """Why no home phone number could be read."""

    NOT_FOUND = "not_found"
    NO_AREA_CODE = "no_area_code"
    INVALID = "invalid"
    FOREIGN = "foreign"


_EXAMPLE = "par exemple : 450 555-0100"
HINTS = {
    PhoneProblem.NOT_FOUND: f"Je n'ai pas reconnu de numéro de téléphone. Donnez les dix chiffres, {_EXAMPLE}.",
    PhoneProblem.NO_AREA_CODE: f"Il manque l'indicatif régional : donnez les dix chiffres, {_EXAMPLE}.",
    PhoneProblem.INVALID: f"Ce numéro de téléphone n'est pas valide. Vérifiez les dix chiffres, {_EXAMPLE}.",
    PhoneProblem.FOREIGN: f"Il me faut le numéro de téléphone de la maison au Canada, {_EXAMPLE}.",
}


@dataclass(frozen=True)
class HomePhone:
    """The outcome of reading a phone number: its ten national digits, or a problem and its hint."""

    digits: str | None = None
    problem: PhoneProblem | None = None

    @property
    def ok(self) -> bool:
        """Whether a valid number was read."""
        return self.digits is not None

    @property
    def hint(self) -> str | None:
        """What to tell the person when the number was not accepted."""
        return HINTS[self.problem] if self.problem else None

    @property
    def e164(self) -> str | None:
        """The number in E.164 form, "+14505550123"."""
        return f"+1{self.digits}" if self.digits else None


def parse_home_phone(text: str) -> HomePhone:
    """Read a home phone number: "(450) 555-0123", "450-555-0123", "4505550123", "+1 450 555 0123"."""
    text = text or ""
    matches = list(phonenumbers.PhoneNumberMatcher(text, REGION, leniency=phonenumbers.Leniency.POSSIBLE))
    if not matches:
        digit_count = len(_DIGITS.findall(text))
        if digit_count == 7:
            return HomePhone(problem=PhoneProblem.NO_AREA_CODE)
        return HomePhone(problem=PhoneProblem.INVALID if digit_count >= 7 else PhoneProblem.NOT_FOUND)
    number = matches[0].number
    if number.country_code != 1:
        return HomePhone(problem=PhoneProblem.FOREIGN)
    national = str(number.national_number)
    if len(national) == 7:
        return HomePhone(problem=PhoneProblem.NO_AREA_CODE)
    if not phonenumbers.is_valid_number(number):
        return HomePhone(problem=PhoneProblem.INVALID)
    return HomePhone(digits=national)


def spoken_phone(digits: str, extension: str | None = None) -> str:
    """A phone number as it is written and said: "450 555-0123", "450 961-2001, poste 4000"."""
    national = re.sub(r"\D", "", digits)
    if len(national) == 11 and national.startswith("1"):
        national = national[1:]
    text = f"{national[:3]} {national[3:6]}-{national[6:]}" if len(national) == 10 else digits
    return f"{text}, poste {extension}" if extension else text

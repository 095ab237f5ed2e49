"""Home phone numbers (North American, region CA) from what people type, and their spoken form."""
from __future__ import annotations

import re
from enum import Enum

import phonenumbers

from bot.policy.parsed import Parsed

REGION = "CA"
_DIGITS = re.compile(r"\d")


class PhoneProblem(str, Enum):
    """Why no home phone number could be read (the code of the hint ``utter_hint_<code>``)."""

    NOT_FOUND = "phone_not_found"
    NO_AREA_CODE = "phone_no_area_code"
    INVALID = "phone_invalid"
    FOREIGN = "phone_foreign"


def parse_home_phone(text: str) -> Parsed[str]:
    """Read a home phone number, as its ten national digits: "(450) 555-0123", "4505550123", "+1 450 555 0123"."""
    text = text or ""
    matches = list(phonenumbers.PhoneNumberMatcher(text, REGION, leniency=phonenumbers.Leniency.POSSIBLE))
    if not matches:
        digit_count = len(_DIGITS.findall(text))
        if digit_count == 7:
            return Parsed(problem=PhoneProblem.NO_AREA_CODE)
        return Parsed(problem=PhoneProblem.INVALID if digit_count >= 7 else PhoneProblem.NOT_FOUND)
    number = matches[0].number
    if number.country_code != 1:
        return Parsed(problem=PhoneProblem.FOREIGN)
    national = str(number.national_number)
    if len(national) == 7:
        return Parsed(problem=PhoneProblem.NO_AREA_CODE)
    if not phonenumbers.is_valid_number(number):
        return Parsed(problem=PhoneProblem.INVALID)
    return Parsed(national)


def spoken_phone(digits: str, extension: str | None = None) -> str:
    """A phone number as it is written and said: "450 555-0123", "450 961-2001, poste 4000"."""
    national = re.sub(r"\D", "", digits)
    if len(national) == 11 and national.startswith("1"):
        national = national[1:]
    text = f"{national[:3]} {national[3:6]}-{national[6:]}" if len(national) == 10 else digits
    return f"{text}, poste {extension}" if extension else text


def e164(digits: str) -> str:
    """Ten national digits in E.164 form: "4505550123" -> "+14505550123"."""
    return f"+1{digits}"

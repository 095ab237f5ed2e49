"""A birth date or a home phone number, at the person's choice: the second proof of an identification."""
from __future__ import annotations

from datetime import date
from enum import Enum

from bot.policy.dates import DateProblem, parse_birth_date
from bot.policy.parsed import Parsed
from bot.policy.phones import parse_home_phone

DATE_PREFIX = "date:"
PHONE_PREFIX = "phone:"
_PHONE_LIKE_DIGITS = 7


class DateOrPhoneProblem(str, Enum):
    """Why neither could be read, when neither parser has a more precise problem."""

    NOT_FOUND = "date_or_phone_not_found"


def parse_date_or_phone(text: str, today: date) -> Parsed[str]:
    """``"date:1985-03-12"`` or ``"phone:4505550123"``, whichever ``text`` gives.

    When neither is read, the problem is the date's when the text looks like a date, the phone's
    when it holds at least seven digits, else `DateOrPhoneProblem.NOT_FOUND`.
    """
    phone = parse_home_phone(text)
    if phone.ok:
        return Parsed(PHONE_PREFIX + str(phone.value))
    born = parse_birth_date(text, today)
    if born.value is not None:
        return Parsed(DATE_PREFIX + born.value.isoformat())
    if born.problem is not DateProblem.NOT_FOUND:
        return Parsed(problem=born.problem)
    if sum(c.isdigit() for c in text or "") >= _PHONE_LIKE_DIGITS:
        return Parsed(problem=phone.problem)
    return Parsed(problem=DateOrPhoneProblem.NOT_FOUND)


def split_date_or_phone(value: str) -> tuple[str | None, str | None]:
    """(birth_date, home_phone) from a value of `parse_date_or_phone`."""
    if value.startswith(DATE_PREFIX):
        return value[len(DATE_PREFIX) :], None
    if value.startswith(PHONE_PREFIX):
        return None, value[len(PHONE_PREFIX) :]
    return None, None

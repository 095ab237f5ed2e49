"""Normalization of what citizens type (card digits, birth date, phone, email) and keyed hashes of it.

The values are read by the same parsers as the guided forms (`bot.policy`); the backend is stricter:
a value must be only that value ("123 456", "1985-03-12", "450 555-0123"), not a sentence holding it.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, datetime

from bot.backend.api import InvalidInput
from bot.policy.card import CARD_DIGITS, parse_card_digits
from bot.policy.dates import parse_birth_date
from bot.policy.emails import MAX_EMAIL_LENGTH, parse_email
from bot.policy.phones import e164, parse_home_phone, spoken_phone

MAX_INPUT_LENGTH = 64

_CARD_SEPARATORS = re.compile(r"[\s\-.]+")
_ASCII_DIGITS = re.compile(rf"[0-9]{{{CARD_DIGITS}}}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PHONE_CHARACTERS = re.compile(r"[0-9\s().+\-]+")

# What went wrong, for the operators' logs; the citizen is told the response of the error's code.
LAST6_MESSAGE = "expected the last six digits of a card"
BIRTH_DATE_MESSAGE = "expected a birth date (a date or YYYY-MM-DD)"
PHONE_MESSAGE = "expected a ten-digit North American home phone number"
ONE_OF_MESSAGE = "expected a birth date or a home phone number"


def _short_text(value: object, field: str, message: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, message)
    value = value.strip()
    if not value or len(value) > MAX_INPUT_LENGTH:
        raise InvalidInput(field, message)
    return value


def normalize_last6(value: object) -> str:
    """The six ASCII digits of "123456", "123 456" or "123-456"; InvalidInput otherwise."""
    text = _short_text(value, "last6", LAST6_MESSAGE)
    read = parse_card_digits(text)
    if read.value is None or read.note or read.value != _CARD_SEPARATORS.sub("", text):
        raise InvalidInput("last6", LAST6_MESSAGE)
    if not _ASCII_DIGITS.fullmatch(read.value):
        raise InvalidInput("last6", LAST6_MESSAGE)
    return read.value


def normalize_birth_date(value: object) -> date:
    """A `date` (a `datetime` gives its date) or an ISO `YYYY-MM-DD` string; InvalidInput otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _short_text(value, "birth_date", BIRTH_DATE_MESSAGE)
    if not _ISO_DATE.fullmatch(text):
        raise InvalidInput("birth_date", BIRTH_DATE_MESSAGE)
    read = parse_birth_date(text, date.today())
    if read.value is None:
        raise InvalidInput("birth_date", BIRTH_DATE_MESSAGE)
    return read.value


def normalize_phone(value: object) -> str:
    """A valid North-American number in E.164 ("+14505550123"); InvalidInput otherwise."""
    text = _short_text(value, "home_phone", PHONE_MESSAGE)
    read = parse_home_phone(text)
    if read.value is None or not _PHONE_CHARACTERS.fullmatch(text):
        raise InvalidInput("home_phone", PHONE_MESSAGE)
    digits = re.sub(r"\D", "", text)
    if digits[-10:] != read.value or len(digits) > 11:
        raise InvalidInput("home_phone", PHONE_MESSAGE)
    return e164(read.value)


def format_phone(e164_number: str) -> str:
    """ "+14505550123" -> "450 555-0123", the way the city writes numbers (`bot.policy.phones.spoken_phone`)."""
    return spoken_phone(e164_number)


def email_key(value: object) -> str | None:
    """The case-insensitive lookup key of an email, or None when it cannot be one."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    read = parse_email(text)
    if read.value is None or len(text) > MAX_EMAIL_LENGTH or read.value != text.lower():
        return None
    return text.casefold()


def keyed_digest(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` under `secret`, separated by `purpose` (hex, 64 characters)."""
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def same_secret(left: str, right: str) -> bool:
    """Constant-time equality of two secrets."""
    return hmac.compare_digest(left.encode(), right.encode())

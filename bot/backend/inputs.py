"""Normalisation of what citizens type (card digits, birth date, phone, email) and keyed hashes of it."""
from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, datetime

import phonenumbers

from bot.backend.api import InvalidInput

MAX_INPUT_LENGTH = 64
MAX_EMAIL_LENGTH = 254

_CARD_SEPARATORS = re.compile(r"[\s\-.]+")
_SIX_DIGITS = re.compile(r"[0-9]{6}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

LAST6_MESSAGE = (
    "Veuillez entrer les six (6) derniers chiffres de votre Carte Accès Terrebonne, "
    "par exemple 123456."
)
BIRTH_DATE_MESSAGE = "Veuillez entrer votre date de naissance au format AAAA-MM-JJ, par exemple 1985-03-12."
PHONE_MESSAGE = "Veuillez entrer votre numéro de téléphone maison à 10 chiffres, par exemple 450 555-0123."
ONE_OF_MESSAGE = "Veuillez entrer soit votre date de naissance, soit votre numéro de téléphone maison."


def _short_text(value: object, field: str, message: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, message)
    value = value.strip()
    if not value or len(value) > MAX_INPUT_LENGTH:
        raise InvalidInput(field, message)
    return value


def normalize_last6(value: object) -> str:
    """The six ASCII digits of "123456", "123 456" or "123-456"; InvalidInput otherwise."""
    text = _CARD_SEPARATORS.sub("", _short_text(value, "last6", LAST6_MESSAGE))
    if not _SIX_DIGITS.fullmatch(text):
        raise InvalidInput("last6", LAST6_MESSAGE)
    return text


def normalize_birth_date(value: object) -> date:
    """A `date` (a `datetime` gives its date) or an ISO `YYYY-MM-DD` string; InvalidInput otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _short_text(value, "birth_date", BIRTH_DATE_MESSAGE)
    if not _ISO_DATE.fullmatch(text):
        raise InvalidInput("birth_date", BIRTH_DATE_MESSAGE)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("birth_date", BIRTH_DATE_MESSAGE) from None


def normalize_phone(value: object) -> str:
    """A valid North-American number in E.164 ("+14505550123"); InvalidInput otherwise."""
    text = _short_text(value, "home_phone", PHONE_MESSAGE)
    try:
        number = phonenumbers.parse(text, "CA")
    except phonenumbers.NumberParseException:
        raise InvalidInput("home_phone", PHONE_MESSAGE) from None
    if number.country_code != 1 or not phonenumbers.is_valid_number(number):
        raise InvalidInput("home_phone", PHONE_MESSAGE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """ "+14505550123" -> "450 555-0123", the way the city writes numbers."""
    digits = e164[-10:]
    return f"{digits[:3]} {digits[3:6]}-{digits[6:]}"


def email_key(value: object) -> str | None:
    """The case-insensitive lookup key of an email, or None when it cannot be one."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_EMAIL_LENGTH or "@" not in text or any(c.isspace() for c in text):
        return None
    return text.casefold()


def keyed_digest(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` under `secret`, separated by `purpose` (hex, 64 characters)."""
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def same_secret(left: str, right: str) -> bool:
    """Constant-time equality of two secrets."""
    return hmac.compare_digest(left.encode(), right.encode())

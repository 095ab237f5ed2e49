"""Every personal detail a free message holds: card digits, a birth date or home phone, an email address.

Citizens give these whenever they like: before they are asked, together with their question ("ma carte
123456, née le 3 mars 1980, elle expire quand?"), in answer to an offer, or to correct a value. Each
parser of `bot.policy` reads one value from an answer; this reads them all from one message, each
from the text that is left once the others are taken out (a date's digits are not card digits, an
email's digits are not a phone number). Values are only kept when read without doubt: a problem
found here is not said (the forms say the precise hint when they asked for that value).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import phonenumbers

from bot.policy.card import parse_card_digits
from bot.policy.date_or_phone import DATE_PREFIX, PHONE_PREFIX
from bot.policy.dates import date_spans, parse_birth_date
from bot.policy.emails import EMAIL_PATTERN, parse_email
from bot.policy.phones import REGION, parse_home_phone

_ALPHANUMERIC = re.compile(r"\b(?=\w*\d)(?=\w*[^\W\d_])\w+\b")
_DIGIT_RUN = re.compile(r"\d+(?:[ \-./]\d+)*")


@dataclass(frozen=True)
class Details:
    """The details found in a message; None where there was none (or it was in doubt)."""

    card: str | None = None
    birth_date: date | None = None
    phone: str | None = None  # ten national digits
    email: str | None = None

    @property
    def date_or_phone(self) -> str | None:
        """The value of `bot.policy.date_or_phone.parse_date_or_phone`: the phone first, as that parser does."""
        if self.phone:
            return PHONE_PREFIX + self.phone
        if self.birth_date:
            return DATE_PREFIX + self.birth_date.isoformat()
        return None

    def __bool__(self) -> bool:
        return any((self.card, self.birth_date, self.phone, self.email))


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span replaced by spaces (offsets stay right for the next search)."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def find_details(text: str, today: date) -> Details:
    """Every detail ``text`` holds, read without doubt."""
    return details_and_rest(text, today)[0]


def details_and_rest(text: str, today: date) -> tuple[Details, str]:
    """The details of ``text``, and ``text`` without them (what the person says besides: their purpose)."""
    rest = text or ""
    email_match = EMAIL_PATTERN.search(rest)
    email = parse_email(email_match.group()).value if email_match else None
    rest = _blank(rest, [m.span() for m in EMAIL_PATTERN.finditer(rest)])

    phone = None
    phone_spans = []
    for match in phonenumbers.PhoneNumberMatcher(rest, REGION, leniency=phonenumbers.Leniency.POSSIBLE):
        read = parse_home_phone(match.raw_string)
        if read.ok:
            phone = phone or read.value
            phone_spans.append((match.start, match.end))
    rest = _blank(rest, phone_spans)

    born = parse_birth_date(rest, today)
    rest = _blank(rest, date_spans(rest))

    rest = _ALPHANUMERIC.sub(" ", rest)  # postal codes, "4e", "2x": never card digits
    card = parse_card_digits(rest)  # exactly six digits: a longer run may be anything else
    found = Details(card=card.value if card.ok and not card.note else None, birth_date=born.value, phone=phone,
                    email=email)
    if found.card:
        rest = _DIGIT_RUN.sub(" ", rest)
    return found, " ".join(rest.split())

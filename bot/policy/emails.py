"""Email addresses from what people type: the one email pattern of the project, and its parser."""
from __future__ import annotations

import re
from enum import Enum

from bot.policy.parsed import Parsed

MAX_EMAIL_LENGTH = 254

# An address inside any text. The forms, the privacy layer and the backend's checks use this one
# pattern; the phone channel reads the addresses of the bot's own texts aloud with it.
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


class EmailProblem(str, Enum):
    """Why no email address could be read (the code of the hint ``utter_hint_<code>``)."""

    NOT_FOUND = "email_not_found"


def parse_email(text: str) -> Parsed[str]:
    """The first email address in ``text``, in lower case: "mon courriel est Jean.Gagnon@Example.COM"."""
    match = EMAIL_PATTERN.search(text or "")
    if match is None or len(match.group()) > MAX_EMAIL_LENGTH:
        return Parsed(problem=EmailProblem.NOT_FOUND)
    return Parsed(match.group().lower())

"""The one result type of the value parsers (card digits, birth date, phone, email).

A parser returns the value it read, or a problem code saying why it could not; a note code may
accompany a value ("only the last six digits were kept"). Codes are plain identifiers, never French:
the sentence of a code is the domain response ``utter_hint_<code>`` (see `hint_response`).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar("T")

HINT_PREFIX = "utter_hint_"


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """What a parser read: ``value``, or None and a ``problem`` code; ``note`` is said even on success."""

    value: T | None = None
    problem: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        """Whether a value was read."""
        return self.value is not None

    @property
    def response(self) -> str | None:
        """The response to say: the problem's hint, else the note's, else None."""
        code = self.problem or self.note
        return hint_response(code) if code else None


def hint_response(code: str) -> str:
    """The domain response that says a problem or note code: ``utter_hint_<code>``."""
    return HINT_PREFIX + (code.value if isinstance(code, Enum) else code)

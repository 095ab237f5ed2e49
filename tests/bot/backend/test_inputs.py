"""Normalization of what citizens type, and the keyed hash of card digits."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.backend import inputs
from bot.backend.api import InvalidInput


@pytest.mark.parametrize("text", ["123456", "123 456", "123-456", " 12 34 56 ", "123.456", "123\u00a0456"])
def test_last6(text):
    assert inputs.normalize_last6(text) == "123456"


@pytest.mark.parametrize("text", ["", "12345", "1234567", "12345a", "١٢٣٤٥٦", "123456\n7", None, 123456, "9" * 65])
def test_last6_refused(text):
    with pytest.raises(InvalidInput, match="six"):
        inputs.normalize_last6(text)


@pytest.mark.parametrize(
    "value", [date(1985, 3, 12), datetime(1985, 3, 12, 10, 30), "1985-03-12", " 1985-03-12 "]
)
def test_birth_date(value):
    assert inputs.normalize_birth_date(value) == date(1985, 3, 12)


@pytest.mark.parametrize("value", ["12 mars 1985", "1985-13-01", "1985-02-29", "85-03-12", "", None, 1985])
def test_birth_date_refused(value):
    with pytest.raises(InvalidInput, match="birth date"):
        inputs.normalize_birth_date(value)


@pytest.mark.parametrize(
    "text", ["450 555-0123", "(450) 555-0123", "450-555-0123", "450.555.0123", "+1 450 555 0123", "14505550123"]
)
def test_phone(text):
    assert inputs.normalize_phone(text) == "+14505550123"
    assert inputs.format_phone(inputs.normalize_phone(text)) == "450 555-0123"


@pytest.mark.parametrize("text", ["555-0123", "+33 1 23 45 67 89", "450 555-01234", "abc", "", "😀"])
def test_phone_refused(text):
    with pytest.raises(InvalidInput, match="phone"):
        inputs.normalize_phone(text)


def test_email_key():
    assert inputs.email_key(" Marie.Tremblay@Example.COM ") == "marie.tremblay@example.com"
    for bad in ("", "marie", "a b@example.com", "x" * 300 + "@example.com", None):
        assert inputs.email_key(bad) is None


def test_keyed_digest_depends_on_the_key_and_the_purpose():
    digest = inputs.keyed_digest("key", "card", "123456")
    assert len(digest) == 64 and "123456" not in digest
    assert digest != inputs.keyed_digest("other key", "card", "123456")
    assert digest != inputs.keyed_digest("key", "conversation", "123456")
    assert inputs.same_secret(digest, inputs.keyed_digest("key", "card", "123456"))

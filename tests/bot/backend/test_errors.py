"""What the citizen is told when the backend refuses: each error code names a response of domain.yml."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.backend.api import BackendErrorCode, InvalidInput

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[3] / "domain.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("code", list(BackendErrorCode), ids=lambda c: c.value)
def test_every_code_is_a_response_with_its_phone_wording(code):
    variants = DOMAIN["responses"][code.response]
    web = next(v["text"] for v in variants if "channel" not in v)
    assert "vous" in web.lower() or "veuillez" in web.lower()
    spoken = next((v["text"] for v in variants if v.get("channel") == "ivr"), web)
    assert "AAAA" not in spoken


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda b, d: b.link_card(d.marie_account, "12345", birth_date="1985-03-12"),
         BackendErrorCode.INVALID_CARD_DIGITS),
        (lambda b, d: b.link_card(d.marie_account, "123456", birth_date="12 mars 1985"),
         BackendErrorCode.INVALID_BIRTH_DATE),
        (lambda b, d: b.identify("123456", home_phone="555-0123"), BackendErrorCode.INVALID_PHONE),
        (lambda b, d: b.identify("123456"), BackendErrorCode.BIRTH_DATE_OR_PHONE),
        (lambda b, d: b.identify("123456", birth_date="1985-03-12", home_phone="450 555-0123"),
         BackendErrorCode.BIRTH_DATE_OR_PHONE),
        (lambda b, d: b.card_expiries(d.marie_file, "2026-11-26"), BackendErrorCode.INVALID_DATE),
    ],
    ids=["card", "birth_date", "phone", "neither", "both", "today"],
)
def test_a_refused_value_says_which_response_to_give(backend, demo, counts, call, code):
    before = counts()
    with pytest.raises(InvalidInput) as raised:
        call(backend, demo)
    assert raised.value.code is code
    assert counts() == before

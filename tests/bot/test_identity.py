"""Web identity: only a genuine, current token of the portal identifies an account."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest
from freezegun import freeze_time

from bot.backend.factory import get_backend
from bot.backend.setup import prepare_database
from bot.identity import (
    METADATA_KEY,
    WebIdentity,
    identity_from_metadata,
    make_demo_token,
    sign_token,
    verify_token,
)
from bot.settings import get_settings


def _claims(**changes):
    settings = get_settings()
    now = datetime.now(timezone.utc)
    claims = {
        "sub": "7",
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _encode(claims, secret=None, algorithm="HS256"):
    return jwt.encode(claims, secret or get_settings().token_secret, algorithm=algorithm)


def test_a_genuine_token_identifies_its_account():
    assert verify_token(sign_token(7)) == WebIdentity(account_id=7)
    assert identity_from_metadata({METADATA_KEY: sign_token(7)}) == WebIdentity(7)


def test_an_expired_token_identifies_nobody():
    with freeze_time("2026-11-26 14:00:00"):
        token = sign_token(7, timedelta(minutes=10))
    with freeze_time("2026-11-26 14:09:59"):
        assert verify_token(token) == WebIdentity(7)
    with freeze_time("2026-11-26 14:10:01"):
        assert verify_token(token) is None


@pytest.mark.parametrize(
    "token",
    [
        _encode(_claims(), secret="forged-secret-of-an-attacker-0123456789"),
        _encode(_claims(iss="https://attacker.example")),
        _encode(_claims(aud="another-service")),
        _encode(_claims(exp=None)),
        _encode(_claims(sub=None)),
        _encode(_claims(sub="marie.tremblay@example.com")),
        _encode(_claims(sub="-1")),
        _encode(_claims(sub="1" * 40)),
        jwt.encode(_claims(), key=None, algorithm="none"),
    ],
    ids=["forged", "issuer", "audience", "no-expiry", "no-subject", "email-subject", "negative", "huge", "alg-none"],
)
def test_a_bad_token_identifies_nobody(token):
    assert verify_token(token) is None


@pytest.mark.parametrize(
    "token",
    [None, "", "   ", "abc", "a.b.c", "x" * 10_000, "'; DROP TABLE accounts; --", "<script>", "😀", 42, {"sub": "1"}],
)
def test_malformed_or_missing_tokens_identify_nobody(token):
    assert verify_token(token) is None


@pytest.mark.parametrize("metadata", [None, {}, {"token": None}, {"other": sign_token(7)}, "token", []])
def test_metadata_without_a_token(metadata):
    assert identity_from_metadata(metadata) is None


def test_a_token_carries_no_personal_data():
    claims = jwt.decode(sign_token(7), options={"verify_signature": False})
    assert set(claims) == {"sub", "iss", "aud", "iat", "exp"}


def test_demo_token_for_a_demo_account(tmp_path):
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    prepare_database(url)
    account = get_backend(url).account_status("marie.tremblay@example.com").account_id
    assert verify_token(make_demo_token("Marie.Tremblay@example.com", database_url=url)) == WebIdentity(account)
    expired = make_demo_token(
        "marie.tremblay@example.com", timedelta(minutes=1), database_url=url,
        now=datetime.now(timezone.utc) - timedelta(minutes=2),
    )
    assert verify_token(expired) is None
    with pytest.raises(ValueError, match="Aucun compte"):
        make_demo_token("sophie.roy@example.com", database_url=url)

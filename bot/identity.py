"""Who is asking on the web: verify the portal's signed token (JWT, HS256) and make demo tokens.

The portal, where the citizen is logged in, puts a token in the message metadata under
`METADATA_KEY`. Its claims: `sub` (the account id, as a string), `iss`, `aud`, `iat`, `exp`. It holds
no email nor any other personal data, since message metadata is stored with the conversation.
A forged, expired, malformed or missing token identifies nobody (`None`).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from bot.settings import get_settings

logger = logging.getLogger(__name__)

METADATA_KEY = "token"
ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class WebIdentity:
    """A verified web visitor: the id of their online account (see `AccountBackend.account`)."""

    account_id: int


def verify_token(token: object) -> WebIdentity | None:
    """The identity a token proves, or None (forged, expired, wrong issuer/audience, malformed, missing)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    settings = get_settings()
    try:
        claims = jwt.decode(
            token,
            settings.token_secret,
            algorithms=[ALGORITHM],
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as error:
        logger.info("web token refused: %s", type(error).__name__)
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.isascii() or not subject.isdigit() or len(subject) > 10:
        logger.info("web token refused: bad subject")
        return None
    return WebIdentity(account_id=int(subject))


def identity_from_metadata(metadata: Mapping | None) -> WebIdentity | None:
    """The identity proven by the token in a message's metadata (`metadata[METADATA_KEY]`), if any."""
    if not isinstance(metadata, Mapping):
        return None
    return verify_token(metadata.get(METADATA_KEY))


def sign_token(account_id: int, ttl: timedelta = timedelta(hours=1), *, now: datetime | None = None) -> str:
    """A token for an account id, signed with the settings' secret (what the portal does)."""
    settings = get_settings()
    issued = now or datetime.now(timezone.utc)
    claims = {
        "sub": str(account_id),
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    return jwt.encode(claims, settings.token_secret, algorithm=ALGORITHM)


def make_demo_token(
    email: str,
    ttl: timedelta = timedelta(hours=1),
    *,
    database_url: str | None = None,
    now: datetime | None = None,
) -> str:
    """A token for the demo account with this email (for the demo page and tests).

    Raises ValueError when no account has this email in the database (default: settings).
    """
    from bot.backend.api import AccountState
    from bot.backend.factory import get_backend

    status = get_backend(database_url).account_status(email)
    if status.state is AccountState.NONE or status.account_id is None:
        raise ValueError("Aucun compte en ligne n'existe pour ce courriel.")
    return sign_token(status.account_id, ttl, now=now)

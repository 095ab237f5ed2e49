"""The account backend's contract: the `AccountBackend` protocol, its typed results and its errors.

Actions import this module and `bot.backend.factory.get_backend()` (the backend the `BOT_BACKEND`
setting chooses). This module imports nothing else of the backend. Everything crossing the boundary is a
plain value: an account id (`int`, the `account_id` of a verified web token, see `bot.identity`), a
citizen file id (`int`, from `identify()` on the phone line or from `AccountStatus.file_id` once
linked), dates, strings, enums and frozen dataclasses. No ORM object ever leaks out.

Typical use in an action::

    from bot.backend.api import LinkResult
    from bot.backend.factory import get_backend

    backend = get_backend()
    result = backend.link_card(account_id, "123 456", birth_date="1985-03-12",
                               conversation_id=tracker.sender_id)
    if result is LinkResult.LINKED: ...

Malformed input (a card number that is not six digits once spaces and dashes are removed, a date that
is not a date, a phone number that is not one, more than one or none of birth date / phone) raises
`InvalidInput`; nothing is written then. A database failure raises `BackendUnavailable`. Both derive
from `BackendError`, whose `code` (a `BackendErrorCode`) names the domain response that tells the citizen
(`code.response`, e.g. `utter_backend_unavailable`).
"""
from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol, runtime_checkable

# --- errors -------------------------------------------------------------------------------------------


class BackendErrorCode(enum.Enum):
    """Why a backend call failed, as the citizen is told it: `response` is the domain.yml response to say."""

    UNAVAILABLE = "unavailable"
    INVALID_CARD_DIGITS = "invalid_card_digits"
    INVALID_BIRTH_DATE = "invalid_birth_date"
    INVALID_PHONE = "invalid_phone"
    BIRTH_DATE_OR_PHONE = "birth_date_or_phone"
    INVALID_DATE = "invalid_date"

    @property
    def response(self) -> str:
        """The name of the response in domain.yml, e.g. `utter_backend_unavailable`."""
        return f"utter_backend_{self.value}"


FIELD_CODES = {
    "last6": BackendErrorCode.INVALID_CARD_DIGITS,
    "birth_date": BackendErrorCode.INVALID_BIRTH_DATE,
    "home_phone": BackendErrorCode.INVALID_PHONE,
}
"""The code of an `InvalidInput` raised for a field without an explicit code."""


class BackendError(Exception):
    """Base of every error the backend raises; `code` says why (see `BackendErrorCode.response`).

    `message` says what went wrong in English, for the operators' logs; the citizen is told the response
    `code.response` of domain.yml.
    """

    def __init__(self, message: str, code: BackendErrorCode = BackendErrorCode.UNAVAILABLE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidInput(BackendError, ValueError):
    """An argument cannot be understood; `field` names it (`last6`, `birth_date`, `home_phone`, ...)."""

    def __init__(self, field: str, message: str, code: BackendErrorCode | None = None) -> None:
        super().__init__(message, code or FIELD_CODES.get(field, BackendErrorCode.INVALID_DATE))
        self.field = field


UNAVAILABLE_MESSAGE = "the account system is unavailable"


class BackendUnavailable(BackendError):
    """The account system cannot be reached or failed; nothing was written.

    `cause` is a short code of what failed (an exception class such as ``OperationalError``, or
    ``deadline``), never a message: readiness and metrics show it to operators.
    """

    def __init__(self, message: str = UNAVAILABLE_MESSAGE, cause: str | None = None) -> None:
        super().__init__(message, BackendErrorCode.UNAVAILABLE)
        self.cause = cause


# --- results ------------------------------------------------------------------------------------------


class AccountState(enum.Enum):
    """Whether an online account exists for an email and whether its email is confirmed."""

    NONE = "none"
    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class AccountStatus:
    """What is known about an online account; `linked` is True when a citizen file is linked to it."""

    state: AccountState
    account_id: int | None = None
    linked: bool = False
    file_id: int | None = None
    first_name: str | None = None


class LinkResult(enum.Enum):
    """Outcome of `link_card` ("Activer mon profil" / "Lier").

    MISMATCH never says which of the two values was wrong (nor whether the card exists).
    NOT_ADULT: the values match a family member who is not the adult in charge (e.g. a child's card).
    CARD_IN_USE: the values match, but that citizen file is already linked to another online account.
    """

    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    MISMATCH = "mismatch"
    LOCKED = "locked"
    NOT_ADULT = "not_adult"
    NO_SUCH_ACCOUNT = "no_such_account"
    CARD_IN_USE = "card_in_use"


class IdentifyOutcome(enum.Enum):
    """Outcome of `identify` (phone line)."""

    IDENTIFIED = "identified"
    MISMATCH = "mismatch"
    LOCKED = "locked"


@dataclass(frozen=True)
class IdentifyResult:
    """`file_id` and `first_name` are set only when `outcome` is IDENTIFIED."""

    outcome: IdentifyOutcome
    file_id: int | None = None
    first_name: str | None = None

    @property
    def identified(self) -> bool:
        return self.outcome is IdentifyOutcome.IDENTIFIED


class ResendResult(enum.Enum):
    """Outcome of `resend_confirmation` (at most 3 per hour per account)."""

    SENT = "sent"
    RATE_LIMITED = "rate_limited"
    NO_ACCOUNT = "no_account"
    ALREADY_CONFIRMED = "already_confirmed"


@dataclass(frozen=True)
class FamilyMember:
    """One member of a family file ("dossier famille")."""

    file_id: int
    first_name: str
    last_name: str
    adult_in_charge: bool


@dataclass(frozen=True)
class Profile:
    """What "Mon profil" shows for one citizen file. `address` may be None when the city has none."""

    file_id: int
    first_name: str
    last_name: str
    birth_date: date
    home_phone: str | None
    address: str | None
    card_expires_on: date | None
    adult_in_charge: bool
    family: tuple[FamilyMember, ...]


class ExpiryStatus(enum.Enum):
    """EXPIRED: expiry date before today; EXPIRES_SOON: before the `soon_before` date; else VALID."""

    EXPIRED = "expired"
    EXPIRES_SOON = "expires_soon"
    VALID = "valid"


@dataclass(frozen=True)
class CardExpiry:
    """The Carte Accès Terrebonne expiry of one family member."""

    file_id: int
    first_name: str
    expires_on: date
    status: ExpiryStatus


@dataclass(frozen=True)
class AmountDue:
    """An amount owed by one family member, in dollars (two decimals)."""

    file_id: int
    first_name: str
    amount: Decimal


class RegistrationStatus(enum.Enum):
    CONFIRMED = "confirmed"
    PENDING_PAYMENT = "pending_payment"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Registration:
    """One registration of a family member to an activity; `session` may be None when unknown."""

    file_id: int
    first_name: str
    activity: str
    session: str | None
    status: RegistrationStatus


# --- the protocol -------------------------------------------------------------------------------------

BirthDate = date | str
"""A `datetime.date` or an ISO `YYYY-MM-DD` string (free text is parsed by `bot.policy` first)."""


@runtime_checkable
class AccountBackend(Protocol):
    """The account system seen by the assistant. A city with its own system implements this."""

    def account_status(self, email: str) -> AccountStatus:
        """Account for an email (case-insensitive); AccountState.NONE for unknown or malformed emails."""
        ...

    def account(self, account_id: int) -> AccountStatus:
        """Account for an id taken from a verified web token; AccountState.NONE when it does not exist."""
        ...

    def resend_confirmation(self, email: str) -> ResendResult:
        """Record a request to re-send the confirmation email; at most 3 per hour per account."""
        ...

    def link_card(
        self,
        account_id: int,
        last6: str,
        birth_date: BirthDate | None = None,
        home_phone: str | None = None,
        conversation_id: str | None = None,
    ) -> LinkResult:
        """Link the citizen file of the adult in charge to an online account.

        Exactly one of `birth_date` / `home_phone` (else InvalidInput). `last6` may hold spaces or dashes
        ("123 456"); `home_phone` any Canadian form ("(450) 555-0123", "450-555-0123", "+1 450...").
        After 5 failed attempts in 15 minutes for the same account, card or conversation, attempts are
        refused (LOCKED) for 15 minutes.
        """
        ...

    def identify(
        self,
        last6: str,
        birth_date: BirthDate | None = None,
        home_phone: str | None = None,
        conversation_id: str | None = None,
    ) -> IdentifyResult:
        """Identify a caller's citizen file (phone line); same inputs and lock-out as `link_card`."""
        ...

    def profile(self, file_id: int) -> Profile | None:
        """The profile of a citizen file; None when there is no such file."""
        ...

    def card_expiries(
        self, file_id: int, today: date, soon_before: date | None = None
    ) -> Sequence[CardExpiry]:
        """Card expiry of every family member when `file_id` is the adult in charge, else of that member.

        `soon_before` defaults to `next_registration_date` of config/contact.yml (none configured:
        only EXPIRED / VALID). Empty when there is no such file.
        """
        ...

    def amounts_due(self, file_id: int) -> Sequence[AmountDue]:
        """Amounts owed, per family member (same family rule as `card_expiries`); empty when none."""
        ...

    def registrations(self, file_id: int) -> Sequence[Registration]:
        """Registrations, per family member (same family rule as `card_expiries`)."""
        ...

    def ping(self) -> str:
        """A cheap read proving the account system answers (readiness); a short code of what answered
        (``postgresql``, ``sqlite``, ...). Raises `BackendUnavailable` (its `cause` says why) otherwise."""
        ...


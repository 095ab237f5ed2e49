"""The storage protocol an account adapter implements: plain records in, plain records out, no policy.

`bot.backend.service.AccountService` holds every rule above it (input checks, lock-out, rate limits,
the family rule, expiry classification), so an adapter for a city's own account system only stores and
finds. An adapter is a class with `from_settings(settings)` returning an `AccountStore`; the setting
`BOT_BACKEND` names it (`sqlalchemy`, the built-in `bot.backend.sql_store.SqlAlchemyStore`, or a dotted
path, see `bot.backend.factory`).

Times are naive UTC datetimes. Failures of the underlying system raise
`bot.backend.api.BackendUnavailable` (nothing written).

An adapter may also have `ping()` (`PingableStore`): the cheap read the action server's readiness runs
(``GET /ready``). Without one, `AccountService.ping` opens a session and looks up an account id that
cannot exist (`PING_ACCOUNT_ID`).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol, runtime_checkable

AttemptKind = Literal["account_id", "card_key", "conversation_key"]
AttemptKey = tuple[AttemptKind, object]
"""What failed attempts are counted by: an account id, a keyed hash of card digits or of a conversation id."""


@dataclass(frozen=True)
class AccountRecord:
    """An online account; `citizen_file_id` is set once a citizen file is linked to it."""

    id: int
    first_name: str
    email_confirmed: bool
    citizen_file_id: int | None = None


@dataclass(frozen=True)
class CitizenFileRecord:
    """The city's record of one citizen; `home_phone` in E.164 ("+14505550123") or None."""

    id: int
    family_id: int
    adult_in_charge: bool
    first_name: str
    last_name: str
    birth_date: date
    home_phone: str | None
    address: str | None
    card_expires_on: date | None


@dataclass(frozen=True)
class AttemptRecord:
    """One linking or identification attempt; `outcome` "mismatch" is what the lock-out counts."""

    at: datetime
    operation: str
    outcome: str
    account_id: int | None = None
    card_key: str | None = None
    conversation_key: str | None = None


@dataclass(frozen=True)
class AmountDueRecord:
    citizen_file_id: int
    amount_cents: int


@dataclass(frozen=True)
class RegistrationRecord:
    citizen_file_id: int
    activity: str
    session: str | None
    status: str


@runtime_checkable
class StoreSession(Protocol):
    """One atomic unit of work: every write is kept together, or none when it raises."""

    def account_by_email_key(self, email_key: str, *, for_update: bool = False) -> AccountRecord | None:
        """The account whose email, case-folded (`bot.backend.inputs.email_key`), is `email_key`."""
        ...

    def account_by_id(self, account_id: int, *, for_update: bool = False) -> AccountRecord | None: ...

    def count_confirmation_requests(self, account_id: int, since: datetime) -> int:
        """Requests to re-send the confirmation email made after `since`."""
        ...

    def add_confirmation_request(self, account_id: int, at: datetime) -> None: ...

    def failure_times(self, key: AttemptKey, since: datetime) -> list[datetime]:
        """Times of the "mismatch" attempts recorded with this key after `since`, oldest first."""
        ...

    def record_attempt(self, attempt: AttemptRecord) -> None: ...

    def card_holders(self, last6: str) -> Sequence[CitizenFileRecord]:
        """The citizen files whose card ends with these six digits, by id."""
        ...

    def link(self, account_id: int, citizen_file_id: int) -> bool:
        """Link the file to the account; False (nothing written) when another account already has it."""
        ...

    def citizen_file(self, citizen_file_id: int) -> CitizenFileRecord | None: ...

    def family_members(self, family_id: int) -> Sequence[CitizenFileRecord]: ...

    def amounts_due(self, citizen_file_ids: Iterable[int]) -> Sequence[AmountDueRecord]:
        """The amounts owed by these files, in the order they were recorded."""
        ...

    def registrations(self, citizen_file_ids: Iterable[int]) -> Sequence[RegistrationRecord]:
        """The registrations of these files, in the order they were recorded."""
        ...


@runtime_checkable
class AccountStore(Protocol):
    """Where accounts and citizen files live."""

    def session(self, serialize: Sequence[AttemptKey] = ()) -> AbstractContextManager[StoreSession]:
        """A unit of work. Two sessions sharing a key of `serialize` run one after the other, so that
        counting the failures of a key and recording the next attempt cannot interleave."""
        ...


PING_ACCOUNT_ID = 0
"""The account id the default health check looks up: ids start at 1, so it reads and finds nothing."""


@runtime_checkable
class PingableStore(Protocol):
    """An `AccountStore` with its own health check (optional: see the module doc)."""

    def ping(self) -> str:
        """A cheap read that proves the system answers, within the caller's time limit (it runs in a
        thread); a short code of what answered (``postgresql``). Raises `BackendUnavailable` otherwise,
        with a short `cause` (an exception class), never a message."""
        ...

"""`AccountService`: the `AccountBackend` over any `AccountStore`, with every rule that protects citizens.

The rules live here, above the storage adapter, so that every adapter gets them: input checks (nothing
malformed reaches the store), the lock-out (5 failed attempts in 15 minutes for one account, card or
conversation refuse linking and identification for 15 minutes), the limit of 3 confirmation emails per
hour, the family rule (the adult in charge sees the whole family file, another member only their own)
and the classification of card expiries.

A unit of work that writes (a confirmation email asked for, a card linked, an attempt recorded) is not
committed past the deadline of the action call being handled (`bot.deadline`): Rasa has already told the
citizen it could not be done, so it rolls back and raises ``BackendUnavailable(cause="deadline")``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from bot import deadline
from bot.backend import inputs
from bot.backend.api import (
    AccountState,
    AccountStatus,
    AmountDue,
    BackendErrorCode,
    BackendUnavailable,
    BirthDate,
    CardExpiry,
    ExpiryStatus,
    FamilyMember,
    IdentifyOutcome,
    IdentifyResult,
    InvalidInput,
    LinkResult,
    Profile,
    Registration,
    RegistrationStatus,
    ResendResult,
)
from bot.backend.registration_period import next_registration_date
from bot.backend.storage import (
    PING_ACCOUNT_ID,
    AccountRecord,
    AccountStore,
    AttemptKey,
    AttemptRecord,
    CitizenFileRecord,
    PingableStore,
    StoreSession,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

LOCK_THRESHOLD = 5
LOCK_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
RESEND_LIMIT = 3
RESEND_WINDOW = timedelta(hours=1)
MAX_ID = 2**31 - 1
DEADLINE_CAUSE = "deadline"
DEADLINE_MESSAGE = "the action's deadline passed before the write was committed"


def utc_now() -> datetime:
    """The real clock (aware, UTC)."""
    return datetime.now(timezone.utc)


def _as_id(value: object) -> int | None:
    """A database id from an int or a string of digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        value = int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None
    if isinstance(value, int) and 1 <= value <= MAX_ID:
        return value
    return None


def _as_day(value: object, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise InvalidInput(field, f"{field} is not a date", BackendErrorCode.INVALID_DATE)


def classify_expiry(expires_on: date, today: date, soon_before: date | None) -> ExpiryStatus:
    """EXPIRED before `today`, EXPIRES_SOON before `soon_before` (when there is one), else VALID."""
    if expires_on < today:
        return ExpiryStatus.EXPIRED
    if soon_before is not None and expires_on < soon_before:
        return ExpiryStatus.EXPIRES_SOON
    return ExpiryStatus.VALID


def _refuse_past_deadline(operation: str) -> None:
    """Raise `BackendUnavailable` (cause ``deadline``) when the current action call's deadline has passed."""
    current = deadline.current()
    if current is None or not current.passed():
        return
    current.missed = True
    logger.warning("%s: not committed, past the action's deadline (Rasa had stopped waiting)", operation)
    raise BackendUnavailable(DEADLINE_MESSAGE, cause=DEADLINE_CAUSE)


def is_locked(failure_times: Sequence[datetime], now: datetime) -> bool:
    """True when 5 failures (oldest first) fell within 15 minutes and the last of them is < 15 min old."""
    for last in range(LOCK_THRESHOLD - 1, len(failure_times)):
        first = last - (LOCK_THRESHOLD - 1)
        if failure_times[last] - failure_times[first] <= LOCK_WINDOW and now < failure_times[last] + LOCK_DURATION:
            return True
    return False


class AccountService:
    """The account backend on `store`, with lock-out, rate limits, the family rule and expiry statuses.

    `card_secret` keys the hashes of card digits and conversation ids that the attempts are counted by.
    `clock` returns the current time (aware; naive values are taken as UTC) and is injected by tests.
    `registration_date` returns the default `soon_before` of `card_expiries`.
    """

    def __init__(
        self,
        store: AccountStore,
        card_secret: str,
        *,
        clock: Clock = utc_now,
        registration_date: Callable[[], date | None] = next_registration_date,
    ) -> None:
        self.store = store
        self._card_secret = card_secret
        self._clock = clock
        self._registration_date = registration_date

    # --- plumbing --------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is not None:
            now = now.astimezone(timezone.utc).replace(tzinfo=None)
        return now

    def _card_key(self, last6: str) -> str:
        return inputs.keyed_digest(self._card_secret, "card", last6)

    def _conversation_key(self, conversation_id: object) -> str | None:
        if conversation_id is None or conversation_id == "":
            return None
        return inputs.keyed_digest(self._card_secret, "conversation", str(conversation_id))

    @contextmanager
    def _writing(self, operation: str, serialize: Sequence[AttemptKey] = ()) -> Iterator[StoreSession]:
        """A store session whose writes are committed only before the current action's deadline."""
        with self.store.session(serialize=serialize) as session:
            yield session
            _refuse_past_deadline(operation)  # raised inside the session: the adapter rolls back

    @staticmethod
    def _proof(birth_date: object, home_phone: object) -> tuple[str, bool]:
        """The normalized second value and whether it is a birth date; exactly one must be given."""
        has_date = birth_date is not None and birth_date != ""
        has_phone = home_phone is not None and home_phone != ""
        if has_date == has_phone:
            raise InvalidInput("birth_date", inputs.ONE_OF_MESSAGE, BackendErrorCode.BIRTH_DATE_OR_PHONE)
        if has_date:
            return inputs.normalize_birth_date(birth_date).isoformat(), True
        return inputs.normalize_phone(home_phone), False

    @staticmethod
    def _locked(session: StoreSession, now: datetime, keys: Sequence[AttemptKey]) -> bool:
        """True when one of the keys is locked out (see `is_locked`)."""
        since = now - LOCK_WINDOW - LOCK_DURATION
        return any(is_locked(session.failure_times(key, since), now) for key in keys)

    @staticmethod
    def _match(session: StoreSession, last6: str, proof: str, is_date: bool) -> CitizenFileRecord | None:
        """The citizen file whose card and birth date (or phone) match, compared in constant time."""
        matched = None
        for candidate in session.card_holders(last6):
            expected = candidate.birth_date.isoformat() if is_date else (candidate.home_phone or "")
            if inputs.same_secret(expected, proof) and matched is None:
                matched = candidate
        return matched

    # --- health --------------------------------------------------------------------------------------

    def ping(self) -> str:
        """The adapter's own `ping` when it has one; else a session that looks up an account id that
        cannot exist (a real read through the storage protocol). Any failure is `BackendUnavailable`."""
        if isinstance(self.store, PingableStore):
            return self.store.ping()
        try:
            with self.store.session() as session:
                session.account_by_id(PING_ACCOUNT_ID)
        except BackendUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - an adapter's own failure: down, said by its class
            raise BackendUnavailable(cause=type(error).__name__) from None
        return type(self.store).__name__

    # --- accounts --------------------------------------------------------------------------------------

    @staticmethod
    def _status(account: AccountRecord | None) -> AccountStatus:
        if account is None:
            return AccountStatus(AccountState.NONE)
        return AccountStatus(
            state=AccountState.CONFIRMED if account.email_confirmed else AccountState.UNCONFIRMED,
            account_id=account.id,
            linked=account.citizen_file_id is not None,
            file_id=account.citizen_file_id,
            first_name=account.first_name,
        )

    def account_status(self, email: str) -> AccountStatus:
        key = inputs.email_key(email)
        if key is None:
            return AccountStatus(AccountState.NONE)
        with self.store.session() as session:
            return self._status(session.account_by_email_key(key))

    def account(self, account_id: int) -> AccountStatus:
        identifier = _as_id(account_id)
        if identifier is None:
            return AccountStatus(AccountState.NONE)
        with self.store.session() as session:
            return self._status(session.account_by_id(identifier))

    def resend_confirmation(self, email: str) -> ResendResult:
        key = inputs.email_key(email)
        if key is None:
            return ResendResult.NO_ACCOUNT
        with self._writing("resend_confirmation") as session:
            account = session.account_by_email_key(key, for_update=True)
            if account is None:
                result = ResendResult.NO_ACCOUNT
            elif account.email_confirmed:
                result = ResendResult.ALREADY_CONFIRMED
            else:
                now = self._now()
                if session.count_confirmation_requests(account.id, now - RESEND_WINDOW) >= RESEND_LIMIT:
                    result = ResendResult.RATE_LIMITED
                else:
                    session.add_confirmation_request(account.id, now)
                    result = ResendResult.SENT
        logger.info("resend_confirmation: %s", result.value)
        return result

    # --- linking and identification ---------------------------------------------------------------------

    def link_card(
        self,
        account_id: int,
        last6: str,
        birth_date: BirthDate | None = None,
        home_phone: str | None = None,
        conversation_id: str | None = None,
    ) -> LinkResult:
        digits = inputs.normalize_last6(last6)
        proof, is_date = self._proof(birth_date, home_phone)
        identifier = _as_id(account_id)
        if identifier is None:
            return LinkResult.NO_SUCH_ACCOUNT
        card_key = self._card_key(digits)
        conversation_key = self._conversation_key(conversation_id)
        keys: list[AttemptKey] = [("account_id", identifier), ("card_key", card_key)]
        if conversation_key:
            keys.append(("conversation_key", conversation_key))
        with self._writing("link_card", serialize=keys) as session:
            result = self._link(session, identifier, digits, card_key, conversation_key, keys, proof, is_date)
        logger.info("link_card: %s", result.value)
        return result

    def _link(
        self,
        session: StoreSession,
        account_id: int,
        digits: str,
        card_key: str,
        conversation_key: str | None,
        keys: Sequence[AttemptKey],
        proof: str,
        is_date: bool,
    ) -> LinkResult:
        account = session.account_by_id(account_id, for_update=True)
        if account is None:
            return LinkResult.NO_SUCH_ACCOUNT
        if account.citizen_file_id is not None:
            return LinkResult.ALREADY_LINKED
        now = self._now()

        def record(outcome: str) -> None:
            session.record_attempt(
                AttemptRecord(now, "link", outcome, account.id, card_key, conversation_key)
            )

        if self._locked(session, now, keys):
            record("locked")
            return LinkResult.LOCKED
        matched = self._match(session, digits, proof, is_date)
        if matched is None:
            record("mismatch")
            return LinkResult.MISMATCH
        if not matched.adult_in_charge:
            record("not_adult")
            return LinkResult.NOT_ADULT
        if not session.link(account.id, matched.id):
            record("card_in_use")
            return LinkResult.CARD_IN_USE
        record("success")
        return LinkResult.LINKED

    def identify(
        self,
        last6: str,
        birth_date: BirthDate | None = None,
        home_phone: str | None = None,
        conversation_id: str | None = None,
    ) -> IdentifyResult:
        digits = inputs.normalize_last6(last6)
        proof, is_date = self._proof(birth_date, home_phone)
        card_key = self._card_key(digits)
        conversation_key = self._conversation_key(conversation_id)
        keys: list[AttemptKey] = [("card_key", card_key)]
        if conversation_key:
            keys.append(("conversation_key", conversation_key))
        with self._writing("identify", serialize=keys) as session:
            now = self._now()
            matched = None
            if self._locked(session, now, keys):
                outcome = IdentifyOutcome.LOCKED
            else:
                matched = self._match(session, digits, proof, is_date)
                outcome = IdentifyOutcome.MISMATCH if matched is None else IdentifyOutcome.IDENTIFIED
            recorded = "success" if outcome is IdentifyOutcome.IDENTIFIED else outcome.value
            session.record_attempt(
                AttemptRecord(now, "identify", recorded, card_key=card_key, conversation_key=conversation_key)
            )
        result = (
            IdentifyResult(outcome, matched.id, matched.first_name) if matched is not None else IdentifyResult(outcome)
        )
        logger.info("identify: %s", result.outcome.value)
        return result

    # --- the citizen file --------------------------------------------------------------------------------

    @staticmethod
    def _visible_members(session: StoreSession, file_id: object) -> list[CitizenFileRecord]:
        """The whole family for the adult in charge, else only the member; empty for an unknown file."""
        identifier = _as_id(file_id)
        citizen = session.citizen_file(identifier) if identifier is not None else None
        if citizen is None:
            return []
        if not citizen.adult_in_charge:
            return [citizen]
        members = session.family_members(citizen.family_id)
        return sorted(members, key=lambda m: (not m.adult_in_charge, m.birth_date, m.id))

    def profile(self, file_id: int) -> Profile | None:
        with self.store.session() as session:
            members = self._visible_members(session, file_id)
        if not members:
            return None
        citizen = next(m for m in members if m.id == _as_id(file_id))
        return Profile(
            file_id=citizen.id,
            first_name=citizen.first_name,
            last_name=citizen.last_name,
            birth_date=citizen.birth_date,
            home_phone=inputs.format_phone(citizen.home_phone) if citizen.home_phone else None,
            address=citizen.address,
            card_expires_on=citizen.card_expires_on,
            adult_in_charge=citizen.adult_in_charge,
            family=tuple(FamilyMember(m.id, m.first_name, m.last_name, m.adult_in_charge) for m in members),
        )

    def card_expiries(
        self, file_id: int, today: date, soon_before: date | None = None
    ) -> tuple[CardExpiry, ...]:
        today = _as_day(today, "today")
        soon = _as_day(soon_before, "soon_before") if soon_before is not None else self._registration_date()
        with self.store.session() as session:
            members = self._visible_members(session, file_id)
        return tuple(
            CardExpiry(m.id, m.first_name, m.card_expires_on, classify_expiry(m.card_expires_on, today, soon))
            for m in members
            if m.card_expires_on is not None
        )

    def amounts_due(self, file_id: int) -> tuple[AmountDue, ...]:
        with self.store.session() as session:
            members = {m.id: m for m in self._visible_members(session, file_id)}
            rows = session.amounts_due(members) if members else ()
        return tuple(
            AmountDue(
                row.citizen_file_id,
                members[row.citizen_file_id].first_name,
                (Decimal(row.amount_cents) / 100).quantize(Decimal("0.01")),
            )
            for row in rows
        )

    def registrations(self, file_id: int) -> tuple[Registration, ...]:
        with self.store.session() as session:
            members = {m.id: m for m in self._visible_members(session, file_id)}
            rows = list(session.registrations(members)) if members else []
        order = {member_id: position for position, member_id in enumerate(members)}
        rows.sort(key=lambda row: order[row.citizen_file_id])
        return tuple(
            Registration(
                row.citizen_file_id,
                members[row.citizen_file_id].first_name,
                row.activity,
                row.session,
                RegistrationStatus(row.status),
            )
            for row in rows
        )

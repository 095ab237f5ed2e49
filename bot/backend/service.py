"""`AccountService`: the SQLAlchemy implementation of `AccountBackend`, with lock-out and rate limits."""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.backend import inputs
from bot.backend.api import (
    AccountState,
    AccountStatus,
    AmountDue,
    BackendError,
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
from bot.backend.db import make_engine
from bot.backend.models import (
    Account,
    AmountDueRecord,
    Attempt,
    CitizenFile,
    ConfirmationRequest,
    RegistrationRecord,
)
from bot.backend.registration_period import next_registration_date

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

LOCK_THRESHOLD = 5
LOCK_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
RESEND_LIMIT = 3
RESEND_WINDOW = timedelta(hours=1)
MAX_ID = 2**31 - 1

UNAVAILABLE_MESSAGE = "Le service des dossiers est indisponible pour le moment. Veuillez réessayer plus tard."


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
    raise InvalidInput(field, "Date invalide.")


class AccountService:
    """The account backend on any SQLAlchemy database prepared by `bot.backend.setup.prepare_database`.

    `clock` returns the current time (aware; naive values are taken as UTC) and is injected by tests.
    `registration_date` returns the default `soon_before` of `card_expiries`.
    """

    def __init__(
        self,
        engine: Engine,
        card_secret: str,
        *,
        clock: Clock = utc_now,
        registration_date: Callable[[], date | None] = next_registration_date,
    ) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, future=True, expire_on_commit=False)
        self._card_secret = card_secret
        self._clock = clock
        self._registration_date = registration_date

    # --- plumbing --------------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except BackendError:
            raise
        except SQLAlchemyError as error:
            logger.error("account database error: %s", type(error).__name__)
            raise BackendUnavailable(UNAVAILABLE_MESSAGE) from None

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

    @staticmethod
    def _proof(birth_date: object, home_phone: object) -> tuple[str, bool]:
        """The normalised second value and whether it is a birth date; exactly one must be given."""
        has_date = birth_date is not None and birth_date != ""
        has_phone = home_phone is not None and home_phone != ""
        if has_date == has_phone:
            raise InvalidInput("birth_date", inputs.ONE_OF_MESSAGE)
        if has_date:
            return inputs.normalize_birth_date(birth_date).isoformat(), True
        return inputs.normalize_phone(home_phone), False

    @staticmethod
    def _serialise(session: Session, keys: list[tuple[object, object]]) -> None:
        """On PostgreSQL, hold a transaction-scoped advisory lock per key (account, card, conversation).

        Concurrent attempts on one key then count and record failures one after the other. SQLite needs
        nothing: every transaction there starts with BEGIN IMMEDIATE.
        """
        if session.get_bind().dialect.name != "postgresql":
            return
        numbers = sorted(
            int.from_bytes(hashlib.sha256(f"{column.key}:{value}".encode()).digest()[:8], "big", signed=True)
            for column, value in keys
        )
        for number in numbers:
            session.execute(select(func.pg_advisory_xact_lock(number)))

    @classmethod
    def _locked(cls, session: Session, now: datetime, keys: list[tuple[object, object]]) -> bool:
        """True when, for one key, 5 failures fell within 15 minutes and the last of them is < 15 min old.

        Holds the keys' locks for the rest of the transaction, so that the count stays true until the
        attempt is recorded.
        """
        cls._serialise(session, keys)
        since = now - LOCK_WINDOW - LOCK_DURATION
        for column, value in keys:
            times = (
                session.execute(
                    select(Attempt.at)
                    .where(column == value, Attempt.outcome == "mismatch", Attempt.at > since)
                    .order_by(Attempt.at)
                )
                .scalars()
                .all()
            )
            for last in range(LOCK_THRESHOLD - 1, len(times)):
                first = last - (LOCK_THRESHOLD - 1)
                if times[last] - times[first] <= LOCK_WINDOW and now < times[last] + LOCK_DURATION:
                    return True
        return False

    def _match(self, session: Session, card_key: str, proof: str, is_date: bool) -> CitizenFile | None:
        """The citizen file whose card and birth date (or phone) match; rows are locked for the transaction."""
        candidates = (
            session.execute(
                select(CitizenFile)
                .where(CitizenFile.card_digest == card_key)
                .order_by(CitizenFile.id)
                .with_for_update()
            )
            .scalars()
            .all()
        )
        matched = None
        for candidate in candidates:
            expected = candidate.birth_date.isoformat() if is_date else (candidate.home_phone or "")
            if inputs.same_secret(expected, proof) and matched is None:
                matched = candidate
        return matched

    @staticmethod
    def _record(session: Session, now: datetime, operation: str, outcome: str, **keys: object) -> None:
        session.add(Attempt(at=now, operation=operation, outcome=outcome, **keys))

    # --- accounts --------------------------------------------------------------------------------------

    @staticmethod
    def _status(account: Account | None) -> AccountStatus:
        if account is None:
            return AccountStatus(AccountState.NONE)
        confirmed = account.email_confirmed_at is not None
        return AccountStatus(
            state=AccountState.CONFIRMED if confirmed else AccountState.UNCONFIRMED,
            account_id=account.id,
            linked=account.citizen_file_id is not None,
            file_id=account.citizen_file_id,
            first_name=account.first_name,
        )

    def account_status(self, email: str) -> AccountStatus:
        key = inputs.email_key(email)
        if key is None:
            return AccountStatus(AccountState.NONE)
        with self._transaction() as session:
            account = session.execute(select(Account).where(Account.email_key == key)).scalar_one_or_none()
            return self._status(account)

    def account(self, account_id: int) -> AccountStatus:
        identifier = _as_id(account_id)
        if identifier is None:
            return AccountStatus(AccountState.NONE)
        with self._transaction() as session:
            return self._status(session.get(Account, identifier))

    def resend_confirmation(self, email: str) -> ResendResult:
        key = inputs.email_key(email)
        if key is None:
            return ResendResult.NO_ACCOUNT
        with self._transaction() as session:
            account = session.execute(
                select(Account).where(Account.email_key == key).with_for_update()
            ).scalar_one_or_none()
            if account is None:
                result = ResendResult.NO_ACCOUNT
            elif account.email_confirmed_at is not None:
                result = ResendResult.ALREADY_CONFIRMED
            else:
                now = self._now()
                recent = session.execute(
                    select(func.count(ConfirmationRequest.id)).where(
                        ConfirmationRequest.account_id == account.id,
                        ConfirmationRequest.requested_at > now - RESEND_WINDOW,
                    )
                ).scalar_one()
                if recent >= RESEND_LIMIT:
                    result = ResendResult.RATE_LIMITED
                else:
                    session.add(ConfirmationRequest(account_id=account.id, requested_at=now))
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
        with self._transaction() as session:
            result = self._link(session, identifier, card_key, conversation_key, proof, is_date)
        logger.info("link_card: %s", result.value)
        return result

    def _link(
        self,
        session: Session,
        account_id: int,
        card_key: str,
        conversation_key: str | None,
        proof: str,
        is_date: bool,
    ) -> LinkResult:
        account = session.execute(
            select(Account).where(Account.id == account_id).with_for_update()
        ).scalar_one_or_none()
        if account is None:
            return LinkResult.NO_SUCH_ACCOUNT
        if account.citizen_file_id is not None:
            return LinkResult.ALREADY_LINKED
        now = self._now()
        keys: list[tuple[object, object]] = [(Attempt.account_id, account.id), (Attempt.card_key, card_key)]
        if conversation_key:
            keys.append((Attempt.conversation_key, conversation_key))

        def record(outcome: str) -> None:
            self._record(
                session, now, "link", outcome,
                account_id=account.id, card_key=card_key, conversation_key=conversation_key,
            )

        if self._locked(session, now, keys):
            record("locked")
            return LinkResult.LOCKED
        matched = self._match(session, card_key, proof, is_date)
        if matched is None:
            record("mismatch")
            return LinkResult.MISMATCH
        if not matched.adult_in_charge:
            record("not_adult")
            return LinkResult.NOT_ADULT
        taken = session.execute(select(Account.id).where(Account.citizen_file_id == matched.id)).first()
        if taken is not None:
            record("card_in_use")
            return LinkResult.CARD_IN_USE
        try:
            with session.begin_nested():
                account.citizen_file_id = matched.id
        except IntegrityError:
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
        with self._transaction() as session:
            now = self._now()
            keys: list[tuple[object, object]] = [(Attempt.card_key, card_key)]
            if conversation_key:
                keys.append((Attempt.conversation_key, conversation_key))
            if self._locked(session, now, keys):
                outcome, matched = IdentifyOutcome.LOCKED, None
            else:
                matched = self._match(session, card_key, proof, is_date)
                outcome = IdentifyOutcome.MISMATCH if matched is None else IdentifyOutcome.IDENTIFIED
            recorded = "success" if outcome is IdentifyOutcome.IDENTIFIED else outcome.value
            self._record(
                session, now, "identify", recorded, card_key=card_key, conversation_key=conversation_key
            )
            result = (
                IdentifyResult(outcome, matched.id, matched.first_name)
                if matched is not None
                else IdentifyResult(outcome)
            )
        logger.info("identify: %s", result.outcome.value)
        return result

    # --- the citizen file --------------------------------------------------------------------------------

    @staticmethod
    def _visible_members(session: Session, file_id: object) -> list[CitizenFile]:
        """The whole family for the adult in charge, else only the member; empty for an unknown file."""
        identifier = _as_id(file_id)
        citizen = session.get(CitizenFile, identifier) if identifier is not None else None
        if citizen is None:
            return []
        if not citizen.adult_in_charge:
            return [citizen]
        members = (
            session.execute(select(CitizenFile).where(CitizenFile.family_id == citizen.family_id))
            .scalars()
            .all()
        )
        return sorted(members, key=lambda m: (not m.adult_in_charge, m.birth_date, m.id))

    def profile(self, file_id: int) -> Profile | None:
        with self._transaction() as session:
            members = self._visible_members(session, file_id)
            if not members:
                return None
            citizen = next(m for m in members if m.id == _as_id(file_id))
            family = tuple(FamilyMember(m.id, m.first_name, m.last_name, m.adult_in_charge) for m in members)
            return Profile(
                file_id=citizen.id,
                first_name=citizen.first_name,
                last_name=citizen.last_name,
                birth_date=citizen.birth_date,
                home_phone=inputs.format_phone(citizen.home_phone) if citizen.home_phone else None,
                address=citizen.address,
                card_expires_on=citizen.card_expires_on,
                adult_in_charge=citizen.adult_in_charge,
                family=family,
            )

    def card_expiries(
        self, file_id: int, today: date, soon_before: date | None = None
    ) -> tuple[CardExpiry, ...]:
        today = _as_day(today, "today")
        soon = _as_day(soon_before, "soon_before") if soon_before is not None else self._registration_date()
        with self._transaction() as session:
            members = self._visible_members(session, file_id)
        expiries = []
        for member in members:
            expires_on = member.card_expires_on
            if expires_on is None:
                continue
            if expires_on < today:
                status = ExpiryStatus.EXPIRED
            elif soon is not None and expires_on < soon:
                status = ExpiryStatus.EXPIRES_SOON
            else:
                status = ExpiryStatus.VALID
            expiries.append(CardExpiry(member.id, member.first_name, expires_on, status))
        return tuple(expiries)

    def amounts_due(self, file_id: int) -> tuple[AmountDue, ...]:
        with self._transaction() as session:
            members = {m.id: m for m in self._visible_members(session, file_id)}
            if not members:
                return ()
            rows = (
                session.execute(
                    select(AmountDueRecord)
                    .where(AmountDueRecord.citizen_file_id.in_(members))
                    .order_by(AmountDueRecord.id)
                )
                .scalars()
                .all()
            )
            return tuple(
                AmountDue(
                    row.citizen_file_id,
                    members[row.citizen_file_id].first_name,
                    (Decimal(row.amount_cents) / 100).quantize(Decimal("0.01")),
                )
                for row in rows
            )

    def registrations(self, file_id: int) -> tuple[Registration, ...]:
        with self._transaction() as session:
            members = {m.id: m for m in self._visible_members(session, file_id)}
            if not members:
                return ()
            order = {member_id: position for position, member_id in enumerate(members)}
            rows = (
                session.execute(
                    select(RegistrationRecord).where(RegistrationRecord.citizen_file_id.in_(members))
                )
                .scalars()
                .all()
            )
            rows = sorted(rows, key=lambda r: (order[r.citizen_file_id], r.id))
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


@cache
def backend_for_url(database_url: str) -> AccountService:
    """One `AccountService` (and one engine) per database URL, with the card key from settings."""
    from bot.settings import get_settings

    return AccountService(make_engine(database_url), get_settings().card_hash_secret)

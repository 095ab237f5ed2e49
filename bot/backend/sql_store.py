"""`SqlAlchemyStore`: the built-in storage adapter (`BOT_BACKEND=sqlalchemy`) on SQLite or PostgreSQL."""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.backend import inputs, models
from bot.backend.api import BackendError, BackendUnavailable
from bot.backend.db import make_engine
from bot.backend.storage import (
    AccountRecord,
    AmountDueRecord,
    AttemptKey,
    AttemptRecord,
    CitizenFileRecord,
    RegistrationRecord,
)
from bot.settings import Settings

logger = logging.getLogger(__name__)

_ATTEMPT_COLUMNS = {
    "account_id": models.Attempt.account_id,
    "card_key": models.Attempt.card_key,
    "conversation_key": models.Attempt.conversation_key,
}


def _account(row: models.Account | None) -> AccountRecord | None:
    if row is None:
        return None
    return AccountRecord(row.id, row.first_name, row.email_confirmed_at is not None, row.citizen_file_id)


def _citizen_file(row: models.CitizenFile | None) -> CitizenFileRecord | None:
    if row is None:
        return None
    return CitizenFileRecord(
        id=row.id,
        family_id=row.family_id,
        adult_in_charge=row.adult_in_charge,
        first_name=row.first_name,
        last_name=row.last_name,
        birth_date=row.birth_date,
        home_phone=row.home_phone,
        address=row.address,
        card_expires_on=row.card_expires_on,
    )


class SqlAlchemySession:
    """A `StoreSession` on one SQLAlchemy transaction."""

    def __init__(self, session: Session, card_secret: str) -> None:
        self._session = session
        self._card_secret = card_secret

    def _account_where(self, condition, for_update: bool) -> AccountRecord | None:
        query = select(models.Account).where(condition)
        if for_update:
            query = query.with_for_update()
        return _account(self._session.execute(query).scalar_one_or_none())

    def account_by_email_key(self, email_key: str, *, for_update: bool = False) -> AccountRecord | None:
        return self._account_where(models.Account.email_key == email_key, for_update)

    def account_by_id(self, account_id: int, *, for_update: bool = False) -> AccountRecord | None:
        return self._account_where(models.Account.id == account_id, for_update)

    def count_confirmation_requests(self, account_id: int, since: datetime) -> int:
        return self._session.execute(
            select(func.count(models.ConfirmationRequest.id)).where(
                models.ConfirmationRequest.account_id == account_id,
                models.ConfirmationRequest.requested_at > since,
            )
        ).scalar_one()

    def add_confirmation_request(self, account_id: int, at: datetime) -> None:
        self._session.add(models.ConfirmationRequest(account_id=account_id, requested_at=at))

    def failure_times(self, key: AttemptKey, since: datetime) -> list[datetime]:
        kind, value = key
        return list(
            self._session.execute(
                select(models.Attempt.at)
                .where(
                    _ATTEMPT_COLUMNS[kind] == value,
                    models.Attempt.outcome == "mismatch",
                    models.Attempt.at > since,
                )
                .order_by(models.Attempt.at)
            )
            .scalars()
            .all()
        )

    def record_attempt(self, attempt: AttemptRecord) -> None:
        self._session.add(
            models.Attempt(
                at=attempt.at,
                operation=attempt.operation,
                outcome=attempt.outcome,
                account_id=attempt.account_id,
                card_key=attempt.card_key,
                conversation_key=attempt.conversation_key,
            )
        )

    def card_holders(self, last6: str) -> list[CitizenFileRecord]:
        digest = inputs.keyed_digest(self._card_secret, "card", last6)
        rows = (
            self._session.execute(
                select(models.CitizenFile)
                .where(models.CitizenFile.card_digest == digest)
                .order_by(models.CitizenFile.id)
                .with_for_update()
            )
            .scalars()
            .all()
        )
        return [record for record in map(_citizen_file, rows) if record is not None]

    def link(self, account_id: int, citizen_file_id: int) -> bool:
        session = self._session
        taken = session.execute(
            select(models.Account.id).where(models.Account.citizen_file_id == citizen_file_id)
        ).first()
        if taken is not None:
            return False
        account = session.get(models.Account, account_id)
        if account is None:
            return False
        try:
            with session.begin_nested():
                account.citizen_file_id = citizen_file_id
        except IntegrityError:
            return False
        return True

    def citizen_file(self, citizen_file_id: int) -> CitizenFileRecord | None:
        return _citizen_file(self._session.get(models.CitizenFile, citizen_file_id))

    def family_members(self, family_id: int) -> list[CitizenFileRecord]:
        rows = (
            self._session.execute(
                select(models.CitizenFile)
                .where(models.CitizenFile.family_id == family_id)
                .order_by(models.CitizenFile.id)
            )
            .scalars()
            .all()
        )
        return [record for record in map(_citizen_file, rows) if record is not None]

    def _rows_of_files(self, model: Any, citizen_file_ids: Iterable[int]) -> list[Any]:
        """The rows of ``model`` that belong to these citizen files, in the order they were written."""
        query = select(model).where(model.citizen_file_id.in_(list(citizen_file_ids))).order_by(model.id)
        return list(self._session.execute(query).scalars().all())

    def amounts_due(self, citizen_file_ids: Iterable[int]) -> list[AmountDueRecord]:
        rows = self._rows_of_files(models.AmountDueRecord, citizen_file_ids)
        return [AmountDueRecord(row.citizen_file_id, row.amount_cents) for row in rows]

    def registrations(self, citizen_file_ids: Iterable[int]) -> list[RegistrationRecord]:
        rows = self._rows_of_files(models.RegistrationRecord, citizen_file_ids)
        return [RegistrationRecord(row.citizen_file_id, row.activity, row.session, row.status) for row in rows]


class SqlAlchemyStore:
    """The account store on any SQLAlchemy database prepared by `bot.backend.setup.prepare_database`.

    Card digits are looked up by their keyed hash under `card_secret` (the key the seed used).
    """

    def __init__(self, engine: Engine, card_secret: str) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, future=True, expire_on_commit=False)
        self._card_secret = card_secret

    @classmethod
    def from_settings(cls, settings: Settings) -> SqlAlchemyStore:
        """A store on `settings.database_url` (one engine) with the card key of the settings."""
        return cls(make_engine(settings.database_url), settings.card_hash_secret)

    @contextmanager
    def session(self, serialize: Sequence[AttemptKey] = ()) -> Iterator[SqlAlchemySession]:
        try:
            with self._sessions.begin() as session:
                self._serialize(session, serialize)
                yield SqlAlchemySession(session, self._card_secret)
        except BackendError:
            raise
        except SQLAlchemyError as error:
            logger.error("account database error: %s", type(error).__name__)
            raise BackendUnavailable(cause=type(error).__name__) from None

    def ping(self) -> str:
        """One account id read on a pooled connection, outside SQLAlchemy's transactions (on SQLite no
        BEGIN IMMEDIATE: a busy writer does not make the database look down); the dialect's name.

        A database without the schema (never migrated) is down too: the table is missing.
        """
        dbapi_errors = getattr(self.engine.dialect.dbapi, "Error", SQLAlchemyError)
        try:
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute(f"SELECT id FROM {models.Account.__tablename__} LIMIT 1")
                cursor.fetchall()
                cursor.close()
            finally:
                connection.close()
        except (SQLAlchemyError, dbapi_errors) as error:
            raise BackendUnavailable(cause=type(error).__name__) from None
        return self.engine.dialect.name

    @staticmethod
    def _serialize(session: Session, keys: Sequence[AttemptKey]) -> None:
        """On PostgreSQL, hold a transaction-scoped advisory lock per key (account, card, conversation).

        Concurrent attempts on one key then count and record failures one after the other. SQLite needs
        nothing: every transaction there starts with BEGIN IMMEDIATE.
        """
        if not keys or session.get_bind().dialect.name != "postgresql":
            return
        numbers = sorted(
            int.from_bytes(hashlib.sha256(f"{kind}:{value}".encode()).digest()[:8], "big", signed=True)
            for kind, value in keys
        )
        for number in numbers:
            session.execute(select(func.pg_advisory_xact_lock(number)))

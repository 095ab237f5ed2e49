"""`InMemoryStore`: a second storage adapter, held in Python lists, proving that the rules sit above it.

It stores only and finds; the lock-out, the rate limit of confirmation emails, the family rule and the
expiry statuses come from `AccountService`. `BOT_BACKEND=tests.bot.backend.memory_store:InMemoryStore`
(from the project's root) makes `get_backend()` use it, seeded with the demo data of DESIGN.md.
"""
from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.backend import inputs
from bot.backend.seed import DEMO_FAMILIES
from bot.backend.storage import (
    AccountRecord,
    AmountDueRecord,
    AttemptKey,
    AttemptRecord,
    CitizenFileRecord,
    RegistrationRecord,
)
from bot.settings import Settings


@dataclass
class _Tables:
    """The rows, as the SQL schema has them (card digits kept only as a keyed hash)."""

    families: list[int] = field(default_factory=list)
    citizen_files: dict[int, CitizenFileRecord] = field(default_factory=dict)
    card_digests: dict[int, str] = field(default_factory=dict)
    accounts: dict[int, AccountRecord] = field(default_factory=dict)
    email_keys: dict[str, int] = field(default_factory=dict)
    confirmation_requests: list[tuple[int, datetime]] = field(default_factory=list)
    attempts: list[AttemptRecord] = field(default_factory=list)
    registrations: list[RegistrationRecord] = field(default_factory=list)
    amounts_due: list[AmountDueRecord] = field(default_factory=list)


class InMemorySession:
    """A `StoreSession`: reads see the tables and this session's own writes; writes land on commit."""

    def __init__(self, tables: _Tables, card_secret: str) -> None:
        self._tables = tables
        self._card_secret = card_secret
        self._links: dict[int, int] = {}
        self._confirmations: list[tuple[int, datetime]] = []
        self._attempts: list[AttemptRecord] = []

    def commit(self) -> None:
        for account_id, citizen_file_id in self._links.items():
            account = self._tables.accounts[account_id]
            self._tables.accounts[account_id] = replace(account, citizen_file_id=citizen_file_id)
        self._tables.confirmation_requests.extend(self._confirmations)
        self._tables.attempts.extend(self._attempts)

    def _account(self, account_id: int | None) -> AccountRecord | None:
        account = self._tables.accounts.get(account_id) if account_id is not None else None
        if account is not None and account.id in self._links:
            account = replace(account, citizen_file_id=self._links[account.id])
        return account

    def account_by_email_key(self, email_key: str, *, for_update: bool = False) -> AccountRecord | None:
        return self._account(self._tables.email_keys.get(email_key))

    def account_by_id(self, account_id: int, *, for_update: bool = False) -> AccountRecord | None:
        return self._account(account_id)

    def count_confirmation_requests(self, account_id: int, since: datetime) -> int:
        requests = self._tables.confirmation_requests + self._confirmations
        return sum(1 for who, at in requests if who == account_id and at > since)

    def add_confirmation_request(self, account_id: int, at: datetime) -> None:
        self._confirmations.append((account_id, at))

    def failure_times(self, key: AttemptKey, since: datetime) -> list[datetime]:
        kind, value = key
        return sorted(
            attempt.at
            for attempt in self._tables.attempts + self._attempts
            if getattr(attempt, kind) == value and attempt.outcome == "mismatch" and attempt.at > since
        )

    def record_attempt(self, attempt: AttemptRecord) -> None:
        self._attempts.append(attempt)

    def card_holders(self, last6: str) -> list[CitizenFileRecord]:
        digest = inputs.keyed_digest(self._card_secret, "card", last6)
        return [
            self._tables.citizen_files[file_id]
            for file_id, stored in sorted(self._tables.card_digests.items())
            if stored == digest
        ]

    def link(self, account_id: int, citizen_file_id: int) -> bool:
        linked = {a.citizen_file_id for a in self._tables.accounts.values()} | set(self._links.values())
        if citizen_file_id in linked or account_id not in self._tables.accounts:
            return False
        self._links[account_id] = citizen_file_id
        return True

    def citizen_file(self, citizen_file_id: int) -> CitizenFileRecord | None:
        return self._tables.citizen_files.get(citizen_file_id)

    def family_members(self, family_id: int) -> list[CitizenFileRecord]:
        return [c for _, c in sorted(self._tables.citizen_files.items()) if c.family_id == family_id]

    def amounts_due(self, citizen_file_ids: Iterable[int]) -> list[AmountDueRecord]:
        wanted = set(citizen_file_ids)
        return [row for row in self._tables.amounts_due if row.citizen_file_id in wanted]

    def registrations(self, citizen_file_ids: Iterable[int]) -> list[RegistrationRecord]:
        wanted = set(citizen_file_ids)
        return [row for row in self._tables.registrations if row.citizen_file_id in wanted]


class InMemoryStore:
    """An `AccountStore` in this process's memory; one lock serializes every session."""

    def __init__(self, card_secret: str) -> None:
        self._card_secret = card_secret
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.tables = _Tables()

    @classmethod
    def from_settings(cls, settings: Settings) -> InMemoryStore:
        """A store holding the demo data of DESIGN.md, keyed with the settings' card key."""
        store = cls(settings.card_hash_secret)
        store.seed_demo()
        return store

    @contextmanager
    def session(self, serialize: Sequence[AttemptKey] = ()) -> Iterator[InMemorySession]:
        with self._lock:
            session = InMemorySession(self.tables, self._card_secret)
            yield session
            session.commit()

    def seed_demo(self, now: datetime | None = None) -> None:
        """The demo people of DESIGN.md (accounts unlinked), like `bot.backend.seed.seed`."""
        now = now or datetime(2026, 1, 1)
        tables = self.tables
        for members in DEMO_FAMILIES:
            family_id = next(self._ids)
            tables.families.append(family_id)
            for person in members:
                file_id = next(self._ids)
                tables.citizen_files[file_id] = CitizenFileRecord(
                    id=file_id,
                    family_id=family_id,
                    adult_in_charge=person.adult_in_charge,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    birth_date=person.birth_date,
                    home_phone=inputs.normalize_phone(person.home_phone) if person.home_phone else None,
                    address=None,
                    card_expires_on=person.card_expires_on,
                )
                tables.card_digests[file_id] = inputs.keyed_digest(self._card_secret, "card", person.card_last6)
                tables.amounts_due.extend(AmountDueRecord(file_id, cents) for cents in person.amounts_cents)
                tables.registrations.extend(
                    RegistrationRecord(file_id, activity, None, status) for activity, status in person.registrations
                )
                if person.email is not None:
                    account_id = next(self._ids)
                    tables.accounts[account_id] = AccountRecord(account_id, person.first_name, person.email_confirmed)
                    tables.email_keys[inputs.email_key(person.email) or ""] = account_id

    def row_counts(self) -> dict[str, int]:
        """Rows per table, named like the SQL tables (see conftest.row_counts)."""
        tables = self.tables
        return {
            "families": len(tables.families),
            "citizen_files": len(tables.citizen_files),
            "accounts": len(tables.accounts),
            "confirmation_requests": len(tables.confirmation_requests),
            "attempts": len(tables.attempts),
            "registrations": len(tables.registrations),
            "amounts_due": len(tables.amounts_due),
        }

    def dump(self) -> str:
        """Everything stored, as text (to prove what is never stored in clear)."""
        return repr(self.tables)

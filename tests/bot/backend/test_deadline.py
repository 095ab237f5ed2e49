"""No write is committed past the deadline of the action call (bot/deadline.py): on every adapter, nothing is
linked, recorded or asked for once Rasa has stopped waiting; before it, the write lands as usual."""
from __future__ import annotations

import sqlite3
import threading
import time
from datetime import date

import pytest

from bot import deadline
from bot.backend.api import AccountState, BackendUnavailable, IdentifyOutcome, LinkResult, ResendResult
from bot.backend.sql_store import SqlAlchemyStore
from bot.backend.storage import AccountStore

MARIE_EMAIL = "marie.tremblay@example.com"
JEAN_EMAIL = "jean.gagnon@example.com"


def passed() -> deadline.Deadline:
    return deadline.Deadline(time.monotonic() - 0.01)


def ahead() -> deadline.Deadline:
    return deadline.Deadline(time.monotonic() + 60)


def attempts(store: AccountStore) -> int:
    """Linking and identification attempts recorded, whatever the adapter."""
    if isinstance(store, SqlAlchemyStore):
        with store.engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT COUNT(*) FROM attempts").scalar_one())
    return len(store.tables.attempts)  # type: ignore[attr-defined] - the in-memory adapter


def test_a_link_past_the_deadline_is_not_committed(backend, store, demo):
    with deadline.within(passed()) as current, pytest.raises(BackendUnavailable) as raised:
        backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12", conversation_id="c1")
    assert raised.value.cause == "deadline"
    assert current is not None and current.missed
    assert not backend.account_status(MARIE_EMAIL).linked  # nothing linked afterwards
    assert attempts(store) == 0  # nor the attempt recorded


def test_a_link_before_the_deadline_is_committed(backend, store, demo):
    with deadline.within(ahead()) as current:
        assert backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12") is LinkResult.LINKED
    assert current is not None and not current.missed
    assert backend.account_status(MARIE_EMAIL).linked
    assert attempts(store) == 1


def test_a_confirmation_email_past_the_deadline_is_not_asked_for(backend):
    with deadline.within(passed()), pytest.raises(BackendUnavailable):
        backend.resend_confirmation(JEAN_EMAIL)
    for _ in range(3):  # the refused request did not count towards the 3 an hour
        assert backend.resend_confirmation(JEAN_EMAIL) is ResendResult.SENT
    assert backend.resend_confirmation(JEAN_EMAIL) is ResendResult.RATE_LIMITED


def test_an_identification_past_the_deadline_records_no_attempt(backend, store):
    with deadline.within(passed()), pytest.raises(BackendUnavailable):
        backend.identify("123456", birth_date="1985-03-12", conversation_id="c2")
    assert attempts(store) == 0
    assert backend.identify("123456", birth_date="1985-03-12").outcome is IdentifyOutcome.IDENTIFIED


def test_reads_past_the_deadline_still_answer(backend, demo):
    with deadline.within(passed()) as current:
        assert backend.account_status(JEAN_EMAIL).state is AccountState.UNCONFIRMED
        assert backend.card_expiries(demo.marie_file, date(2026, 11, 26))
    assert current is not None and not current.missed


def test_without_an_action_call_there_is_no_deadline(backend, demo):
    assert deadline.current() is None  # the widget's server, the operators' commands
    assert backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12") is LinkResult.LINKED


def test_a_write_that_waited_on_a_busy_database_past_the_deadline_is_rolled_back(backend, store, demo):
    """The slow action: SQLite's write lock held elsewhere until after the deadline."""
    if not isinstance(store, SqlAlchemyStore) or store.engine.dialect.name != "sqlite":
        pytest.skip("holds SQLite's write lock")
    other = sqlite3.connect(store.engine.url.database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(0.6, lambda: other.execute("ROLLBACK"))
    releaser.start()
    try:
        with deadline.within(deadline.Deadline(time.monotonic() + 0.3)), pytest.raises(BackendUnavailable) as raised:
            backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12")
        assert raised.value.cause == "deadline"  # it waited for the lock, then was refused (not a lock error)
    finally:
        releaser.join()
        other.close()
    assert not backend.account_status(MARIE_EMAIL).linked
    assert attempts(store) == 0

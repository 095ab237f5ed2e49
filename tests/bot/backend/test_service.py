"""AccountService on SQLite, PostgreSQL and in memory: statuses, linking, identification, lock-out, the family file."""
from __future__ import annotations

import logging
import threading
from datetime import date, datetime
from decimal import Decimal

import pytest

from bot.backend.api import (
    AccountBackend,
    AccountState,
    BackendErrorCode,
    BackendUnavailable,
    ExpiryStatus,
    IdentifyOutcome,
    InvalidInput,
    LinkResult,
    RegistrationStatus,
    ResendResult,
)
from bot.backend.db import make_engine
from bot.backend.service import AccountService
from bot.backend.sql_store import SqlAlchemyStore
from bot.settings import get_settings

MARIE_EMAIL = "marie.tremblay@example.com"
JEAN_EMAIL = "jean.gagnon@example.com"

BAD_TEXTS = [
    "",
    "   ",
    "x" * 10_000,
    "1" * 10_000,
    "'; DROP TABLE accounts; --",
    "123456' OR '1'='1",
    "<script>alert('x')</script>",
    "😀😀😀😀😀😀",
    "١٢٣٤٥٦",
    "一二三四五六",
    "Марія",
    "\x00\x01\x02",
]


def test_the_service_implements_the_protocol(backend):
    assert isinstance(backend, AccountBackend)


# --- account status --------------------------------------------------------------------------------


def test_account_status_tells_confirmed_unconfirmed_and_none(backend, demo):
    marie = backend.account_status(MARIE_EMAIL)
    assert (marie.state, marie.account_id, marie.linked, marie.first_name) == (
        AccountState.CONFIRMED, demo.marie_account, False, "Marie")
    jean = backend.account_status(JEAN_EMAIL)
    assert jean.state is AccountState.UNCONFIRMED
    assert backend.account_status("sophie.roy@example.com").state is AccountState.NONE


@pytest.mark.parametrize("email", ["  Marie.Tremblay@EXAMPLE.com ", "MARIE.TREMBLAY@EXAMPLE.COM"])
def test_account_status_ignores_case_and_spaces(backend, email):
    assert backend.account_status(email).state is AccountState.CONFIRMED


@pytest.mark.parametrize("email", [*BAD_TEXTS, None, 42, "marie.tremblay@example.com' OR '1'='1"])
def test_account_status_of_bad_input_is_none_and_writes_nothing(backend, counts, email):
    before = counts()
    assert backend.account_status(email).state is AccountState.NONE
    assert counts() == before


def test_account_by_id(backend, demo):
    assert backend.account(demo.jean_account).state is AccountState.UNCONFIRMED
    assert backend.account(str(demo.marie_account)).account_id == demo.marie_account
    for bad in (0, -1, 2**40, 999_999, "abc", None, True, 1.5, "x" * 10_000):
        assert backend.account(bad).state is AccountState.NONE


# --- confirmation email --------------------------------------------------------------------------------


def test_resend_is_limited_to_three_per_hour(backend, clock):
    assert [backend.resend_confirmation(JEAN_EMAIL) for _ in range(4)] == [
        ResendResult.SENT, ResendResult.SENT, ResendResult.SENT, ResendResult.RATE_LIMITED]
    clock.advance(minutes=59)
    assert backend.resend_confirmation(JEAN_EMAIL) is ResendResult.RATE_LIMITED
    clock.advance(minutes=1, seconds=1)
    assert backend.resend_confirmation("Jean.Gagnon@example.com") is ResendResult.SENT


def test_resend_for_confirmed_or_missing_accounts(backend, counts):
    before = counts()
    assert backend.resend_confirmation(MARIE_EMAIL) is ResendResult.ALREADY_CONFIRMED
    assert backend.resend_confirmation("personne@example.com") is ResendResult.NO_ACCOUNT
    for bad in BAD_TEXTS:
        assert backend.resend_confirmation(bad) is ResendResult.NO_ACCOUNT
    assert counts() == before


# --- linking ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last6", "birth_date", "home_phone"),
    [
        ("123456", date(1985, 3, 12), None),
        ("123 456", "1985-03-12", None),
        (" 123-456 ", " 1985-03-12 ", None),
        ("123456", None, "450 555-0123"),
        ("123456", None, "(450) 555-0123"),
        ("123456", None, "450-555-0123"),
        ("123456", None, "+1 450 555 0123"),
        ("123456", None, "1-450-555-0123"),
        ("123456", None, "4505550123"),
    ],
)
def test_link_card_accepts_what_people_type(backend, demo, last6, birth_date, home_phone):
    result = backend.link_card(demo.marie_account, last6, birth_date=birth_date, home_phone=home_phone)
    assert result is LinkResult.LINKED
    status = backend.account(demo.marie_account)
    assert status.linked and status.file_id == demo.marie_file


def test_a_linked_account_stays_linked(backend, demo):
    assert backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12") is LinkResult.LINKED
    assert backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12") is LinkResult.ALREADY_LINKED
    assert backend.link_card(demo.marie_account, "000000", birth_date="2000-01-01") is LinkResult.ALREADY_LINKED


def test_a_mismatch_never_says_which_value_was_wrong(backend, demo):
    wrong_date = backend.link_card(demo.marie_account, "123456", birth_date="1985-03-13")
    wrong_card = backend.link_card(demo.marie_account, "123457", birth_date="1985-03-12")
    wrong_phone = backend.link_card(demo.marie_account, "123456", home_phone="450 555-0124")
    someone_else = backend.link_card(demo.marie_account, "246810", birth_date="1985-03-12")
    assert wrong_date is wrong_card is wrong_phone is someone_else is LinkResult.MISMATCH
    assert not backend.account(demo.marie_account).linked


def test_a_child_card_is_not_the_adult_in_charge(backend, demo):
    assert backend.link_card(demo.marie_account, "987123", birth_date="2015-06-01") is LinkResult.NOT_ADULT
    assert not backend.account(demo.marie_account).linked


def test_unknown_account(backend):
    assert backend.link_card(999_999, "123456", birth_date="1985-03-12") is LinkResult.NO_SUCH_ACCOUNT
    assert backend.link_card("abc", "123456", birth_date="1985-03-12") is LinkResult.NO_SUCH_ACCOUNT


def test_a_file_links_to_one_account_only(backend, demo):
    assert backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12") is LinkResult.LINKED
    assert backend.link_card(demo.jean_account, "123456", birth_date="1985-03-12") is LinkResult.CARD_IN_USE
    assert backend.link_card(demo.jean_account, "654321", home_phone="450 555-0188") is LinkResult.LINKED


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "birth_date"),
        ({"birth_date": "1985-03-12", "home_phone": "450 555-0123"}, "birth_date"),
        ({"birth_date": "", "home_phone": ""}, "birth_date"),
        ({"birth_date": "12 mars 1985"}, "birth_date"),
        ({"birth_date": "1985-02-30"}, "birth_date"),
        ({"birth_date": 19850312}, "birth_date"),
        ({"home_phone": "555-0123"}, "home_phone"),
        ({"home_phone": "+33 1 23 45 67 89"}, "home_phone"),
    ],
)
def test_link_card_refuses_unusable_second_values_without_writing(backend, demo, counts, kwargs, field):
    before = counts()
    with pytest.raises(InvalidInput) as raised:
        backend.link_card(demo.marie_account, "123456", **kwargs)
    assert raised.value.field == field
    assert raised.value.code.response.startswith("utter_backend_")
    assert counts() == before


@pytest.mark.parametrize("value", [*BAD_TEXTS, None, 123456, "12345", "1234567", "12345a"])
def test_every_operation_survives_bad_input(backend, demo, counts, value):
    before = counts()
    for call in (
        lambda: backend.link_card(demo.marie_account, value, birth_date="1985-03-12"),
        lambda: backend.link_card(demo.marie_account, "123456", birth_date=value),
        lambda: backend.link_card(demo.marie_account, "123456", home_phone=value),
        lambda: backend.identify(value, birth_date="1985-03-12"),
        lambda: backend.identify("123456", birth_date=value),
        lambda: backend.identify("123456", home_phone=value),
    ):
        with pytest.raises(InvalidInput) as raised:
            call()
        assert raised.value.code.response.startswith("utter_backend_")
    assert backend.link_card(value, "123456", birth_date="1985-03-12") is LinkResult.NO_SUCH_ACCOUNT
    assert backend.identify("246810", birth_date="1990-07-21", conversation_id=value).identified
    assert backend.profile(value) is None
    assert backend.card_expiries(value, date(2026, 11, 26)) == ()
    assert backend.amounts_due(value) == ()
    assert backend.registrations(value) == ()
    after = counts()
    assert after.pop("attempts") == before.pop("attempts") + 1
    assert after == before


def test_input_errors_record_no_attempt(backend, demo, counts):
    before = counts()
    for bad in BAD_TEXTS:
        with pytest.raises(InvalidInput):
            backend.link_card(demo.marie_account, bad, birth_date="1985-03-12")
    assert counts() == before


# --- lock-out ---------------------------------------------------------------------------------------


def _fail(backend, account, times, **kwargs):
    for _ in range(times):
        assert backend.link_card(account, "123456", birth_date="1999-01-01", **kwargs) is LinkResult.MISMATCH


def test_five_failures_lock_linking_for_fifteen_minutes(backend, demo, clock):
    for _ in range(5):
        _fail(backend, demo.marie_account, 1)
        clock.advance(minutes=1)
    # Fifth failure at 14:04; refused until 14:19 even with the right values.
    assert backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12") is LinkResult.LOCKED
    clock.advance(minutes=13, seconds=59)
    assert backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12") is LinkResult.LOCKED
    clock.advance(seconds=2)
    assert backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12") is LinkResult.LINKED


def test_refused_attempts_do_not_extend_the_lock(backend, demo, clock):
    _fail(backend, demo.marie_account, 5)
    for _ in range(14):
        clock.advance(minutes=1)
        assert backend.link_card(demo.marie_account, "123456", birth_date="1999-01-01") is LinkResult.LOCKED
    clock.advance(minutes=1, seconds=1)
    assert backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12") is LinkResult.LINKED


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(backend, demo, clock):
    for _ in range(8):
        _fail(backend, demo.marie_account, 1)
        clock.advance(minutes=4)
    assert backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12") is LinkResult.LINKED


def test_four_failures_do_not_lock(backend, demo):
    _fail(backend, demo.marie_account, 4)
    assert backend.link_card(demo.marie_account, "123456", home_phone="450 555-0123") is LinkResult.LINKED


def test_the_lock_holds_per_card_across_accounts_and_the_phone_line(backend, demo):
    for _ in range(3):
        assert backend.link_card(demo.jean_account, "123456", birth_date="1999-01-01") is LinkResult.MISMATCH
    for _ in range(2):
        assert backend.identify("123456", birth_date="1999-01-01").outcome is IdentifyOutcome.MISMATCH
    assert backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12") is LinkResult.LOCKED
    assert backend.identify("123456", birth_date="1985-03-12").outcome is IdentifyOutcome.LOCKED
    assert backend.identify("246810", birth_date="1990-07-21").identified


def test_the_lock_holds_per_conversation_across_cards(backend, clock):
    for card in ("111111", "222222", "333333", "444444", "555555"):
        assert backend.identify(card, birth_date="1990-07-21", conversation_id="call-42").outcome is (
            IdentifyOutcome.MISMATCH)
    assert backend.identify("246810", birth_date="1990-07-21", conversation_id="call-42").outcome is (
        IdentifyOutcome.LOCKED)
    assert backend.identify("246810", birth_date="1990-07-21", conversation_id="call-43").identified
    clock.advance(minutes=15, seconds=1)
    assert backend.identify("246810", birth_date="1990-07-21", conversation_id="call-42").identified


def test_the_lock_holds_per_account_across_cards(backend, demo):
    for card in ("111111", "222222", "333333", "444444", "555555"):
        assert backend.link_card(demo.jean_account, card, birth_date="1979-11-02") is LinkResult.MISMATCH
    assert backend.link_card(demo.jean_account, "654321", birth_date="1979-11-02") is LinkResult.LOCKED


# --- identification on the phone line -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last6", "kwargs", "first_name"),
    [
        ("246810", {"birth_date": "1990-07-21"}, "Sophie"),
        ("246 810", {"home_phone": "(450) 555-0142"}, "Sophie"),
        ("123456", {"birth_date": date(1985, 3, 12)}, "Marie"),
        ("654321", {"home_phone": "450.555.0188"}, "Jean"),
    ],
)
def test_identify_a_caller(backend, last6, kwargs, first_name):
    result = backend.identify(last6, conversation_id="call-1", **kwargs)
    assert result.identified and result.first_name == first_name and result.file_id


def test_identify_mismatch_gives_nothing_away(backend):
    results = {
        backend.identify("246810", birth_date="1990-07-22"),
        backend.identify("246811", birth_date="1990-07-21"),
        backend.identify("246810", home_phone="450 555-0143"),
    }
    assert len(results) == 1
    (result,) = results
    assert result.outcome is IdentifyOutcome.MISMATCH and result.file_id is None and result.first_name is None


# --- the family file ---------------------------------------------------------------------------------


def test_profile_of_the_adult_in_charge_lists_the_family(backend, demo):
    profile = backend.profile(demo.marie_file)
    assert (profile.first_name, profile.last_name, profile.birth_date) == ("Marie", "Tremblay", date(1985, 3, 12))
    assert profile.home_phone == "450 555-0123"
    assert profile.card_expires_on == date(2027, 3, 31)
    assert profile.adult_in_charge
    assert [(m.first_name, m.adult_in_charge) for m in profile.family] == [("Marie", True), ("Léa", False)]


def test_a_child_sees_only_their_own_file(backend, demo):
    profile = backend.profile(demo.lea_file)
    assert [m.first_name for m in profile.family] == ["Léa"]
    assert [e.first_name for e in backend.card_expiries(demo.lea_file, date(2026, 11, 26))] == ["Léa"]
    assert [r.activity for r in backend.registrations(demo.lea_file)] == ["Soccer U12"]
    assert backend.amounts_due(demo.lea_file) == ()


def test_card_expiries_flag_expired_and_expiring_soon(backend, demo):
    today = date(2026, 11, 26)
    statuses = [(e.first_name, e.expires_on, e.status) for e in backend.card_expiries(demo.marie_file, today)]
    assert statuses == [
        ("Marie", date(2027, 3, 31), ExpiryStatus.VALID),
        ("Léa", date(2026, 9, 30), ExpiryStatus.EXPIRED),
    ]
    soon = backend.card_expiries(demo.marie_file, today, soon_before=date(2027, 4, 1))
    assert [e.status for e in soon] == [ExpiryStatus.EXPIRES_SOON, ExpiryStatus.EXPIRED]
    on_the_day = backend.card_expiries(demo.jean_file, date(2026, 12, 15))
    assert on_the_day[0].status is ExpiryStatus.VALID
    assert backend.card_expiries(demo.jean_file, date(2026, 12, 16))[0].status is ExpiryStatus.EXPIRED


def test_card_expiries_default_to_the_configured_registration_date(store, demo):
    service = AccountService(
        store, get_settings().card_hash_secret, registration_date=lambda: date(2027, 1, 12))
    assert backend_statuses(service, demo.jean_file) == [ExpiryStatus.EXPIRES_SOON]
    assert backend_statuses(service, demo.sophie_file) == [ExpiryStatus.VALID]


def backend_statuses(service, file_id):
    return [e.status for e in service.card_expiries(file_id, date(2026, 11, 26))]


def test_amounts_due_and_registrations(backend, demo):
    assert [(a.first_name, a.amount) for a in backend.amounts_due(demo.marie_file)] == [
        ("Marie", Decimal("45.00"))]
    assert [(r.first_name, r.activity, r.status) for r in backend.registrations(demo.marie_file)] == [
        ("Marie", "Natation – Niveau 3", RegistrationStatus.CONFIRMED),
        ("Léa", "Soccer U12", RegistrationStatus.PENDING_PAYMENT),
    ]
    assert backend.amounts_due(demo.sophie_file) == ()
    assert backend.registrations(demo.sophie_file) == ()


def test_unknown_files(backend):
    assert backend.profile(999_999) is None
    assert backend.card_expiries(999_999, date(2026, 11, 26)) == ()
    with pytest.raises(InvalidInput):
        backend.card_expiries(1, "2026-11-26")


# --- privacy, failures, concurrency ---------------------------------------------------------------------


def test_personal_values_never_reach_the_logs(backend, demo, caplog):
    caplog.set_level(logging.DEBUG)
    backend.link_card(demo.marie_account, "123 456", birth_date="1985-03-13", conversation_id="web-7")
    backend.link_card(demo.marie_account, "123456", home_phone="(450) 555-0123", conversation_id="web-7")
    backend.identify("246810", birth_date="1990-07-21")
    for secret in ("123456", "123 456", "1985-03", "555-0123", "5550123", "246810", "1990-07-21", "web-7"):
        assert secret not in caplog.text


def test_card_numbers_are_stored_only_as_keyed_hashes(backend, demo, stored):
    backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12", conversation_id="web-7")
    dump = stored()
    for card in ("123456", "987123", "654321", "246810", "web-7"):
        assert card not in dump


def test_an_unprepared_database_is_a_clear_error(tmp_path):
    service = AccountService(SqlAlchemyStore(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"), "k"), "k")
    with pytest.raises(BackendUnavailable) as raised:
        service.account_status(MARIE_EMAIL)
    assert raised.value.code is BackendErrorCode.UNAVAILABLE
    assert raised.value.code.response == "utter_backend_unavailable"
    assert "unavailable" in raised.value.message


def _race(count, action):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        barrier.wait()
        try:
            results.append(action())
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_concurrent_links_of_one_account_succeed_once(backend, demo):
    results = _race(6, lambda: backend.link_card(demo.marie_account, "123456", birth_date="1985-03-12"))
    assert sorted(r.value for r in results) == ["already_linked"] * 5 + ["linked"]


def test_concurrent_failures_are_not_double_counted(backend, demo, counts):
    _fail(backend, demo.marie_account, 4)
    results = _race(6, lambda: backend.link_card(demo.marie_account, "123456", birth_date="1999-01-01"))
    assert sorted(r.value for r in results) == ["locked"] * 5 + ["mismatch"]
    with backend.store.session() as session:
        assert len(session.failure_times(("account_id", demo.marie_account), since=datetime(2000, 1, 1))) == 5


def test_concurrent_links_of_one_file_from_two_accounts(backend, demo):
    accounts = iter([demo.marie_account, demo.jean_account])
    lock = threading.Lock()

    def link():
        with lock:
            account = next(accounts)
        return backend.link_card(account, "123456", birth_date="1985-03-12")

    results = _race(2, link)
    assert sorted(r.value for r in results) == ["card_in_use", "linked"]


def test_concurrent_identifications_of_one_card_are_not_double_counted(backend, counts):
    for _ in range(4):
        assert backend.identify("246810", birth_date="1999-01-01").outcome is IdentifyOutcome.MISMATCH
    results = _race(6, lambda: backend.identify("246810", birth_date="1999-01-01"))
    assert sorted(r.outcome.value for r in results) == ["locked"] * 5 + ["mismatch"]


def test_concurrent_identifications_in_one_conversation_are_not_double_counted(backend):
    for card in ("111111", "222222", "333333", "444444"):
        backend.identify(card, birth_date="1999-01-01", conversation_id="call-9")
    cards = iter(["500001", "500002", "500003", "500004", "500005", "500006"])
    lock = threading.Lock()

    def attempt():
        with lock:
            card = next(cards)
        return backend.identify(card, birth_date="1999-01-01", conversation_id="call-9")

    results = _race(6, attempt)
    assert sorted(r.outcome.value for r in results) == ["locked"] * 5 + ["mismatch"]

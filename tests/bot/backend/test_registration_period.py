"""The next registration date read from the contact configuration the city edits."""
from __future__ import annotations

from datetime import date

import pytest

from bot.backend.api import ExpiryStatus
from bot.backend.registration_period import next_registration_date
from bot.backend.service import AccountService
from bot.settings import get_settings
from tests.bot.backend.memory_store import InMemoryStore


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("next_registration_date:\n", None),
        ("next_registration_date: ''\n", None),
        ("next_registration_date: 2027-01-12\n", date(2027, 1, 12)),
        ("next_registration_date: '2027-01-12'\n", date(2027, 1, 12)),
        ("other: 1\n", None),
        ("", None),
    ],
)
def test_next_registration_date(tmp_path, line, expected):
    path = tmp_path / "contact.yml"
    path.write_text(line, encoding="utf-8")
    assert next_registration_date(path) == expected


def test_a_missing_file_means_no_date(tmp_path):
    assert next_registration_date(tmp_path / "absent.yml") is None


def test_a_wrong_date_names_the_setting(tmp_path):
    path = tmp_path / "contact.yml"
    path.write_text("next_registration_date: janvier\n", encoding="utf-8")
    with pytest.raises(ValueError, match="next_registration_date"):
        next_registration_date(path)


def _jean_on_november_26(registration_date) -> ExpiryStatus:
    """The status of Jean's card (expires 2026-12-15) on 2026-11-26, as the assistant would say it."""
    store = InMemoryStore(get_settings().card_hash_secret)
    store.seed_demo()
    backend = AccountService(store, get_settings().card_hash_secret, registration_date=registration_date)
    jean = backend.identify("654321", birth_date="1979-11-02").file_id
    (expiry,) = backend.card_expiries(jean, date(2026, 11, 26))
    return expiry.status


def test_the_shipped_configuration_invents_no_registration_date():
    """The help guide gives no registration date: as shipped, no card is said to expire before it."""
    assert next_registration_date() is None
    assert _jean_on_november_26(next_registration_date) is ExpiryStatus.VALID


def test_a_date_the_city_fills_in_flags_the_cards_that_expire_before_it(tmp_path):
    path = tmp_path / "contact.yml"
    path.write_text("next_registration_date: 2027-01-12\n", encoding="utf-8")
    assert _jean_on_november_26(lambda: next_registration_date(path)) is ExpiryStatus.EXPIRES_SOON

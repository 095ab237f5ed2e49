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


def test_the_file_is_parsed_again_only_when_it_changed(tmp_path, monkeypatch):
    """Read on every card-expiry answer: parsed once per version of the file, edits seen at once, even
    edits within the same clock tick (the size or the inode differs) and a file replaced or removed."""
    import os

    import yaml

    from bot.backend import registration_period

    parses: list[str] = []
    real_load = yaml.safe_load
    monkeypatch.setattr(registration_period.yaml, "safe_load", lambda text: parses.append(text) or real_load(text))
    path = tmp_path / "contact.yml"
    path.write_text("next_registration_date: 2027-01-12\n", encoding="utf-8")
    for _ in range(3):
        assert next_registration_date(path) == date(2027, 1, 12)
    assert len(parses) == 1

    stamp = path.stat().st_mtime_ns
    path.write_text("next_registration_date: 2027-01-5\n", encoding="utf-8")  # shorter, same tick
    os.utime(path, ns=(stamp, stamp))
    with pytest.raises(ValueError, match="next_registration_date"):
        next_registration_date(path)
    path.write_text("next_registration_date: 2027-02-01\n", encoding="utf-8")  # same size, later
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))
    assert next_registration_date(path) == date(2027, 2, 1)
    replacement = tmp_path / "new.yml"
    replacement.write_text("next_registration_date: 2027-03-01\n", encoding="utf-8")
    os.utime(replacement, ns=(stamp + 10**9, stamp + 10**9))
    os.replace(replacement, path)  # same size and time, another inode: how editors save
    assert next_registration_date(path) == date(2027, 3, 1)
    assert len(parses) == 4
    path.unlink()
    assert next_registration_date(path) is None
    path.write_text("other: 1\n", encoding="utf-8")
    assert next_registration_date(path) is None

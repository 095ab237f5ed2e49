"""The next registration date read from the contact configuration the city edits."""
from __future__ import annotations

from datetime import date

import pytest

from bot.backend.registration_period import next_registration_date


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


def test_the_shipped_configuration_is_readable():
    next_registration_date()

"""Call-centre directory: opening hours, holidays, registration evenings and the DST changes."""
import os
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from freezegun import freeze_time

from bot.contact import (
    TRANSFER_KEY,
    ContactConfigError,
    ContactWay,
    EveningNow,
    EveningState,
    HoursNow,
    HoursState,
    french_time,
    get_directory,
    load_directory,
    spoken_email,
)
from bot.settings import get_settings
from tests.contact_files import SHIPPED, configured_contact_file

MONTREAL = ZoneInfo("America/Montreal")
UTC = ZoneInfo("UTC")


def at(*args) -> datetime:
    """A moment in Montreal."""
    return datetime(*args, tzinfo=MONTREAL)


@pytest.fixture
def configured(tmp_path) -> Path:
    """The shipped file with hours, a holiday and registration evenings filled in, as the city would."""
    return configured_contact_file(tmp_path)


def test_shipped_file_holds_the_guide_facts():
    directory = load_directory(SHIPPED)
    assert directory.call_centre.spoken == "450 961-2001, poste 4000"
    assert directory.evening_line.spoken == "450 961-8388"
    assert directory.email == "loisirs@ville.terrebonne.qc.ca"
    assert len(directory.in_person) == 2
    assert directory.portal_url.startswith("https://inscriptions.ville.terrebonne.qc.ca/")
    assert not directory.hours_configured
    assert directory.next_registration_date is None


@pytest.mark.parametrize("moment", [at(2026, 11, 26, 10, 0), at(2026, 11, 28, 3, 0), at(2026, 12, 25, 10, 0)])
def test_without_hours_nothing_is_claimed(moment):
    directory = load_directory(SHIPPED)
    assert directory.open_now(moment) is None
    assert directory.next_opening(moment) is None
    assert directory.hours_now(moment) == HoursNow(HoursState.UNKNOWN)
    assert directory.evening_now(moment) == EveningNow(EveningState.FIRST_EVENINGS)


def test_every_way_in_the_guide_and_its_facts():
    directory = load_directory(SHIPPED)
    moment = at(2026, 11, 26, 10, 0)
    assert directory.reach_order(moment) == [
        ContactWay.CALL_CENTRE, ContactWay.EVENING_LINE, ContactWay.EMAIL, ContactWay.IN_PERSON,
    ]
    facts = directory.facts()
    assert facts["call_centre"] == "450 961-2001, poste 4000"
    assert facts["call_centre_name"] == "Direction du loisir et de la vie communautaire"
    assert (facts["evening_start"], facts["evening_end"], facts["evening_line"]) == ("19 h", "20 h 30", "450 961-8388")
    assert facts["city_email"] == "loisirs@ville.terrebonne.qc.ca"
    assert directory.facts(spoken=True)["city_email"] == "loisirs arobase ville point terrebonne point qc point ca"
    assert "940, montée Masson, bureau 102" in facts["in_person"] and "4 bibliothèques" in facts["in_person"]


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (at(2026, 11, 26, 8, 29), False),  # Thursday, before opening
        (at(2026, 11, 26, 8, 30), True),
        (at(2026, 11, 26, 12, 0), False),  # lunch
        (at(2026, 11, 26, 13, 0), True),
        (at(2026, 11, 26, 16, 29), True),
        (at(2026, 11, 26, 16, 30), False),
        (at(2026, 11, 28, 10, 0), False),  # Saturday
        (at(2026, 11, 29, 10, 0), False),  # Sunday
        (at(2026, 12, 25, 10, 0), False),  # Friday, holiday
        (at(2026, 12, 24, 10, 0), True),
    ],
)
def test_open_now(configured, moment, is_open):
    assert load_directory(configured).open_now(moment) is is_open


@pytest.mark.parametrize(
    ("moment", "opening"),
    [
        (at(2026, 11, 26, 7, 0), at(2026, 11, 26, 8, 30)),
        (at(2026, 11, 26, 12, 15), at(2026, 11, 26, 13, 0)),
        (at(2026, 11, 26, 17, 0), at(2026, 11, 27, 8, 30)),
        (at(2026, 11, 27, 17, 0), at(2026, 11, 30, 8, 30)),  # Friday evening -> Monday
        (at(2026, 12, 24, 17, 0), at(2026, 12, 28, 8, 30)),  # over the Christmas holiday and the weekend
        (at(2026, 12, 31, 17, 0), at(2027, 1, 4, 8, 30)),  # over New Year's Day
    ],
)
def test_next_opening_skips_nights_weekends_and_holidays(configured, moment, opening):
    assert load_directory(configured).next_opening(moment) == opening


def test_hours_now_once_hours_are_configured(configured):
    directory = load_directory(configured)
    assert directory.hours_now(at(2026, 11, 26, 10, 0)) == HoursNow(HoursState.OPEN, closes_at="12 h")
    assert directory.hours_now(at(2026, 11, 26, 7, 0)) == HoursNow(
        HoursState.CLOSED, opens_day="aujourd'hui", opens_at="8 h 30"
    )
    assert directory.hours_now(at(2026, 11, 26, 17, 0)) == HoursNow(HoursState.CLOSED, opens_day="demain", opens_at="8 h 30")
    assert directory.hours_now(at(2026, 12, 25, 10, 0)) == HoursNow(
        HoursState.CLOSED, holiday=True, opens_day="lundi 28 décembre", opens_at="8 h 30"
    )
    assert directory.hours_now(at(2026, 11, 27, 17, 0)).opens_day == "lundi 30 novembre"


@pytest.mark.parametrize(
    ("moment", "evening"),
    [
        (at(2027, 1, 12, 18, 59), False),
        (at(2027, 1, 12, 19, 0), True),
        (at(2027, 1, 12, 20, 29), True),
        (at(2027, 1, 12, 20, 30), False),
        (at(2027, 1, 13, 19, 30), False),  # not a configured date
    ],
)
def test_registration_evening(configured, moment, evening):
    directory = load_directory(configured)
    assert directory.is_registration_evening_now(moment) is evening
    expected = {"number": "4509618388"} if evening else {"number": "4509612001", "extension": "4000"}
    assert directory.transfer_instruction(moment) == {TRANSFER_KEY: expected}


def test_during_a_registration_evening_the_evening_line_comes_first(configured):
    directory = load_directory(configured)
    moment = at(2027, 1, 12, 19, 30)
    assert directory.evening_now(moment) == EveningNow(EveningState.TONIGHT)
    assert directory.reach_order(moment)[:2] == [ContactWay.EVENING_LINE, ContactWay.CALL_CENTRE]


def test_upcoming_registration_evenings_are_named(configured):
    assert load_directory(configured).evening_now(at(2026, 11, 26, 10, 0)) == EveningNow(
        EveningState.UPCOMING, days="mardi 12 janvier et dimanche 14 mars"
    )


# Daylight-saving changes in America/Montreal: 2026-11-01 (EDT -> EST) and 2027-03-14 (EST -> EDT).
@pytest.mark.parametrize(
    ("utc_moment", "is_open"),
    [
        (datetime(2026, 10, 30, 12, 45, tzinfo=UTC), True),  # Friday 8:45 EDT
        (datetime(2026, 11, 2, 12, 45, tzinfo=UTC), False),  # Monday 7:45 EST: same UTC time, not yet open
        (datetime(2026, 11, 2, 13, 45, tzinfo=UTC), True),  # Monday 8:45 EST
        (datetime(2027, 3, 12, 13, 15, tzinfo=UTC), False),  # Friday 8:15 EST
        (datetime(2027, 3, 15, 13, 15, tzinfo=UTC), True),  # Monday 9:15 EDT: same UTC time, open
    ],
)
def test_open_now_across_daylight_saving_changes(configured, utc_moment, is_open):
    assert load_directory(configured).open_now(utc_moment) is is_open


def test_next_opening_across_the_autumn_change(configured):
    opening = load_directory(configured).next_opening(at(2026, 10, 30, 17, 0))
    assert opening == at(2026, 11, 2, 8, 30)
    assert opening.astimezone(UTC) == datetime(2026, 11, 2, 13, 30, tzinfo=UTC)


def test_registration_evening_on_the_spring_change_day(configured):
    directory = load_directory(configured)
    # 2027-03-14 23:30 UTC is 19:30 EDT (it would be 18:30 on standard time).
    assert directory.is_registration_evening_now(datetime(2027, 3, 14, 23, 30, tzinfo=UTC))
    assert not directory.is_registration_evening_now(datetime(2027, 3, 14, 22, 30, tzinfo=UTC))


def test_naive_times_are_taken_as_utc(configured):
    assert load_directory(configured).open_now(datetime(2026, 11, 26, 15, 0)) is True  # 10:00 EST


def test_now_follows_the_clock(configured):
    directory = load_directory(configured)
    with freeze_time("2026-11-27 21:30:00"):  # UTC, Friday 16:30 EST
        assert directory.open_now(directory.now()) is False
        assert directory.next_opening(directory.now()) == at(2026, 11, 30, 8, 30)


def test_get_directory_reads_the_configured_path_and_follows_edits(configured, monkeypatch):
    monkeypatch.setenv("BOT_CONTACT_CONFIG", str(configured))
    get_settings.cache_clear()
    try:
        assert get_directory().hours_configured
        raw = yaml.safe_load(configured.read_text(encoding="utf-8"))
        raw["opening_hours"] = {}
        configured.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        stat = configured.stat()
        os.utime(configured, (stat.st_atime, stat.st_mtime + 5))
        assert not get_directory().hours_configured
    finally:
        monkeypatch.delenv("BOT_CONTACT_CONFIG")
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"opening_hours": {"lundi": [["08:30", "16:30"]]}}, "jour inconnu"),
        ({"opening_hours": {"monday": [["8h30", "16:30"]]}}, "heure invalide"),
        ({"opening_hours": {"monday": [["16:30", "08:30"]]}}, "la fin doit suivre le début"),
        ({"holidays": ["25 décembre"]}, "date invalide"),
        ({"email": None}, "email"),
    ],
)
def test_a_malformed_file_says_where(tmp_path, change, words):
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    raw.update(change)
    if change.get("email", "") is None:
        del raw["email"]
    path = tmp_path / "contact.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContactConfigError, match=words):
        load_directory(path)


def test_spoken_forms():
    assert french_time(time(19, 0)) == "19 h"
    assert french_time(time(8, 30)) == "8 h 30"
    assert spoken_email("loisirs@ville.terrebonne.qc.ca") == "loisirs arobase ville point terrebonne point qc point ca"

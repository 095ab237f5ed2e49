"""How to reach a person, as the citizen reads or hears it: the contact lines rendered from domain.yml."""
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from actions.contact_hours import (
    Line,
    call_centre_lines,
    escalation_lines,
    evening_line,
    hours_line,
    hours_response,
)
from bot.contact import HoursNow, HoursState, load_directory
from tests.contact_files import SHIPPED, configured_contact_file
from tests.responses import PHONE, WEB, render


def at(*args) -> datetime:
    """A moment in Montreal."""
    return datetime(*args, tzinfo=ZoneInfo("America/Montreal"))


def said(lines: list[Line], channel: str = WEB) -> list[str]:
    return [render(line.response, channel, **line.variables) for line in lines]


@pytest.fixture
def configured(tmp_path) -> Path:
    """The shipped file with hours, a holiday and registration evenings filled in, as the city would."""
    return configured_contact_file(tmp_path)


@pytest.mark.parametrize("moment", [at(2026, 11, 26, 10, 0), at(2026, 11, 28, 3, 0), at(2026, 12, 25, 10, 0)])
def test_without_hours_nothing_is_claimed(moment):
    directory = load_directory(SHIPPED)
    assert said(call_centre_lines(directory, moment)) == [
        "Centre d'appels : Direction du loisir et de la vie communautaire au 450 961-2001, poste 4000, "
        "pendant nos heures d'ouverture."
    ]
    text = " ".join(said(escalation_lines(directory, moment)))
    assert "ouvert" not in text.replace("ouverture", "")
    assert "fermé" not in text


def test_escalation_lines_give_every_way_in_the_guide():
    lines = said(escalation_lines(load_directory(SHIPPED), at(2026, 11, 26, 10, 0)))
    assert lines[0].startswith("Centre d'appels")
    assert "19 h à 20 h 30" in lines[1] and "450 961-8388" in lines[1]
    assert lines[2] == "Par courriel : loisirs@ville.terrebonne.qc.ca."
    assert "940, montée Masson, bureau 102" in lines[3] and "4 bibliothèques" in lines[3]


def test_on_the_phone_line_the_email_is_spelled():
    lines = said(escalation_lines(load_directory(SHIPPED), at(2026, 11, 26, 10, 0), spoken=True), PHONE)
    assert "Par courriel : loisirs arobase ville point terrebonne point qc point ca." in lines
    assert not any("@" in line for line in lines)


def test_phrases_once_hours_are_configured(configured):
    directory = load_directory(configured)

    def hours(moment: datetime) -> str:
        return said([hours_line(directory, moment)])[0]

    assert hours(at(2026, 11, 26, 10, 0)) == "Le centre d'appels est ouvert en ce moment, jusqu'à 12 h."
    assert hours(at(2026, 11, 26, 7, 0)) == "Le centre d'appels est fermé en ce moment ; il ouvre aujourd'hui à 8 h 30."
    assert hours(at(2026, 11, 26, 17, 0)) == "Le centre d'appels est fermé en ce moment ; il ouvre demain à 8 h 30."
    assert hours(at(2026, 12, 25, 10, 0)) == (
        "Le centre d'appels est fermé en ce moment (jour férié) ; il ouvre lundi 28 décembre à 8 h 30."
    )
    call = " ".join(said(call_centre_lines(directory, at(2026, 11, 27, 17, 0))))
    assert call.endswith("poste 4000. Le centre d'appels est fermé en ce moment ; il ouvre lundi 30 novembre à 8 h 30.")


def test_during_a_registration_evening_the_evening_line_comes_first(configured):
    lines = said(escalation_lines(load_directory(configured), at(2027, 1, 12, 19, 30)))
    assert lines[0] == "Ce soir, soirée d'inscriptions : joignez-nous de 19 h à 20 h 30 au 450 961-8388."
    assert lines[1].startswith("Centre d'appels")


def test_upcoming_registration_evenings_are_named(configured):
    phrase = said([evening_line(load_directory(configured), at(2026, 11, 26, 10, 0))])[0]
    assert phrase == (
        "Exceptionnellement, lors des soirées d'inscriptions (mardi 12 janvier et dimanche 14 mars), "
        "de 19 h à 20 h 30, joignez-nous au 450 961-8388."
    )


@pytest.mark.parametrize(
    ("hours", "sentence"),
    [
        (HoursNow(HoursState.UNKNOWN), "Le centre d'appels vous répond pendant nos heures d'ouverture."),
        (HoursNow(HoursState.CLOSED), "Le centre d'appels est fermé en ce moment."),
        (HoursNow(HoursState.CLOSED, holiday=True), "Le centre d'appels est fermé en ce moment (jour férié)."),
    ],
)
def test_hours_without_a_next_opening(hours, sentence):
    assert said([hours_response(hours)]) == [sentence]

"""The one decision of the phone transfer, and the phone channel's handoff request (bot/handoff.py)."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.contact import load_directory
from bot.contract import HandoffReason
from bot.handoff import handoff_request, phone_transfer, requested_reason
from bot.settings import PROJECT_ROOT

MONTREAL = ZoneInfo("America/Montreal")
CALL_CENTRE = {"transfer": {"number": "4509612001", "extension": "4000"}}
EVENING_LINE = {"transfer": {"number": "4509618388"}}


def directory(tmp_path, **changes):
    """The shipped contact file with ``changes``, as the city would edit it."""
    raw = yaml.safe_load((PROJECT_ROOT / "config" / "contact.yml").read_text(encoding="utf-8"))
    raw.update(changes)
    path = tmp_path / "contact.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_directory(path)


WEEKDAYS = {day: [["08:30", "16:30"]] for day in ["monday", "tuesday", "wednesday", "thursday", "friday"]}
EVENING = {"phone": "450 961-8388", "start": "19:00", "end": "20:30", "dates": ["2026-11-26"]}


def test_without_configured_hours_nothing_is_known_closed_so_the_call_is_transferred(tmp_path):
    assert phone_transfer(directory(tmp_path), datetime(2026, 11, 29, 3, 0, tzinfo=MONTREAL)) == CALL_CENTRE


def test_open_hours_transfer_and_closed_hours_do_not(tmp_path):
    contacts = directory(tmp_path, opening_hours=WEEKDAYS)
    assert phone_transfer(contacts, datetime(2026, 11, 26, 10, 0, tzinfo=MONTREAL)) == CALL_CENTRE
    assert phone_transfer(contacts, datetime(2026, 11, 27, 18, 0, tzinfo=MONTREAL)) is None
    assert phone_transfer(contacts, datetime(2026, 11, 28, 10, 0, tzinfo=MONTREAL)) is None  # Saturday


def test_a_registration_evening_transfers_to_the_evening_line_even_after_hours(tmp_path):
    contacts = directory(tmp_path, opening_hours=WEEKDAYS, registration_evening_line=EVENING)
    assert phone_transfer(contacts, datetime(2026, 11, 26, 19, 30, tzinfo=MONTREAL)) == EVENING_LINE
    assert phone_transfer(contacts, datetime(2026, 11, 26, 20, 45, tzinfo=MONTREAL)) is None


@pytest.mark.parametrize("reason", [HandoffReason.UNCLEAR_SPEECH, HandoffReason.SILENCE])
def test_the_phone_channels_request_carries_its_reason_back(reason):
    request = handoff_request(reason)
    assert request.text == "/phone_handoff"
    assert requested_reason(request.metadata, on_the_phone=True) is reason


def test_only_the_phone_line_and_only_its_own_reasons_count():
    request = handoff_request(HandoffReason.SILENCE)
    assert requested_reason(request.metadata, on_the_phone=False) is None
    assert requested_reason({"phone_handoff_reason": "locked"}, on_the_phone=True) is None
    assert requested_reason({"phone_handoff_reason": "n'importe quoi"}, on_the_phone=True) is None
    assert requested_reason(None, on_the_phone=True) is None
    with pytest.raises(ValueError, match="does not hand off"):
        handoff_request(HandoffReason.LOCKED)

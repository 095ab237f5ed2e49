"""Identification belongs to the client that identified: keys, bindings, idle time, personal answers."""
from __future__ import annotations

import time

import pytest

from bot.privacy import redact_event
from bot.session import (
    CLIENT_SESSION_KEY,
    PERSONAL_ANSWER,
    PERSONAL_ANSWER_PLACEHOLDER,
    identification_value,
    identified_file_id,
    idle_expired,
    issue_client_session,
    verify_client_session,
)
from bot.settings import get_settings
from tests.actions.trackers import make_tracker

SID = "0123456789abcdef0123456789abcdef"


def identified_then_asked(file_id, *, at_identification, now, later=(), sender_id=SID):
    """A tracker as the action server gets it: identified from one client, then asked from ``now``'s."""
    channel_then, metadata_then = at_identification
    value = identification_value(make_tracker("", channel=channel_then, metadata=metadata_then, sender_id=sender_id),
                                 file_id)
    started = time.time() - 120
    events = [{"event": "slot", "name": "identified_file_id", "value": value, "timestamp": started}]
    events += [{"event": "user", "text": "x", "timestamp": started + offset} for offset in later]
    channel_now, metadata_now = now
    return make_tracker("", slots={"identified_file_id": value}, channel=channel_now, metadata=metadata_now,
                        sender_id=sender_id, events=events)


def test_a_key_is_valid_for_its_conversation_only():
    key = issue_client_session(SID)
    assert verify_client_session(key, SID)
    assert verify_client_session(key, "f" * 32) is None
    assert verify_client_session(key[:-2] + "00", SID) is None  # signature altered
    assert verify_client_session(key.replace(".", ".x", 1), SID) is None
    assert verify_client_session(None, SID) is None


def test_a_key_signed_with_another_secret_or_too_old_is_refused(monkeypatch):
    old = issue_client_session(SID, now=time.time() - 13 * 3600)
    assert verify_client_session(old, SID) is None
    key = issue_client_session(SID)
    monkeypatch.setenv("BOT_SESSION_SECRET", "another-secret-of-another-city")
    get_settings.cache_clear()
    try:
        assert verify_client_session(key, SID) is None
    finally:
        get_settings.cache_clear()


def test_the_same_web_client_keeps_its_identification():
    key = {CLIENT_SESSION_KEY: issue_client_session(SID)}
    tracker = identified_then_asked(7, at_identification=("rest", key), now=("rest", key), later=(30, 60))
    assert identified_file_id(tracker) == 7


@pytest.mark.parametrize("second_client", [
    ("rest", None),                                                   # no key at all
    ("socketio", {CLIENT_SESSION_KEY: issue_client_session(SID)}),   # a fresh key for the same id
    ("rest", {CLIENT_SESSION_KEY: f"v1.{SID}.forgedforgedforged.1.abc"}),
    ("ivr", None),                                                   # the web id replayed on the phone line
])
def test_a_second_client_with_the_same_conversation_id_gets_nothing(second_client):
    key = {CLIENT_SESSION_KEY: issue_client_session(SID)}
    tracker = identified_then_asked(7, at_identification=("rest", key), now=second_client)
    assert identified_file_id(tracker) is None


def test_the_phone_line_is_bound_to_the_call_and_the_web_cannot_reuse_it():
    assert identified_file_id(identified_then_asked(7, at_identification=("ivr", None), now=("ivr", None))) == 7
    assert identified_file_id(identified_then_asked(7, at_identification=("ivr", None), now=("rest", None))) is None


def test_identification_without_anything_binding_the_client_serves_no_later_turn():
    tracker = identified_then_asked(7, at_identification=("rest", None), now=("rest", None))
    assert identified_file_id(tracker) is None


def test_identification_ends_after_the_idle_time(monkeypatch):
    monkeypatch.setenv("BOT_IDENTIFICATION_IDLE_MINUTES", "1")
    get_settings.cache_clear()
    try:
        key = {CLIENT_SESSION_KEY: issue_client_session(SID)}
        # Identified 2 minutes ago, silent since: over the 1-minute idle limit.
        assert identified_file_id(identified_then_asked(7, at_identification=("rest", key), now=("rest", key))) is None
        # A message every 40 s since: still active, even though it started 2 minutes ago.
        assert identified_file_id(
            identified_then_asked(7, at_identification=("rest", key), now=("rest", key), later=(40, 80, 100))
        ) == 7
        # One long silence in the middle is enough: later messages do not bring it back.
        assert identified_file_id(
            identified_then_asked(7, at_identification=("rest", key), now=("rest", key), later=(90, 110))
        ) is None
    finally:
        get_settings.cache_clear()


def test_no_identification_event_counts_as_expired():
    assert idle_expired([{"event": "user", "timestamp": time.time()}])
    assert idle_expired([{"event": "slot", "name": "identified_file_id", "value": None, "timestamp": time.time()}])


def test_a_personal_answer_is_stored_as_a_placeholder_without_its_variables():
    event = {
        "event": "bot", "text": "Montants dus :\n- Marie : 45,00 $", "timestamp": 1.0,
        "data": {"buttons": [{"title": "Oui", "payload": "/affirm"}], "custom": None},
        "metadata": {**PERSONAL_ANSWER, "utter_action": "utter_amounts_due", "amounts": "Marie : 45,00 $"},
    }
    stored = redact_event(event)
    assert stored["text"] == PERSONAL_ANSWER_PLACEHOLDER
    assert "Marie" not in str(stored) and "45,00" not in str(stored)
    assert stored["data"]["buttons"] == event["data"]["buttons"]
    assert stored["metadata"]["utter_action"] == "utter_amounts_due"


def test_other_bot_answers_and_the_client_key_are_stored_as_before():
    answer = {"event": "bot", "text": "Allez dans Mon profil.", "metadata": {}, "data": {}}
    assert redact_event(answer)["text"] == "Allez dans Mon profil."
    user = {"event": "user", "text": "bonjour", "metadata": {CLIENT_SESSION_KEY: issue_client_session(SID)},
            "parse_data": {"intent": {"name": "greet"}}}
    assert redact_event(user)["metadata"][CLIENT_SESSION_KEY] == "[jeton]"


def test_rasa_never_prints_a_personal_answer_in_its_logs():
    from rasa.shared.core.events import BotUttered

    from bot.session import install_personal_answer_log_masking

    install_personal_answer_log_masking()
    personal = BotUttered("Montants dus :\n- Marie : 45,00 $", {"buttons": None}, {**PERSONAL_ANSWER, "x": "Marie"}, 1.0)
    for shown in (repr(personal), str(personal), repr([personal])):
        assert "Marie" not in shown and "45,00" not in shown and PERSONAL_ANSWER_PLACEHOLDER in shown
    assert personal.text.endswith("45,00 $")  # the event itself, sent to the citizen, is untouched
    assert "Allez dans Mon profil." in repr(BotUttered("Allez dans Mon profil.", {}, {}, 1.0))

"""Our fixes to Rasa's slow paths: same answers, same errors, less work (bot/rasa_speedups.py)."""
from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event

from bot import rasa_speedups
from bot.settings import PROJECT_ROOT


def test_a_valid_action_answer_passes_and_a_broken_one_is_refused_with_rasa_s_explanation():
    rasa_speedups.apply()
    action = RemoteAction("action_amount_due", None)
    good = {"events": [{"event": "slot", "name": "identification_offered", "value": True}],
            "responses": [{"text": "Bonjour"}]}
    assert action._validate_action_result(good) is True
    for bad in ({"events": "pas une liste"}, {"events": [{"name": "sans type"}]}, {"responses": [42]}):
        with pytest.raises(jsonschema.ValidationError) as refused:
            action._validate_action_result(bad)
        assert "Failed to validate Action server response" in refused.value.message
        with pytest.raises(jsonschema.ValidationError):  # what Rasa's own check says of it
            jsonschema.validate(bad, RemoteAction.action_response_format_spec())


def test_stored_events_come_back_as_the_same_kinds_of_event():
    rasa_speedups.apply()
    stored = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "bonjour", "parse_data": {"intent": {"name": "greet", "confidence": 1.0}}},
        {"event": "slot", "name": "email", "value": None},
        {"event": "bot", "text": "Bonjour!"},
        {"event": "session_started"},
        {"event": "active_loop", "name": "identify_form"},
        {"event": "followup", "name": "identify_form"},
    ]
    for _ in range(2):  # the second time from what was remembered
        assert [type(event).__name__ for event in events_from(stored)] == [
            "ActionExecuted", "UserUttered", "SlotSet", "BotUttered", "SessionStarted", "ActiveLoop", "FollowupAction"]
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("not_an_event")
    assert Event.resolve_by_type("not_an_event", default=ActionExecuted) is ActionExecuted
    assert Event.resolve_by_type("topic") is None


def events_from(stored: list[dict]) -> list[Event]:
    return [Event.from_parameters(dict(event)) for event in stored]


def test_whether_a_domain_is_empty_is_rasa_s_answer():
    rasa_speedups.apply()
    assert Domain.is_empty.__module__ == "bot.rasa_speedups"
    project = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    for domain in (Domain.empty(), Domain.from_dict({}), project, Domain.from_dict({"intents": ["greet"]})):
        for _ in range(2):  # the second time from the dictionary built once
            assert domain.is_empty() == (domain.as_dict() == Domain.from_dict({}).as_dict())
    assert Domain.empty().is_empty() and not project.is_empty()
    assert rasa_speedups.empty_domain_dict() == Domain.from_dict({}).as_dict()

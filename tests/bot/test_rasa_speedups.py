"""Our fixes to Rasa's slow paths: same answers, same errors, less work (bot/rasa_speedups.py)."""
from __future__ import annotations

import ast
import inspect
import logging

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, Event

from bot import rasa_speedups


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


def test_rasa_deep_copies_only_what_its_debug_lines_will_write(caplog):
    rasa_speedups.apply()
    events = [ActionExecuted("action_listen")]
    for module in rasa_speedups.DEBUG_COPY_MODULES:
        with caplog.at_level(logging.INFO, logger=module.__name__):
            assert module.copy.deepcopy(events) is events  # the debug line is dropped: nothing to copy
        with caplog.at_level(logging.DEBUG, logger=module.__name__):
            copied = module.copy.deepcopy(events)
            assert copied == events and copied is not events and copied[0] is not events[0]
        assert module.copy.copy(events) is not events  # the rest of the copy module is the real one


@pytest.mark.parametrize("module", rasa_speedups.DEBUG_COPY_MODULES, ids=lambda module: module.__name__)
def test_every_deep_copy_of_those_rasa_modules_is_an_argument_of_a_debug_line(module):
    tree = ast.parse(inspect.getsource(module))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    deep_copies = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
                   and ast.unparse(node.func) == "copy.deepcopy"]
    assert deep_copies
    for call in deep_copies:
        node = call
        while not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                   and node.func.attr == "debug"):
            node = parents.get(node)
            assert node is not None and not isinstance(node, ast.stmt), (
                f"{module.__name__} line {call.lineno}: a deep copy that is not only for a debug line")

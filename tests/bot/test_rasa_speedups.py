"""Our fixes to Rasa's slow paths: same answers, same errors, less work (bot/rasa_speedups.py)."""
from __future__ import annotations

import ast
import inspect
import json
import logging

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


def sdk_answers() -> list[dict]:
    """Answers as the Rasa SDK builds them: every event type it has, with the project's kinds of responses."""
    from datetime import datetime

    from rasa_sdk import events as sdk

    every_event = [
        sdk.SlotSet("form_card_digits", "123456"), sdk.SlotSet("identified", True), sdk.SlotSet("x", None),
        sdk.SlotSet("files", [{"name": "Sophie", "expires": "2028-01-31"}]), sdk.AllSlotsReset(),
        sdk.ActiveLoop("identify_form"), sdk.ActiveLoop(None), sdk.FollowupAction("action_listen"),
        sdk.ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0), sdk.ActionReverted(),
        sdk.ActionExecutionRejected("identify_form"), sdk.UserUtteranceReverted(), sdk.Restarted(),
        sdk.SessionStarted(), sdk.ConversationPaused(), sdk.ConversationResumed(), sdk.StoryExported(),
        sdk.BotUttered("Bonjour", {"buttons": []}), sdk.AgentUttered("Bonjour"),
        sdk.UserUttered("bonjour", {"intent": {"name": "greet", "confidence": 0.9}, "entities": [],
                                   "intent_ranking": [{"name": "greet", "confidence": 0.9}]}),
        sdk.ReminderScheduled("EXTERNAL_reminder", datetime(2026, 12, 1, 10, 0)),
        sdk.ReminderCancelled("reminder"), sdk.Form("identify_form"), sdk.FormValidation(False),
        sdk.LoopInterrupted(True),
    ]
    responses = [
        {"text": None, "buttons": [], "elements": [], "custom": {}, "template": None, "response": "utter_greet",
         "image": None, "attachment": None},
        {"text": "Sophie : carte valide jusqu'au 31 janvier 2028.", "buttons": [{"title": "Oui", "payload": "/affirm"}],
         "elements": [], "custom": {"ivr": {"type": "transfer"}}, "template": None, "response": None,
         "image": None, "attachment": None},
    ]
    return [{"events": every_event, "responses": responses}, {"events": [], "responses": []}, {},
            *({"events": [event], "responses": responses[:1]} for event in every_event)]


def broken_variants(answer: dict) -> list:
    """The answer with one thing changed: types, missing or extra keys, other event names."""
    import copy

    odd_values = [None, 3, 2.5, True, "texte", [], {}, [1], {"a": 1}]
    variants: list = [None, [], "texte", {"events": None}, {"events": {}}, {"responses": [42]},
                      {"responses": {}}, {"events": [42]}, {"events": [{}]}, {"events": [{"event": 3}]}]
    for i, event in enumerate(answer.get("events", [])):
        for key in [*event, "value", "name", "parse_data", "entities", "timestamp", "metadata", "event"]:
            for value in odd_values + ["slot", "user", "bot", "inconnu"]:
                changed = copy.deepcopy(answer)
                changed["events"][i] = {**event, key: value}
                variants.append(changed)
            if key in event:
                changed = copy.deepcopy(answer)
                del changed["events"][i][key]
                variants.append(changed)
    return variants


def test_a_valid_answer_is_recognised_without_the_one_of_exactly_when_jsonschema_says_it_is_valid():
    """`ActionResponseCheck` gives jsonschema's verdict on the whole schema, on hundreds of answers."""
    check = rasa_speedups.action_response_check()
    assert check.usable
    full = rasa_speedups.action_response_validator()
    answers = [a for answer in sdk_answers() for a in (answer, *broken_variants(answer)) if len(answer.get("events", [])) < 2]
    answers.append(sdk_answers()[0])
    verdicts = [(full.is_valid(answer), check.is_valid(answer)) for answer in answers]
    assert [mine for _, mine in verdicts] == [theirs for theirs, _ in verdicts]
    assert sum(theirs for theirs, _ in verdicts) > 100 and sum(not theirs for theirs, _ in verdicts) > 100


def test_a_broken_answer_raises_the_error_rasa_s_own_check_raises():
    # Rasa's own check costs 40 ms an answer (it checks the schema each time): one variant in 50.
    answers = [a for answer in sdk_answers()[1:] for a in broken_variants(answer)][::50]
    compared = 0
    for answer in answers:
        results = []
        for validate in (rasas_validation, rasa_speedups._validate_action_result):
            try:
                results.append(validate(RemoteAction("action_card_expiry", None), answer))
            except jsonschema.ValidationError as error:
                results.append((error.message, list(error.absolute_path), error.validator))
        assert results[0] == results[1]
        compared += results[0] is not True
    assert compared > 20


def rasas_validation(self: RemoteAction, result: dict) -> bool:
    """Rasa 3.6.21's own `RemoteAction._validate_action_result`, as it is in its source."""
    from rasa.shared.constants import DOCS_BASE_URL

    try:
        jsonschema.validate(result, self.action_response_format_spec())
        return True
    except jsonschema.ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            "For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


def test_whether_a_domain_is_empty_is_rasa_s_answer():
    rasa_speedups.apply()
    assert Domain.is_empty.__module__ == "bot.rasa_speedups"
    project = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    for domain in (Domain.empty(), Domain.from_dict({}), project, Domain.from_dict({"intents": ["greet"]})):
        for _ in range(2):  # the second time from the dictionary built once
            assert domain.is_empty() == (domain.as_dict() == Domain.from_dict({}).as_dict())
    assert Domain.empty().is_empty() and not project.is_empty()
    assert rasa_speedups.empty_domain_dict() == Domain.from_dict({}).as_dict()


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    from bot import rasa_compat
    from bot.tools.evaluation import trained_model

    assert rasa_compat.apply()
    return Agent.load(str(PROJECT_ROOT / trained_model()))


def test_the_rules_found_for_every_prediction_of_the_test_conversations_are_rasas(agent):
    """Every rule lookup of the citizen-led conversations and test stories, ours against Rasa's own walk."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from rasa.core.policies.rule_policy import RulePolicy

    from tests.bot.test_graph_runner import conversations

    assert RulePolicy._get_possible_keys is rasa_speedups._get_possible_keys
    calls = {"all": 0, "found": 0, "past_the_longest_rule": 0}

    def checked(self, lookup, states):
        ours = rasa_speedups._get_possible_keys(self, lookup, states)
        assert ours == rasa_speedups._RASA_GET_POSSIBLE_KEYS(self, lookup, states)
        calls["all"] += 1
        calls["found"] += bool(ours)
        longest = max((len(json.loads(key)) for key in lookup), default=0)
        calls["past_the_longest_rule"] += len(states) > longest
        return ours

    async def play() -> None:
        for number, texts in enumerate(conversations()):
            for text in texts:
                await agent.handle_text(text, sender_id=f"rules-{number}")

    RulePolicy._get_possible_keys = checked
    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, play()).result()
    finally:
        RulePolicy._get_possible_keys = rasa_speedups._get_possible_keys
    assert calls["all"] >= 600 and calls["found"] >= 300 and calls["past_the_longest_rule"] >= 300, calls


def test_a_rule_added_to_a_lookup_is_seen_at_the_next_walk():
    from rasa.core.policies.rule_policy import RulePolicy

    greet = {"user": {"intent": "greet"}, "prev_action": {"action_name": "action_listen"}}
    goodbye = {"user": {"intent": "goodbye"}, "prev_action": {"action_name": "action_listen"}}
    lookup = {json.dumps([goodbye]): "utter_goodbye"}
    states = [{}, greet]
    policy = object.__new__(RulePolicy)
    assert rasa_speedups._get_possible_keys(policy, lookup, states) == set()
    assert rasa_speedups._RASA_GET_POSSIBLE_KEYS(policy, lookup, states) == set()
    lookup[json.dumps([greet])] = "utter_greet"
    assert rasa_speedups._get_possible_keys(policy, lookup, states) == {json.dumps([greet])}
    assert rasa_speedups._RASA_GET_POSSIBLE_KEYS(policy, lookup, states) == {json.dumps([greet])}

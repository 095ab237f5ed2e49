"""Our graph runner and shared prediction states against Rasa's own (bot/graph_runner.py,
bot/prediction_states.py): the same parses, the same predictions, the same states, the same errors."""
from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import yaml
from rasa.core.agent import Agent
from rasa.engine.exceptions import GraphComponentException, GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from bot import prediction_states, rasa_compat
from bot.graph_runner import PlannedGraphRunner
from bot.settings import PROJECT_ROOT
from bot.tools.evaluation import trained_model


def conversations() -> list[list[str]]:
    """The user messages of every citizen-led conversation and of every test story, one list per conversation."""
    played = []
    for path in sorted((PROJECT_ROOT / "tests" / "conversations").glob("*.yml")):
        played += [[turn["user"] for turn in c.get("turns", []) if "user" in turn] for c in yaml.safe_load(path.read_text())]
    for path in sorted((PROJECT_ROOT / "tests" / "stories").glob("*.yml")):
        played += [[step["user"].strip() for step in story["steps"] if "user" in step]
                   for story in yaml.safe_load(path.read_text())["stories"]]
    return played


def rasas_runner(ours: PlannedGraphRunner) -> DaskGraphRunner:
    """Rasa's runner over the very same graph nodes."""
    theirs = object.__new__(DaskGraphRunner)
    theirs.__dict__.update({name: value for name, value in vars(ours).items() if name != "_plans"})
    return theirs


def comparable(output: Any) -> Any:
    if isinstance(output, list) and all(isinstance(m, Message) for m in output):
        return [(m.as_dict(), sorted((f.type, f.attribute, f.origin, f.features.shape, f.features.sum())
                                     for f in m.features)) for m in output]
    return vars(output) if hasattr(output, "__dict__") else output


class Shadow:
    """Every run of the processor done by Rasa's runner on a copy of its inputs, then by ours; both compared.
    On each policy run, the tracker's states with the shared replay are compared with Rasa's method."""

    def __init__(self, ours: PlannedGraphRunner, domain: Domain) -> None:
        self.ours, self.theirs, self.domain = ours, rasas_runner(ours), domain
        self.parses = self.predictions = 0
        self.rule_only_data = self.theirs.run(targets=["rule_only_data_provider"])["rule_only_data_provider"]

    def run(self, inputs: dict[str, Any], targets: list[str]) -> dict[str, Any]:
        expected = self.theirs.run(copy.deepcopy(inputs), targets)
        got = self.ours.run(inputs, targets)
        assert list(got) == list(expected)
        for target in got:
            assert comparable(got[target]) == comparable(expected[target]), target
        if "__message__" in inputs:
            self.parses += 1
        else:
            self.predictions += 1
            self.check_states(inputs["__tracker__"])
        return got

    def check_states(self, tracker: DialogueStateTracker) -> None:
        for arguments in ({}, {"ignore_rule_only_turns": True, "rule_only_data": self.rule_only_data},
                          {"ignore_rule_only_turns": True}, {"omit_unset_slots": True}):
            rasas = prediction_states._RASA_STATES_FOR_TRACKER_HISTORY(self.domain, tracker, **arguments)
            with prediction_states.shared():
                first = self.domain.states_for_tracker_history(tracker, **arguments)
                first[-1].clear()  # a policy editing its states changes nothing for the next
                assert self.domain.states_for_tracker_history(tracker, **arguments) == rasas, arguments


@pytest.fixture(scope="module")
def agent() -> Iterator[Agent]:
    assert rasa_compat.apply()
    loaded = Agent.load(str(PROJECT_ROOT / trained_model()))
    yield loaded


def test_the_processor_runs_the_model_with_our_runner(agent):
    assert type(agent.processor.graph_runner) is PlannedGraphRunner
    assert Domain.states_for_tracker_history is prediction_states.states_for_tracker_history


def test_every_parse_and_prediction_of_the_test_conversations_is_rasas(agent, caplog):
    shadow = Shadow(agent.processor.graph_runner, agent.domain)
    agent.processor.graph_runner = shadow

    async def play() -> None:
        for number, texts in enumerate(conversations()):
            for text in texts:
                await agent.handle_text(text, sender_id=f"shadow-{number}")

    try:
        with caplog.at_level(logging.ERROR), ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, play()).result()
    finally:
        agent.processor.graph_runner = shadow.ours
    assert shadow.parses >= 300 and shadow.predictions >= 2 * shadow.parses


def test_the_states_of_a_tracker_are_shared_only_while_it_stays_the_same(agent):
    domain = agent.domain
    tracker = DialogueStateTracker.from_events("states", [
        ActionExecuted("action_listen"),
        UserUttered("bonjour", {"name": "greet", "confidence": 1.0}),
    ], slots=domain.slots)
    other = DialogueStateTracker.from_events("other", [ActionExecuted("action_listen")], slots=domain.slots)
    with prediction_states.shared():
        before = domain.states_for_tracker_history(tracker)
        assert domain.states_for_tracker_history(other) == prediction_states._RASA_STATES_FOR_TRACKER_HISTORY(
            domain, other)
        tracker.update(ActionExecuted("utter_greet"))
        after = domain.states_for_tracker_history(tracker)
    assert before == prediction_states._RASA_STATES_FOR_TRACKER_HISTORY(domain, DialogueStateTracker.from_events(
        "states", list(tracker.events)[:-1], slots=domain.slots))
    assert after == prediction_states._RASA_STATES_FOR_TRACKER_HISTORY(domain, tracker) != before


# A small graph of our own, to hold the runner to Rasa's on the edges: defaults, placeholders, errors.
class Add(GraphComponent):
    @classmethod
    def create(cls, config: dict, model_storage: Any, resource: Any, execution_context: Any) -> Add:
        return cls(config)

    def __init__(self, config: dict) -> None:
        self.config = config

    def run(self, **numbers: Any) -> Any:
        if self.config.get("fails"):
            raise self.config["fails"]("broken")
        return sum(n for n in numbers.values() if isinstance(n, int)) + self.config.get("plus", 0)


def node(needs: dict[str, str], **config: Any) -> SchemaNode:
    return SchemaNode(needs=needs, uses=Add, constructor_name="create", fn="run", config=config, is_target=True)


SCHEMA = GraphSchema({
    "one": node({}, plus=1),
    "two": node({"a": "one"}, plus=1),
    "sum": node({"a": "one", "b": "two", "c": "__input__"}),
    "unresolved": node({"a": "nobody"}, plus=5),
    "runtime": node({"a": "one"}, fails=RuntimeError),  # Rasa's GraphNode wraps it: see the runner fixture
    "value": node({"a": "two"}, fails=ValueError),
})


@pytest.fixture
def runners(tmp_path) -> Iterator[tuple[DaskGraphRunner, PlannedGraphRunner]]:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(SCHEMA, "test")
    pair = (DaskGraphRunner.create(SCHEMA, storage, context), PlannedGraphRunner.create(SCHEMA, storage, context))

    def runtime_error(*_: Any) -> None:  # what reaches the runner raw (a RecursionError, say)
        raise RuntimeError("raw")

    for runner in pair:
        runner._instantiated_nodes["runtime"] = runtime_error  # type: ignore[assignment]
    yield pair


def outcome(runner: DaskGraphRunner, caplog: pytest.LogCaptureFixture, *args: Any) -> Any:
    """What a run returns or raises, and the warnings Rasa's nodes log (a need nobody provides)."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rasa.engine.graph"):
        try:
            result: Any = runner.run(*args)
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            result = type(e), str(e), type(e.__cause__)
    return result, [r.getMessage() for r in caplog.records if r.name == "rasa.engine.graph"]


@pytest.mark.parametrize("args", [
    ({"__input__": 10}, ["sum"]),
    ({"__input__": 10}, ["sum", "__input__", "one"]),
    ({"__input__": 10, "unused": [1]}, ["sum"]),
    ({"one": 40}, ["two"]),  # an input in place of a node
    (None, ["unresolved"]),
    (None, ["sum"]),  # a placeholder nobody gave
    ({"__input__": "two"}, ["sum"]),  # an input clashing with a node's name
    (None, ["runtime"]),
    (None, ["value"]),
    (None, ["missing"]),
    ({"__input__": 1}, None),  # the schema's targets
    ({"__input__": 1}, ["value", "sum"]),
])
def test_on_a_small_graph_our_runner_answers_and_fails_as_rasas(runners, caplog, args):
    rasas, ours = runners
    for _ in range(2):  # planned, then from the plan
        assert outcome(ours, caplog, *args) == outcome(rasas, caplog, *args)
    if args[1] == ["unresolved"]:
        assert outcome(ours, caplog, *args) == ((GraphRunError, (
            "Missing input to run node 'unresolved'. Expected input 'nobody' to provide parameter 'a'."), type(None)), [
            "Node 'nobody' was not resolved, there is no putput. Another component should have provided this as "
            "an output."])


def test_a_failing_node_fails_the_run_as_in_rasa(runners):
    _, ours = runners
    with pytest.raises(GraphRunError, match="Error running runner") as failed:
        ours.run(targets=["runtime"])
    assert isinstance(failed.value.__cause__, RuntimeError)
    with pytest.raises(GraphComponentException, match="Error running graph component for node value"):
        ours.run(targets=["value"])

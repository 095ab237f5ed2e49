"""Every guided flow of the contract, run through the action server's own registry: the personal values
it collected are forgotten however it ends (the person quits, too many invalid answers, submit)."""
from __future__ import annotations

import pytest
from rasa_sdk.executor import ActionExecutor

from bot.contract import FLOWS, FORM_FAILURES_SLOT, Flow
from tests.actions.trackers import make_tracker, slot_events, texts

pytestmark = pytest.mark.usefixtures("demo_db", "frozen")

# A value for each slot of the contract: Jean Gagnon's (demo data), and values matching nobody.
RIGHT = {"form_card_digits": "654321", "form_birth_date_or_phone": "date:1979-11-02", "form_email": "jean.gagnon@example.com"}
WRONG = {"form_card_digits": "999999", "form_birth_date_or_phone": "phone:4505550199", "form_email": "personne@example.com"}
SLOTS = {slot.name for flow in FLOWS for slot in flow.slots}


@pytest.fixture(scope="module")
def executor() -> ActionExecutor:
    """The actions as the action server registers them."""
    registry = ActionExecutor()
    registry.register_package("actions")
    return registry


def filled(flow: Flow, values: dict[str, str]) -> dict[str, object]:
    return {**{slot.name: values[slot.name] for slot in flow.slots}, FORM_FAILURES_SLOT: {flow.slots[0].name: 1}}


def assert_forgotten(flow: Flow, events: list[dict]) -> None:
    slots = slot_events(events)
    for slot in flow.slots:
        assert slot.name in slots and slots[slot.name] is None, f"{flow.form} keeps {slot.name}"
    assert slots[FORM_FAILURES_SLOT] is None


def test_every_slot_of_the_contract_has_test_values():
    assert set(RIGHT) == set(WRONG) == SLOTS


def test_the_action_server_registers_each_flows_validation_and_asks(executor):
    for flow in FLOWS:
        assert {flow.validation, flow.submit} <= set(executor.actions), flow.form
        assert {f"action_ask_{slot.name}" for slot in flow.slots} <= set(executor.actions), flow.form


@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.form)
async def test_quitting_forgets_the_flows_values(flow, executor, dispatcher, domain, token):
    last = flow.slots[-1].name
    tracker = make_tracker(
        "laisse faire", intent="deny", active_loop=flow.form, metadata={"token": token("jean.gagnon@example.com")},
        slots={"requested_slot": last, **filled(flow, RIGHT)},
    )
    events = await executor.actions[flow.validation](dispatcher, tracker, domain)
    assert_forgotten(flow, events)
    assert texts(dispatcher).startswith("D'accord, on arrête là.")


@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.form)
async def test_too_many_invalid_answers_forget_the_flows_values(flow, executor, dispatcher, domain, token):
    last = flow.slots[-1].name
    tracker = make_tracker(
        "rien", intent="inform", active_loop=flow.form, metadata={"token": token("jean.gagnon@example.com")},
        slots={"requested_slot": last, **filled(flow, RIGHT), FORM_FAILURES_SLOT: {last: 2}},
    )
    events = await executor.actions[flow.validation](dispatcher, tracker, domain)
    assert_forgotten(flow, events)
    assert slot_events(events)["handoff_topic"] == flow.topic
    assert "Je n'arrive pas à lire cette information" in texts(dispatcher)


@pytest.mark.parametrize("values", [RIGHT, WRONG], ids=["matching", "not matching"])
@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.form)
async def test_submitting_forgets_the_flows_values(flow, values, executor, dispatcher, domain, token):
    tracker = make_tracker(
        "", intent="inform", metadata={"token": token("jean.gagnon@example.com")}, slots=filled(flow, values)
    )
    events = await executor.actions[flow.submit](dispatcher, tracker, domain)
    assert_forgotten(flow, events)
    assert dispatcher.messages, "the submit said the outcome"

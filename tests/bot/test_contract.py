"""The conversation contract: each guided flow declared once, and domain.yml, the rules, the privacy layer
and the report agreeing with it."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import sqlalchemy as sa
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot import contract
from bot.analytics.render import flow_label
from bot.contract import (
    ANOTHER_TRIES,
    ANOTHER_TRY_SLOT,
    DETAIL_SLOTS,
    FLOWS,
    FORM_FAILURES_SLOT,
    FORM_PROMPTED_SLOT,
    FORM_STOPPED_RESPONSE,
    FORM_TOO_MANY_FAILURES_RESPONSE,
    Flow,
    Kind,
)
from bot.policy.parsed import HINT_PREFIX
from bot.privacy import redact_event, redact_slot_value, slot_kind
from bot.settings import PROJECT_ROOT
from bot.tracker_store import InMemorySlotVault, RedactingSQLTrackerStore

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
RULES = yaml.safe_load((PROJECT_ROOT / "data" / "rules_flows.yml").read_text(encoding="utf-8"))["rules"]
SLOTS = [slot for flow in FLOWS for slot in flow.slots]


@pytest.mark.parametrize("slot", SLOTS, ids=lambda slot: slot.name)
def test_every_slot_of_every_flow_declares_its_kind_of_personal_data(slot):
    assert slot.personal is None or isinstance(slot.personal, Kind)
    assert slot_kind(slot.name) is slot.personal
    if slot.personal is not None:
        assert redact_event({"event": "slot", "name": slot.name, "value": "x"})["value"] == slot.personal.value


def test_a_slot_shared_by_two_flows_is_one_declaration():
    by_name: dict[str, object] = {}
    for slot in SLOTS:
        assert by_name.setdefault(slot.name, slot) == slot, f"{slot.name} is declared twice, differently"


def test_what_the_forms_collect_is_personal():
    assert {slot.name: slot.personal for slot in SLOTS} == {
        "form_card_digits": Kind.CARD, "form_birth_date_or_phone": Kind.DATE, "form_email": Kind.EMAIL,
    }


def test_the_domain_has_the_forms_of_the_contract_and_no_other():
    forms = {name: spec["required_slots"] for name, spec in DOMAIN["forms"].items()}
    assert forms == {flow.form: [slot.name for slot in flow.slots] for flow in FLOWS}


def test_the_domain_declares_every_slot_of_the_contract_filled_only_by_the_forms():
    for name in contract.form_slots():
        expected = [{"type": "from_entity", "entity": name}] if name in DETAIL_SLOTS else [{"type": "custom"}]
        assert DOMAIN["slots"][name]["mappings"] == expected, name
        assert DOMAIN["slots"][name]["influence_conversation"] is False, name
    assert {FORM_FAILURES_SLOT, FORM_PROMPTED_SLOT, *DETAIL_SLOTS} <= set(contract.form_slots())


def test_the_domain_lists_each_flows_actions():
    actions = set(DOMAIN["actions"])
    for flow in FLOWS:
        assert {flow.validation, flow.submit} <= actions, flow.form
        assert {f"action_ask_{slot.name}" for slot in flow.slots} <= actions, flow.form


def test_every_ask_and_hint_of_the_contract_is_a_response_and_vice_versa():
    declared = {FORM_STOPPED_RESPONSE, FORM_TOO_MANY_FAILURES_RESPONSE}
    declared |= {name for slot in SLOTS for name in slot.prompts}
    responses = set(DOMAIN["responses"])
    assert declared <= responses
    form_responses = {name for name in responses if name.startswith(("utter_ask_", HINT_PREFIX))}
    assert form_responses <= declared, "a response of a form no flow declares"


def _steps(rule: dict) -> list[dict]:
    return [*rule.get("condition", []), *rule["steps"]]


@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.form)
def test_each_flow_has_its_rules(flow):
    starts = [r for r in RULES if {"action": flow.form} in r["steps"] and {"active_loop": flow.form} in r["steps"]]
    submits = [
        r for r in RULES
        if {"active_loop": flow.form} in r.get("condition", []) and {"action": flow.submit} in r["steps"]
    ]
    assert starts, f"no rule starts {flow.form}"
    assert submits, f"no rule runs {flow.submit} after {flow.form}"
    for rule in submits:
        steps = _steps(rule)
        assert steps.index({"active_loop": None}) < steps.index({"action": flow.submit})


@pytest.mark.parametrize("another_try", ANOTHER_TRIES, ids=lambda another_try: another_try.restart)
def test_each_flow_started_again_by_another_try_is_the_assistants(another_try):
    assert another_try.restart in DOMAIN["actions"] or another_try.restart in DOMAIN["forms"]
    assert another_try.intents <= set(DOMAIN["intents"])
    if another_try.restart in DOMAIN["forms"]:
        assert contract.flow(another_try.restart) is not None, "its submit rule carries it on"
    else:  # an action alone: a rule says the assistant then waits, whatever the message was read as
        assert any(rule["steps"] == [{"action": another_try.restart}] for rule in RULES), another_try.restart


def test_the_offer_of_another_try_is_a_slot_the_forms_do_not_fill_and_nothing_personal():
    assert DOMAIN["slots"][ANOTHER_TRY_SLOT]["mappings"] == [{"type": "custom"}]
    assert DOMAIN["slots"][ANOTHER_TRY_SLOT]["influence_conversation"] is False
    assert ANOTHER_TRY_SLOT not in contract.form_slots(), "set by a flow's end, after its slots are cleared"
    assert slot_kind(ANOTHER_TRY_SLOT) is None
    for another_try in ANOTHER_TRIES:
        assert redact_slot_value(ANOTHER_TRY_SLOT, another_try.restart) == another_try.restart


def test_the_report_names_each_flow_as_its_record_does():
    for flow in FLOWS:
        assert flow_label(flow.form) == flow.label != flow.form


def test_hints_are_named_by_their_code():
    assert contract.CARD_DIGITS.hints[0] == HINT_PREFIX + "card_no_digits"
    assert contract.flow("email_form") is contract.EMAIL_CHECK and contract.flow("nothing") is None


# --- A flow added with a slot whose name says nothing personal ---

RENEWAL = Flow(
    form="renewal_form",
    slots=(replace(contract.CARD_DIGITS, name="form_identifiant"),),
    label="Renouvellement",
    topic="renewal",
    submit="action_renewal_submit",
)
TRACKER_DOMAIN = Domain.from_dict(
    {
        "version": "3.1",
        "slots": {"form_identifiant": {"type": "any", "influence_conversation": False, "mappings": [{"type": "custom"}]}},
    }
)


async def test_a_declared_slot_is_redacted_by_its_kind_in_the_tracker_store_whatever_its_name(tmp_path, monkeypatch):
    assert slot_kind("form_identifiant") is None, "the name alone says nothing personal"
    monkeypatch.setattr(contract, "FLOWS", (*FLOWS, RENEWAL))
    assert slot_kind("form_identifiant") is Kind.CARD
    store = RedactingSQLTrackerStore(
        domain=TRACKER_DOMAIN, host=f"sqlite:///{tmp_path / 'tracker.db'}", slot_vault=InMemorySlotVault(ttl_seconds=900)
    )
    try:
        tracker = DialogueStateTracker.from_events(
            "renewal",
            [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
             SlotSet("form_identifiant", "123456")],
            slots=TRACKER_DOMAIN.slots,
        )
        await store.save(tracker)
        with store.engine.connect() as connection:
            rows = [row.data for row in connection.execute(sa.text("SELECT data FROM events"))]
        slot_rows = [json.loads(data) for data in rows if json.loads(data)["event"] == "slot"]
        assert slot_rows and slot_rows[0]["value"] == "[carte]"
        assert "123456" not in "".join(rows)
        assert (await store.retrieve("renewal")).get_slot("form_identifiant") == "123456", "kept for the next turn"
    finally:
        store.engine.dispose()

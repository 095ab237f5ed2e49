"""Our fixes to Rasa's slow paths: same answers, same errors, less work (bot/rasa_speedups.py)."""
from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, Event
from rasa.utils.tensorflow.models import RasaModel

from bot import rasa_speedups
from bot.settings import PROJECT_ROOT

QUESTIONS = [
    "Comment créer un compte sur le portail?",
    "le site refuse mon mot de passe",
    "je n'ai jamais reçu le courriel de confirmation",
    "ma carte accès terrebonne est expirée",
    "comment je relie ma carte à mon compte",
    "quelles sont vos heures d'ouverture",
    "je veux parler à quelqu'un",
    "ma date de naissance c'est le 12 mars 1985",
    "mes six derniers chiffres sont 123456",
    "quelle heure est-il à Tokyo",
]


@pytest.fixture(scope="module")
def trained_model() -> Path:
    out = subprocess.run([str(PROJECT_ROOT / "scripts" / "train.sh")], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        pytest.fail(f"training failed:\n{out.stderr[-3000:]}")
    return PROJECT_ROOT / out.stdout.strip().splitlines()[-1]


def parse_all(model: Path) -> tuple[Agent, list[dict]]:
    agent = Agent.load(str(model))

    async def parse() -> list[dict]:
        return [await agent.parse_message(text) for text in QUESTIONS]

    return agent, asyncio.run(parse())


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


def test_the_model_loads_without_training_and_understands_exactly_as_rasa_s_load(trained_model, monkeypatch):
    rasa_speedups.apply()
    with monkeypatch.context() as rasa_way:
        rasa_way.setattr(RasaModel, "load", classmethod(rasa_speedups._RASA_MODEL_LOAD))
        _, expected = parse_all(trained_model)

    def no_training(*args, **kwargs):
        raise AssertionError("the model was trained at load time")

    monkeypatch.setattr(RasaModel, "fit", no_training)
    agent, parsed = parse_all(trained_model)
    for ours, rasa in zip(parsed, expected, strict=True):
        assert ours["intent"]["name"] == rasa["intent"]["name"], ours["text"]
        assert ours["intent"]["confidence"] == pytest.approx(rasa["intent"]["confidence"], abs=1e-6)
        assert [(e["entity"], e["value"]) for e in ours["entities"]] == \
            [(e["entity"], e["value"]) for e in rasa["entities"]]
    # The warm-up question of the guide is still understood (not a model with empty weights).
    assert parsed[0]["intent"]["name"] == "ask_create_account"
    assert parsed[0]["intent"]["confidence"] > 0.9

    spacy_nodes = [node._component for name, node in agent.processor.graph_runner._instantiated_nodes.items()
                   if "SpacyNLP" in name]
    assert len(spacy_nodes) == 2
    languages = {id(component._model.model) for component in spacy_nodes}
    assert len(languages) == 1, "the provide and process nodes should share one spaCy model"
    assert "ner" not in spacy_nodes[0]._model.model.pipe_names


def test_the_pipeline_reads_no_spacy_entities_so_the_recogniser_can_stay_off():
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())
    assert "SpacyEntityExtractor" not in {component["name"] for component in config["pipeline"]}


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

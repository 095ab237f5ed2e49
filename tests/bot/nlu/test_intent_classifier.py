"""The pipeline's intent classifier (bot/nlu/intent_classifier.py), on the trained model."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from rasa.core.agent import Agent

from bot.settings import PROJECT_ROOT
from bot.tools.evaluation import trained_model


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent.load(str(PROJECT_ROOT / trained_model()))


def parse(agent: Agent, text: str) -> dict:
    with ThreadPoolExecutor(1) as pool:  # a loop of its own: the browser tests' may run in this thread
        return pool.submit(asyncio.run, agent.parse_message(text)).result()["intent"]


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_an_empty_message_goes_to_the_fallback_and_is_never_read_as_a_yes(agent, text):
    assert parse(agent, text)["name"] == "nlu_fallback"


@pytest.mark.parametrize(("text", "intent"), [
    ("jdois tu de l'argent à la ville", "ask_amount_due"),
    ("elle expire quand ma carte", "ask_card_expiry"),
    ("oui", "affirm"),
    ("c'est quoi le mot de passe qu'il faut", "ask_password_rules"),
])
def test_the_classifier_reads_the_guide_s_questions_with_a_sure_confidence(agent, text, intent):
    understood = parse(agent, text)
    assert understood["name"] == intent and understood["confidence"] > 0.5

"""The pipeline's intent classifier (bot/nlu/intent_classifier.py), on the trained model: the same answers as
Rasa's own classifier, its feature matrix built directly."""
from __future__ import annotations

import asyncio
import copy
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from rasa.core.agent import Agent
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix

from bot.nlu.intent_classifier import TunedLogisticRegressionClassifier, sentence_matrix
from bot.settings import PROJECT_ROOT
from bot.tools.evaluation import trained_model
from tests.nlu_texts import assert_same_sparse, realistic_texts


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


# --- the classifier's matrix, built directly (bot/nlu/intent_classifier.sentence_matrix) ----------------

@pytest.fixture(scope="module")
def classified(agent) -> tuple[TunedLogisticRegressionClassifier, list[Message], list[dict]]:
    """The trained classifier, a copy of every message as it reached it, and the parse results."""
    seen: list[tuple[TunedLogisticRegressionClassifier, Message, Message]] = []
    original = TunedLogisticRegressionClassifier._create_X

    def spy(self, messages):
        for message in messages:  # once each: a message Rasa refuses is tried again alone, right away
            if not seen or seen[-1][1] is not message:
                seen.append((self, message, copy.deepcopy(message)))
        return original(self, messages)

    TunedLogisticRegressionClassifier._create_X = spy
    try:
        with ThreadPoolExecutor(1) as pool:
            parsed = pool.submit(asyncio.run, _parse_all(agent, realistic_texts())).result()
    finally:
        TunedLogisticRegressionClassifier._create_X = original
    assert len(seen) == len(parsed) > 1000
    return seen[0][0], [message for _, _, message in seen], parsed


async def _parse_all(agent: Agent, texts: list[str]) -> list[dict]:
    return [await agent.parse_message(text) for text in texts]


def assert_same_matrix(ours, rasa) -> None:
    assert_same_sparse(ours, rasa, "csr")


def test_the_matrix_of_every_message_is_rasa_s_own(classified):
    component, messages, _ = classified
    for message in messages:
        ours = sentence_matrix([message])
        assert ours is not None, message.get(TEXT)
        assert_same_matrix(ours, LogisticRegressionClassifier._create_X(component, [message]))


def test_the_matrix_of_a_batch_is_rasa_s_own_as_at_training(classified):
    component, messages, _ = classified
    messages = [m for m in messages if m.get(TEXT)]  # an empty text has a narrower row: Rasa refuses the batch
    ours = component._create_X(messages)
    assert ours.shape[0] == len(messages) and ours.nnz > 0
    assert_same_matrix(ours, LogisticRegressionClassifier._create_X(component, messages))


def test_intents_rankings_and_confidences_are_those_of_rasa_s_classifier(classified):
    component, messages, parsed = classified
    rasa = LogisticRegressionClassifier(component.config, component.name, component._model_storage,
                                        component._resource)
    rasa.clf = copy.deepcopy(component.clf)
    rasa.clf.coef_ = np.ascontiguousarray(component.clf.coef_)  # as Rasa loads it
    assert np.array_equal(rasa.clf.coef_, component.clf.coef_)
    refused = 0
    for message, result in zip(messages, parsed, strict=True):
        ranking = [r for r in result["intent_ranking"] if r["name"] != "nlu_fallback"]
        try:
            expected = rasa.process([copy.deepcopy(message)])[0]
        except ValueError:  # an empty text: the fallback (test above)
            refused += 1
            assert ranking == [] and result["intent"]["name"] == "nlu_fallback"
            continue
        assert ranking == expected.get("intent_ranking"), result["text"]
        if result["intent"]["name"] != "nlu_fallback":
            assert result["intent"] == expected.get("intent")
    assert refused < 5


def test_a_batch_rasa_refuses_is_still_refused_and_left_to_rasa(classified):
    component, messages, _ = classified
    empty = next(m for m in messages if not m.get(TEXT))  # "mmmmmm", all filler, normalized to nothing
    assert sentence_matrix([messages[0], empty]) is None  # rows of two widths: Rasa's code raises
    for batch in ([messages[0], empty], [empty]):
        with pytest.raises(ValueError):
            LogisticRegressionClassifier.process(component, batch)
        processed = component.process([copy.deepcopy(m) for m in batch])
        assert processed[-1].get("intent") == {"name": None, "confidence": 0.0}


def test_features_the_direct_build_does_not_read_as_one_sorted_row_go_to_rasa_s_code(classified):
    component, messages, _ = classified
    message = copy.deepcopy(messages[0])
    feature = next(f for f in message.features if f.type == FEATURE_TYPE_SENTENCE and f.features.nnz > 1)
    shuffled = feature.features.tocoo()
    feature.features = coo_matrix((shuffled.data[::-1], (shuffled.row[::-1], shuffled.col[::-1])), shape=shuffled.shape)
    assert sentence_matrix([message]) is None
    assert_same_matrix(component._create_X([message]), LogisticRegressionClassifier._create_X(component, [message]))

"""Rasa's count-vector sentence features summed from the token rows (bot/rasa_speedups.py, fix 4): the
same matrices as Rasa's second pass of the vectorizer, on the trained model and realistic texts."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from rasa.core.agent import Agent
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from sklearn.feature_extraction.text import CountVectorizer

from bot import rasa_speedups
from bot.settings import PROJECT_ROOT
from bot.tools.evaluation import trained_model
from tests import nlu_texts
from tests.nlu_texts import assert_same_sparse


def realistic_texts() -> list[str]:
    return nlu_texts.realistic_texts() + ["", "mmmmmm", "L'été, à Montréal : 450 555-0142 !", "a  b	c", "Ça coûte 12,50 $ ?"]


@pytest.fixture(scope="module")
def calls() -> list[tuple[CountVectorsFeaturizer, str, list[list[str]], tuple]]:
    """Every call of the featurizers while parsing the texts: (component, attribute, tokens, what it gave)."""
    agent = Agent.load(str(PROJECT_ROOT / trained_model()))
    rasa_speedups.apply()
    patched = CountVectorsFeaturizer._create_features
    assert patched is rasa_speedups._count_vectors_create_features
    seen: list[tuple[CountVectorsFeaturizer, str, list[list[str]], tuple]] = []

    def spy(self, attribute, all_tokens):
        result = patched(self, attribute, all_tokens)
        seen.append((self, attribute, [list(tokens) for tokens in all_tokens], result))
        return result

    async def parse_all() -> None:
        for text in realistic_texts():
            await agent.parse_message(text)

    CountVectorsFeaturizer._create_features = spy
    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, parse_all()).result()
    finally:
        CountVectorsFeaturizer._create_features = patched
    return seen


def assert_same_coo(ours, rasa) -> None:
    if rasa is None:
        assert ours is None
        return
    assert_same_sparse(ours, rasa, "coo")


def test_both_featurizers_of_the_pipeline_take_the_summed_sentence_row(calls):
    components = {id(component): component for component, _, _, _ in calls}
    analyzers = sorted(c.vectorizers["text"].analyzer for c in components.values())
    assert analyzers == ["char_wb", "word"]
    assert all(rasa_speedups.sentence_from_sequence(c.vectorizers["text"]) for c in components.values())


def test_sequence_and_sentence_features_are_those_of_rasa_s_two_passes(calls):
    assert len(calls) > 2000
    for component, attribute, all_tokens, (sequence, sentence) in calls:
        rasa_sequence, rasa_sentence = rasa_speedups._COUNT_VECTORS_CREATE_FEATURES(component, attribute, all_tokens)
        for ours, rasa in zip(sequence + sentence, rasa_sequence + rasa_sentence, strict=True):
            assert_same_coo(ours, rasa)


@pytest.mark.parametrize("vectorizer", [
    CountVectorizer(analyzer="char", ngram_range=(1, 3)),  # n-grams across the spaces
    CountVectorizer(analyzer="word", ngram_range=(1, 2)),  # pairs of words across tokens
    CountVectorizer(analyzer="char_wb", binary=True),  # presence, not counts
])
def test_vectorizers_whose_sentence_row_is_not_the_sum_keep_rasa_s_second_pass(vectorizer):
    tokens = ["je", "veux", "je", "veux"]
    vectorizer.fit([" ".join(tokens)])
    assert not rasa_speedups.sentence_from_sequence(vectorizer)
    summed = rasa_speedups.sentence_row(vectorizer.transform(tokens).tocsr()).toarray()
    assert not np.array_equal(summed, vectorizer.transform([" ".join(tokens)]).toarray())

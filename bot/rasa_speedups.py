"""Fixes for slow and memory-hungry paths in Rasa 3.6 itself, installed by `bot.rasa_compat.apply`.

They replace private parts of Rasa, so only `bot.rasa_compat` installs them, and only on the Rasa
release they were written for; ``bot.nlu.components`` (the first component of the pipeline) and
``bot.tracker_store`` call it, so every process that loads our model or our tracker store gets them
before the model is loaded.

1. Custom actions. Rasa validates every custom action's answer with ``jsonschema.validate``, which
   first validates the *schema* against the JSON Schema meta-schema. With the jsonschema 4.17 that
   Rasa 3.6 pins, that check took about 40 ms of CPU per custom action on the 2-core bench machine
   (cProfile: ``check_schema`` held 97% of the action call). Rasa's schema never changes, so it is
   checked once and its validator built once. The answer is still validated against the same
   schema, and a bad one raises the same error with the same explanation appended.

2. Loading a conversation. Rasa rebuilds each stored event by looking its type name up in the
   list of every ``Event`` subclass, which it recomputes, recursively, for every event: 90% of
   the time of loading a tracker, growing with the conversation. The class found for a type name
   is remembered; unknown names still raise, and "topic" still gives None, as in Rasa.

3. Every parse. Rasa's processor asks whether the domain is empty before checking a parse's intent and
   entities against it, and ``Domain.is_empty`` builds a whole empty ``Domain`` to compare with, about
   0.2 ms of CPU per message. The empty domain's dictionary never changes: it is built once. The same
   comparison with the same dictionary gives the same answer.

4. Count-vector features. For every message Rasa's ``CountVectorsFeaturizer`` runs its vectorizer
   twice: on the tokens (one row per token, the sequence features) and again on the tokens joined by
   spaces (the sentence features). For a word analyzer of single words, and for ``char_wb`` n-grams
   (taken inside each whitespace-separated word), the joined text's n-grams are exactly the tokens'
   n-grams put together, so the sentence row is the column sums of the sequence rows: it is computed
   from them, with the same columns, counts, dtypes and shape. Other analyzers keep Rasa's second pass.

Two earlier fixes, DIET's load without a one-example training and one shared spaCy model, went when
the pipeline dropped DIET and spaCy for a logistic regression (config.yml, docs/production.md).
"""
from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np
import scipy.sparse
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Validator:
    """The validator of Rasa's action-server answer schema, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = best_match(action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


_RESOLVE_EVENT_TYPE = Event.resolve_by_type
_EVENT_CLASSES: dict[str, type[Event]] = {}


def _resolve_event_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """`Event.resolve_by_type`, remembering what it found."""
    found = _EVENT_CLASSES.get(type_name)
    if found is not None:
        return found
    try:
        found = _RESOLVE_EVENT_TYPE(type_name)
    except ValueError:
        if default is not None:
            return default
        raise
    if found is not None:
        _EVENT_CLASSES[type_name] = found
    return found


@functools.lru_cache(maxsize=1)
def empty_domain_dict() -> dict[str, Any]:
    """What ``Domain.empty().as_dict()`` gives, built once (only compared with, never handed out)."""
    return Domain.empty().as_dict()


def _domain_is_empty(self: Domain) -> bool:
    """`Domain.is_empty`, comparing with the empty domain's dictionary built once."""
    return self.as_dict() == empty_domain_dict()


def sentence_from_sequence(vectorizer: Any) -> bool:
    """Whether the vectorizer's row of tokens joined by spaces is the column sums of its rows of the tokens."""
    if getattr(vectorizer, "binary", True) or getattr(vectorizer, "preprocessor", None) is not None:
        return False
    if getattr(vectorizer, "tokenizer", None) is not None:
        return False
    analyzer = getattr(vectorizer, "analyzer", None)
    if analyzer == "char_wb":
        return True
    return (
        analyzer == "word"
        and tuple(getattr(vectorizer, "ngram_range", ())) == (1, 1)
        and getattr(vectorizer, "token_pattern", None) == r"(?u)\b\w+\b"  # Rasa's: runs of word characters
    )


def sentence_row(sequence: scipy.sparse.csr_matrix) -> scipy.sparse.coo_matrix:
    """The one-row count matrix of all the rows of ``sequence`` (columns sorted, no zero stored)."""
    totals = np.asarray(sequence.sum(axis=0)).ravel()
    columns = np.flatnonzero(totals)
    rows = np.zeros(columns.size, dtype=columns.dtype)
    return scipy.sparse.coo_matrix((totals[columns], (rows, columns)), shape=(1, sequence.shape[1]))


_COUNT_VECTORS_CREATE_FEATURES = CountVectorsFeaturizer._create_features


def _count_vectors_create_features(
    self: CountVectorsFeaturizer, attribute: str, all_tokens: list[list[str]]
) -> tuple[list[Any], list[Any]]:
    """`CountVectorsFeaturizer._create_features`, the sentence row summed from the token rows (fix 4)."""
    vectorizer = (self.vectorizers or {}).get(attribute)
    if not vectorizer or attribute not in DENSE_FEATURIZABLE_ATTRIBUTES or not sentence_from_sequence(vectorizer):
        return _COUNT_VECTORS_CREATE_FEATURES(self, attribute, all_tokens)
    sequence_features: list[Any] = []
    sentence_features: list[Any] = []
    for tokens in all_tokens:
        if not tokens:  # nothing to featurize
            sequence_features.append(None)
            sentence_features.append(None)
            continue
        sequence = vectorizer.transform(tokens)
        sequence.sort_indices()
        sequence_features.append(sequence.tocoo())
        sentence_features.append(sentence_row(sequence))
    return sequence_features, sentence_features


def apply() -> None:
    """Install the fixes (idempotent), whatever Rasa's version: call `bot.rasa_compat.apply` instead."""
    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(_resolve_event_type)
    Domain.is_empty = _domain_is_empty
    CountVectorsFeaturizer._create_features = _count_vectors_create_features

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
   schema, and a bad one raises the same error with the same explanation appended. A valid answer
   is recognised without jsonschema's ``oneOf`` over the 23 event types (each event was checked
   against all 23, building an error for each of the 22 that do not apply, 0.3 ms a call): each
   event is checked against the one type its ``event`` names, which is the same verdict
   (`ActionResponseCheck`). An answer that fails it goes through jsonschema's full validation,
   which raises the error Rasa's own check raises.

2. Loading a conversation. Rasa rebuilds each stored event by looking its type name up in the
   list of every ``Event`` subclass, which it recomputes, recursively, for every event: 90% of
   the time of loading a tracker, growing with the conversation. The class found for a type name
   is remembered; unknown names still raise, and "topic" still gives None, as in Rasa.

3. The graph runner. Rasa runs its NLU graph (per message) and its policy graph (per action
   prediction) through dask's scheduler, which orders and schedules the same small graph again on every
   run; `bot.graph_runner.PlannedGraphRunner` asks dask once in which order it calls the nodes and then
   calls them in that order itself. It is installed where Rasa's processor picks its runner class for a
   model it loads (``rasa.core.processor.DaskGraphRunner``); training keeps Rasa's runner.

4. Prediction states. Within one graph run, the policies that turn the tracker into its past states
   share one replay of its history (`bot.prediction_states`) instead of replaying it two or three times.

5. Copies for debug lines. Rasa's processor, MemoizationPolicy and RulePolicy deep-copy the events,
   slots and states of every turn and prediction only to hand them to a ``structlogger.debug`` line,
   and they do it whatever the log level. In those three modules, ``copy.deepcopy`` now returns the
   value itself unless the module's logger is enabled for DEBUG (the level structlog's level filter
   reads), in which case it copies as before; tests/bot/test_rasa_speedups.py checks that every
   ``copy.deepcopy`` of these modules is an argument of a debug call.

6. Every parse. Rasa's processor asks whether the domain is empty before checking a parse's intent and
   entities against it, and ``Domain.is_empty`` builds a whole empty ``Domain`` to compare with, about
   0.2 ms of CPU per message. The empty domain's dictionary never changes: it is built once. The same
   comparison with the same dictionary gives the same answer.

7. Count-vector features. For every message Rasa's ``CountVectorsFeaturizer`` runs its vectorizer
   twice: on the tokens (one row per token, the sequence features) and again on the tokens joined by
   spaces (the sentence features). For a word analyzer of single words, and for ``char_wb`` n-grams
   (taken inside each whitespace-separated word), the joined text's n-grams are exactly the tokens'
   n-grams put together, so the sentence row is the column sums of the sequence rows: it is computed
   from them, with the same columns, counts, dtypes and shape. Other analyzers keep Rasa's second pass.

8. Rule keys. To find the rules that apply, ``RulePolicy._get_possible_keys`` goes back through every past
   state of the conversation and, at each, checks every rule still in the running (parsing the rule's
   key again through a cache of 1,000 entries); a rule shorter than the number of states gone through
   always passes, so past the longest rule still in the running the set no longer changes, yet Rasa
   keeps going to the conversation's first state: the cost of a prediction grew with the session. The
   rules of a lookup are parsed once (checked against the lookup's keys at each call), each state is
   checked with Rasa's own ``_does_rule_match_state`` and the same tests of the previous action in the
   same order, and the walk stops once no rule still in the running is longer: the same set of keys. A rule
   whose latest state requires a previous action name that is not the conversation's latest one fails
   Rasa's check of that state, so only the rules that require the latest name, or none, are walked.

9. Tracker copies. Before each action it runs, Rasa's processor copies the tracker by replaying every event
   of the conversation on a fresh one; `bot.tracker_copies` keeps that replay with the tracker and replays
   only the events that follow, each copy a clone of it.

Two earlier fixes, DIET's load without a one-example training and one shared spaCy model, went when
the pipeline dropped DIET and spaCy for a logistic regression (config.yml, docs/production.md).
"""
from __future__ import annotations

import copy
import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import rasa.core.policies.memoization
import rasa.core.policies.rule_policy
import rasa.core.processor
import scipy.sparse
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.nlu.constants import ACTION_NAME

from bot import prediction_states, tracker_copies
from bot.graph_runner import PlannedGraphRunner

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Validator:
    """The validator of Rasa's action-server answer schema, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


class ActionResponseCheck:
    """Whether an answer is valid against Rasa's answer schema, without its ``oneOf`` over the event types.

    The schema says: each event is an object with a string ``event`` (``required``), and exactly one of
    the ``oneOf`` branches validates it; every branch fixes ``event`` with a ``const``. A branch whose
    ``const`` differs from the event's ``event`` therefore fails it, so "exactly one branch is valid" is
    "exactly one of the branches of that name is valid". `is_valid` checks the schema without the
    ``oneOf`` (the rest of the answer as jsonschema does), then each event against the branches of its
    name only: the same verdict as jsonschema's on the whole schema. When the schema is not of that
    shape (another Rasa), `is_valid` is always False and jsonschema decides alone.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.usable = False
        try:
            items = schema["properties"]["events"]["items"]
            branches = items["oneOf"]
            names = [branch["properties"]["event"]["const"] for branch in branches]
            shaped = "event" in items["required"] and items["properties"]["event"] == {"type": "string"}
        except (KeyError, TypeError):
            return
        if not shaped or not all(isinstance(name, str) for name in names) or "$ref" in repr(schema):
            return
        cls = validator_for(schema)
        without_one_of = copy.deepcopy(dict(schema))
        del without_one_of["properties"]["events"]["items"]["oneOf"]
        self._rest = cls(without_one_of)
        self._branches: dict[str, list[Validator]] = {}
        for name, branch in zip(names, branches, strict=True):
            self._branches.setdefault(name, []).append(cls(branch))
        self.usable = True

    def is_valid(self, answer: Any) -> bool:
        if not self.usable or not self._rest.is_valid(answer):
            return False
        for event in answer.get("events") or ():  # the rest is valid: an object, its events a list of objects
            branches = self._branches.get(event["event"], ())
            if sum(1 for branch in branches if branch.is_valid(event)) != 1:
                return False
        return True


@functools.lru_cache(maxsize=1)
def action_response_check() -> ActionResponseCheck:
    return ActionResponseCheck(RemoteAction.action_response_format_spec())


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if action_response_check().is_valid(result):
        return True
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


class CopyForDebugLines:
    """Stands for the ``copy`` module in a Rasa module that deep-copies values only for its debug lines."""

    def __init__(self, logger_name: str) -> None:
        self._logger = logging.getLogger(logger_name)

    def deepcopy(self, value: Any, memo: dict | None = None) -> Any:
        """A deep copy when the debug line will be written, else the value itself (the line is dropped)."""
        if self._logger.isEnabledFor(logging.DEBUG):
            return copy.deepcopy(value, memo)
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


# The Rasa modules whose only use of ``copy.deepcopy`` is an argument of a debug line.
DEBUG_COPY_MODULES: tuple[ModuleType, ...] = (
    rasa.core.processor, rasa.core.policies.memoization, rasa.core.policies.rule_policy)
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
_RASA_GET_POSSIBLE_KEYS = RulePolicy._get_possible_keys


def _count_vectors_create_features(
    self: CountVectorsFeaturizer, attribute: str, all_tokens: list[list[str]]
) -> tuple[list[Any], list[Any]]:
    """`CountVectorsFeaturizer._create_features`, the sentence row summed from the token rows (fix 7)."""
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


@dataclass(frozen=True)
class _RuleIndex:
    """A lookup's rule keys with their states, latest first (``_rule_key_to_state`` reversed)."""

    lookup: dict[str, Any]  # held, so that its id is not reused while the entry lives
    keys: frozenset[str]
    rules: tuple[tuple[str, tuple[dict[str, Any], ...]], ...]
    # The rules whose latest state requires a previous action name, by that name, and the others: a rule
    # that requires another name than the conversation's latest one fails Rasa's check of that state.
    by_latest_action: dict[str, tuple[tuple[str, tuple[dict[str, Any], ...]], ...]]
    any_latest_action: tuple[tuple[str, tuple[dict[str, Any], ...]], ...]


def _required_action_name(rule: tuple[dict[str, Any], ...]) -> str | None:
    """The previous action name the rule's latest state requires (``_does_rule_match_state``), if any."""
    name = (rule[0].get(PREVIOUS_ACTION) or {}).get(ACTION_NAME) if rule else None
    return name if isinstance(name, str) and name and name != SHOULD_NOT_BE_SET else None


_RULE_INDEXES: dict[int, _RuleIndex] = {}
_RULE_INDEXES_KEPT = 16  # lookups of the models loaded in this process (four per RulePolicy)


def _rule_index(lookup: dict[str, Any]) -> _RuleIndex:
    index = _RULE_INDEXES.get(id(lookup))
    if index is None or index.lookup is not lookup or index.keys != lookup.keys():
        rules = tuple((key, tuple(reversed(json.loads(key)))) for key in lookup)
        by_latest_action: dict[str, list[tuple[str, tuple[dict[str, Any], ...]]]] = {}
        any_latest_action = []
        for key, rule in rules:
            name = _required_action_name(rule)
            if name is None:
                any_latest_action.append((key, rule))
            else:
                by_latest_action.setdefault(name, []).append((key, rule))
        index = _RuleIndex(lookup, frozenset(lookup), rules,
                           {name: tuple(kept) for name, kept in by_latest_action.items()}, tuple(any_latest_action))
        if len(_RULE_INDEXES) >= _RULE_INDEXES_KEPT:
            _RULE_INDEXES.pop(next(iter(_RULE_INDEXES)))
        _RULE_INDEXES[id(lookup)] = index
    return index


def _get_possible_keys(self: RulePolicy, lookup: dict[str, Any], states: list[dict[str, Any]]) -> set[str]:
    """``RulePolicy._get_possible_keys``: the keys of ``lookup`` whose rule applies to ``states``."""
    index = _rule_index(lookup)
    if not states:
        return set(index.keys)
    latest_name = (states[-1].get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
    candidates = index.any_latest_action + index.by_latest_action.get(latest_name, ()) \
        if isinstance(latest_name, str) else index.rules
    longest = max((len(rule) for _, rule in candidates), default=0)
    match = RulePolicy._does_rule_match_state
    for turn_index, state in enumerate(reversed(states)):
        if turn_index >= longest:
            break  # every rule still in the running is shorter: Rasa's check passes them all
        current_previous_action = state.get(PREVIOUS_ACTION)
        kept = []
        for key, rule in candidates:
            if turn_index >= len(rule):
                kept.append((key, rule))
                continue
            rule_previous_action = rule[turn_index].get(PREVIOUS_ACTION)
            if not rule_previous_action and not current_previous_action:
                kept.append((key, rule))
            elif rule_previous_action and current_previous_action and match(rule[turn_index], state):
                kept.append((key, rule))
        candidates = tuple(kept)
        longest = max((len(rule) for _, rule in candidates), default=0)
    return {key for key, _ in candidates}


def apply() -> None:
    """Install the fixes (idempotent), whatever Rasa's version: call `bot.rasa_compat.apply` instead."""
    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(_resolve_event_type)
    # Read by MessageProcessor._load_model when it loads a model: a model loaded before this line (in a
    # process whose first import of the project is the model's own pipeline) keeps Rasa's runner.
    rasa.core.processor.DaskGraphRunner = PlannedGraphRunner
    prediction_states.install()
    for module in DEBUG_COPY_MODULES:
        module.copy = CopyForDebugLines(module.__name__)  # type: ignore[attr-defined]
    Domain.is_empty = _domain_is_empty
    CountVectorsFeaturizer._create_features = _count_vectors_create_features
    RulePolicy._get_possible_keys = _get_possible_keys
    tracker_copies.install()

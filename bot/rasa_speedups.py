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

2. Loading a TensorFlow model (DIET). To create the model's variables, Rasa 3.6 *trains it on one
   example* (``model.fit``) before it loads the trained weights. That builds the whole training
   graph (gradients, optimiser) and kept 641 MB resident in the server for nothing. Keras restores
   a TensorFlow-format checkpoint into variables created later ("deferred restoration"), so we load
   the weights first and let the first prediction create and fill the variables, as Rasa already
   does to warm up. We then check that every variable the model has took its value from the
   checkpoint; if one did not, we fall back to Rasa's own way, so a model is never used half-loaded.

3. spaCy. ``SpacyNLP`` sits in two graph nodes (provide the model, process messages) and each one
   loaded its own copy of ``fr_core_news_sm`` (161 MB more). One copy per model name is shared.
   Rasa's spaCy components read tokens, lemmas, parts of speech and vectors, never spaCy's named
   entities (``SpacyEntityExtractor`` is not in config.yml, and a test keeps it so), so the
   entity recogniser is switched off, as Rasa already switches off the parser: about 1 ms less per
   message, with the same tokens, tags, lemmas and vectors on all 378 held-out sentences.

4. Loading a conversation. Rasa rebuilds each stored event by looking its type name up in the
   list of every ``Event`` subclass, which it recomputes, recursively, for every event: 90% of
   the time of loading a tracker, growing with the conversation. The class found for a type name
   is remembered; unknown names still raise, and "topic" still gives None, as in Rasa.
"""
from __future__ import annotations

import functools
import logging
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.utils.tensorflow.models import RasaModel

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


_RASA_MODEL_LOAD = RasaModel.load.__func__
_SPACY_LOAD_MODEL = SpacyNLP.load_model


def _load_without_training(
    cls: type[RasaModel],
    model_file_name: str,
    model_data_example: Any,
    predict_data_example: Any = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """`RasaModel.load` without the one-example training; Rasa's own load when fine-tuning."""
    if finetune_mode or predict_data_example is None:
        return _RASA_MODEL_LOAD(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                                *args, **kwargs)
    model = cls(*args, **kwargs)
    status = model.load_weights(model_file_name)
    model.run_inference(predict_data_example)
    try:
        status.assert_existing_objects_matched()
    except AssertionError:
        logger.warning("Model %s: deferred weight loading incomplete, loading it Rasa's way", cls.__name__)
        return _RASA_MODEL_LOAD(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                                *args, **kwargs)
    status.expect_partial()  # the optimiser's slots are in the checkpoint and not needed to predict
    return model


@functools.cache
def _shared_spacy_model(spacy_model_name: str) -> SpacyModel:
    model = _SPACY_LOAD_MODEL(spacy_model_name)
    if "ner" in model.model.pipe_names:
        model.model.disable_pipe("ner")
    return model


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


def apply() -> None:
    """Install the fixes (idempotent), whatever Rasa's version: call `bot.rasa_compat.apply` instead."""
    RemoteAction._validate_action_result = _validate_action_result
    RasaModel.load = classmethod(_load_without_training)
    SpacyNLP.load_model = staticmethod(_shared_spacy_model)
    Event.resolve_by_type = staticmethod(_resolve_event_type)


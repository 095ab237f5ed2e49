"""Rasa NLU component that normalizes message text (speech transcripts and typed text) before tokenising."""
from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_END, ENTITY_ATTRIBUTE_START, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import rasa_compat
from bot.nlu.normalize import normalize

logger = logging.getLogger(__name__)
rasa_compat.apply()  # before the pipeline's later components load (see bot/rasa_compat.py)


def normalize_annotated(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Normalize an annotated example piece by piece, so that entity offsets stay right.

    An entity whose value was its own text takes the normalized text as value; a synonym value
    is kept. Overlapping entities leave the example as it is.
    """
    spans = sorted(entities, key=lambda e: (e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END]))
    if any(a[ENTITY_ATTRIBUTE_END] > b[ENTITY_ATTRIBUTE_START] for a, b in zip(spans, spans[1:], strict=False)):
        return text, entities
    pieces: list[str] = []
    updated: list[dict[str, Any]] = []
    position = 0
    for entity in spans:
        pieces.append(_normalize_keeping_edges(text[position:entity[ENTITY_ATTRIBUTE_START]]))
        original = text[entity[ENTITY_ATTRIBUTE_START]:entity[ENTITY_ATTRIBUTE_END]]
        written = normalize(original.strip()) or original
        start = len("".join(pieces))
        new = {**entity, ENTITY_ATTRIBUTE_START: start, ENTITY_ATTRIBUTE_END: start + len(written)}
        if entity.get("value") == original:
            new["value"] = written
        pieces.append(written)
        updated.append(new)
        position = entity[ENTITY_ATTRIBUTE_END]
    pieces.append(_normalize_keeping_edges(text[position:]))
    return "".join(pieces), updated


def _normalize_keeping_edges(piece: str) -> str:
    """Normalize a piece of text, keeping the spaces at its edges (they separate it from entities)."""
    core = piece.strip()
    if not core:
        return piece
    lead = piece[: len(piece) - len(piece.lstrip())]
    trail = piece[len(piece.rstrip()):]
    written = normalize(core)
    return f"{lead}{written}{trail}" if written else (" " if lead or trail else "")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class SpeechNormalizer(GraphComponent):
    """Rewrites each message's text with `bot.nlu.normalize.normalize`, for every channel.

    Place it first in the pipeline, before SpacyNLP and SpacyTokenizer. Training examples go
    through it too, so the model learns on text written the way it will read it.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpeechNormalizer:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._rewrite(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._rewrite(message)
        return messages

    @staticmethod
    def _rewrite(message: Message) -> None:
        text = message.get(TEXT)
        if not text:
            return
        entities = message.get(ENTITIES)
        if entities:
            written, entities = normalize_annotated(text, entities)
            message.set(ENTITIES, entities)
        else:
            written = normalize(text)
        if written != text:
            message.set(TEXT, written)

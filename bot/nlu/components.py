"""Rasa NLU components: text normalized before tokenising (speech transcripts and typed text), and the
personal details read by the project's parsers from every message."""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import rasa_compat
from bot.nlu.normalize import normalize
from bot.policy.details import find_details
from bot.settings import city_today

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


# Entities of the personal details, the same names as the slots that remember them (domain.yml).
DETAIL_ENTITIES = ("card_digits", "birth_date", "phone_number", "email")


def detail_entities(text: str, today: date) -> list[dict[str, Any]]:
    """The personal details of ``text`` as Rasa entities (values as the forms keep them)."""
    found = find_details(text, today)
    values = {
        "card_digits": found.card,
        "birth_date": found.birth_date.isoformat() if found.birth_date else None,
        "phone_number": found.phone,
        "email": found.email,
    }
    return [
        {
            ENTITY_ATTRIBUTE_TYPE: name,
            ENTITY_ATTRIBUTE_VALUE: value,
            ENTITY_ATTRIBUTE_START: 0,
            ENTITY_ATTRIBUTE_END: len(text),
            ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
            EXTRACTOR: PersonalDetailsExtractor.__name__,
        }
        for name, value in values.items()
        if value
    ]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class PersonalDetailsExtractor(GraphComponent):
    """Card digits, birth date, home phone and email from every message, whatever its intent.

    The project's own parsers (`bot.policy.details`) read them, so a value is the same whether the
    citizen gives it in a form, before being asked or with a question; the learned extractor's guesses
    for these four entities are replaced. Place it last in the pipeline. The slots of the same names
    remember them (in the slot vault; the tracker store keeps placeholders) until a flow uses them.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PersonalDetailsExtractor:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        today = city_today()
        for message in messages:
            text = message.get(TEXT) or ""
            kept = [e for e in message.get(ENTITIES) or [] if e.get(ENTITY_ATTRIBUTE_TYPE) not in DETAIL_ENTITIES]
            message.set(ENTITIES, kept + detail_entities(text, today), add_to_output=True)
        return messages

"""The NLU component rewrites message text before tokenising, and keeps entity offsets right."""
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.recipe import Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.data import TrainingType
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import read_config_file

from bot.nlu.components import SpeechNormalizer, normalize_annotated
from bot.settings import PROJECT_ROOT


@pytest.fixture
def component(tmp_path):
    return SpeechNormalizer.create(
        {}, LocalModelStorage(tmp_path), Resource("speech"), ExecutionContext(GraphSchema({}))
    )


def test_a_spoken_message_is_rewritten(component):
    message = Message(data={TEXT: "euh ma carte c'est un deux trois quatre cinq six"})
    component.process([message])
    assert message.get(TEXT) == "ma carte c'est 123456"


def test_a_typed_message_and_an_intent_shortcut_are_kept(component):
    typed = Message(data={TEXT: "Ma carte est 123456"})
    shortcut = Message(data={TEXT: '/inform{"card_digits": "123456"}'})
    component.process([typed, shortcut])
    assert typed.get(TEXT) == "Ma carte est 123456"
    assert shortcut.get(TEXT) == '/inform{"card_digits": "123456"}'


def test_training_examples_keep_their_entities_on_the_right_words(component):
    text = "euh c'est le un deux trois quatre cinq six et mon numero"
    start = text.index("un deux")
    end = start + len("un deux trois quatre cinq six")
    entity = {"entity": "card_digits", "start": start, "end": end, "value": text[start:end]}
    example = Message(data={TEXT: text, "intent": "inform", ENTITIES: [entity]})
    component.process_training_data(TrainingData([example]))
    written = example.get(TEXT)
    assert written == "c'est le 123456 et mon numéro"
    [card] = example.get(ENTITIES)
    assert written[card["start"]:card["end"]] == "123456" == card["value"]


def test_a_synonym_value_is_kept():
    text = "ma carte acces svp"
    entity = {"entity": "thing", "start": 3, "end": 14, "value": "carte"}
    written, [new] = normalize_annotated(text, [entity])
    assert written == "ma carte accès svp"
    assert written[new["start"]:new["end"]] == "carte accès" and new["value"] == "carte"


def test_overlapping_entities_leave_the_example_alone():
    text = "un deux trois"
    entities = [{"entity": "a", "start": 0, "end": 7, "value": "un deux"},
                {"entity": "b", "start": 3, "end": 13, "value": "deux trois"}]
    assert normalize_annotated(text, entities) == (text, entities)


def test_config_runs_the_normalizer_before_the_tokenizer_in_training_and_prediction():
    config = read_config_file(PROJECT_ROOT / "config.yml")
    graph = Recipe.recipe_for_name("default.v1").graph_config_for_recipe(config, {}, TrainingType.NLU)
    for schema in (graph.train_schema, graph.predict_schema):
        names = [name for name in schema.nodes if name.startswith("run_")]
        normalizer = next(n for n in names if "SpeechNormalizer" in n)
        tokenizer = next(n for n in names if "Tokenizer" in n and "Normalizer" not in n)
        assert normalizer in _upstream(schema, tokenizer)


def _upstream(schema, node):
    seen, todo = set(), [node]
    while todo:
        for parent in schema.nodes[todo.pop()].needs.values():
            if parent in schema.nodes and parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen

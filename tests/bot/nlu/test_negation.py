"""The tokenizer that marks the word under a negation (bot/nlu/negation.py): which words it marks, which it
leaves, and tokens that still line up with the message text for the components after it."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import read_config_file

from bot.nlu.components import PersonalDetailsExtractor
from bot.nlu.negation import NegationMarkingTokenizer
from bot.settings import PROJECT_ROOT


@pytest.fixture
def tokenizer(tmp_path) -> NegationMarkingTokenizer:
    return NegationMarkingTokenizer.create(
        NegationMarkingTokenizer.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("tokenizer"),
        ExecutionContext(GraphSchema({})),
    )


def words(tokenizer: NegationMarkingTokenizer, text: str) -> list[str]:
    message = Message(data={TEXT: text})
    tokenizer.process([message])
    return [token.text for token in message.get(TOKENS_NAMES[TEXT])]


@pytest.mark.parametrize(
    ("text", "marked"),
    [
        ("j'ai pas oublié mon mot de passe", "oublié"),
        ("je l'ai pas oublié", "oublié"),
        ("je n'ai pas encore reçu le courriel", "reçu"),
        ("mettre un nouveau mot de passe sans l'avoir oublié", "oublié"),
        ("je veux pas le changer", "changer"),
        ("j'ai rien reçu", "reçu"),
        ("je ne l'ai jamais activé", "activé"),
        ("chu pas capable de me connecter", "capable"),
        ("je ne suis plus connecté", "connecté"),
        ("je me rappelle pus c'est quoi", None),
    ],
)
def test_the_word_under_a_negation_is_marked(tokenizer, text, marked):
    tokens = words(tokenizer, text)
    marked_words = [word for word in tokens if word.startswith("pas_")]
    assert marked_words == ([f"pas_{marked}"] if marked else [])


@pytest.mark.parametrize(
    "text",
    [
        "pas de courriel",  # a preposition ends the search: the noun stays itself
        "j'ai pas de carte accès",
        "je reçois pas le courriel",  # "le" before a noun is a determiner
        "ça marche pas, aidez-moi",  # punctuation ends it
        "un mot de passe plus long",  # "plus" without "ne" is a comparison
        "j'ai pu me connecter hier",  # "pu" after "avoir" is "pouvoir"
        "comment changer mon mot de passe oublié",
        "Bonjour, je veux créer un compte pour ma fille",
    ],
)
def test_sentences_without_a_negated_word_keep_the_whitespace_tokens(tokenizer, tmp_path, text):
    plain = WhitespaceTokenizer.create(
        WhitespaceTokenizer.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("plain"),
        ExecutionContext(GraphSchema({})),
    )
    message = Message(data={TEXT: text})
    plain.process([message])
    assert words(tokenizer, text) == [token.text for token in message.get(TOKENS_NAMES[TEXT])]


def test_tokens_keep_the_offsets_of_their_words(tokenizer):
    text = "Je l'ai pas oublié, mon courriel c'est jean.tremblay@exemple.ca et ma carte 12345678"
    message = Message(data={TEXT: text})
    tokenizer.process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    for token in tokens:
        written = text[token.start:token.end]
        assert token.text in (written, f"pas_{written}")
        assert token.lemma == token.text
    assert "pas_oublié" in [token.text for token in tokens]


def test_the_personal_details_are_read_the_same(tokenizer, tmp_path):
    text = "je l'ai pas oublié, c'est jean.tremblay@exemple.ca, né le 3 mars 1985"
    extractor = PersonalDetailsExtractor.create(
        {}, LocalModelStorage(tmp_path), Resource("details"), ExecutionContext(GraphSchema({}))
    )
    marked, plain = Message(data={TEXT: text}), Message(data={TEXT: text})
    tokenizer.process([marked])
    extractor.process([marked, plain])
    assert marked.get("entities") == plain.get("entities")
    assert {entity["entity"] for entity in marked.get("entities")} >= {"email", "birth_date"}


def test_training_examples_are_marked_and_intents_are_not(tokenizer):
    example = Message(data={TEXT: "je l'ai pas oublié", INTENT: "ask_change_password"})
    tokenizer.process_training_data(TrainingData([example]))
    assert [token.text for token in example.get(TOKENS_NAMES[TEXT])][-1] == "pas_oublié"
    assert [token.text for token in example.get(TOKENS_NAMES[INTENT])] == ["ask_change_password"]


def test_the_pipeline_uses_it():
    config = read_config_file(str(PROJECT_ROOT / "config.yml"))
    names = [component["name"] for component in config["pipeline"]]
    assert "bot.nlu.negation.NegationMarkingTokenizer" in names
    assert "WhitespaceTokenizer" not in names

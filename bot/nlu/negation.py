"""Negation marked on the words it applies to, so that a bag of words tells "oublié" from "pas oublié".

The classifier sees each message as counts of words and of character n-grams: "changer mon mot de passe
oublié" and "je l'ai pas oublié, je veux juste le changer" share the word "oublié", which weighs for a
forgotten password in both. `NegationMarkingTokenizer` is Rasa's WhitespaceTokenizer that, after a
negation word (pas, jamais, rien, sans, aucun, aucune, the Quebec "pus", and "plus" after "ne"), rewrites
the next content word as "pas_<word>": "j'ai pas oublié" gives the tokens j, ai, pas, pas_oublié.

Clitic pronouns and the auxiliaries between the negation and its word are skipped ("je l'ai pas encore
reçu", "sans l'avoir oublié"); a determiner, a preposition, a conjunction or punctuation ends the search
("pas de courriel" marks nothing: the noun stays itself). Only the token's text and lemma change; its
offsets stay those of the word in the message, so entity spans and every later component line up.
"""
from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

MARK = "pas_"

# Words that negate what follows them. "pus" is the Quebec spoken "plus" of "je m'en souviens pus".
NEGATIONS = frozenset({"pas", "jamais", "rien", "sans", "aucun", "aucune", "pus"})
# "plus" and "pu" negate only in some places: "plus" after "ne" ("je ne me souviens plus"), not in "un
# mot de passe plus long"; "pu" is Quebec "plus" except after "avoir" ("j'ai pu me connecter").
AFTER_NE = frozenset({"plus"})
NE = frozenset({"ne", "n"})
PU = "pu"
AVOIR = frozenset({"ai", "as", "a", "avons", "avez", "ont", "avoir", "aurais", "aurait", "avais", "avait", "aie"})

# Between the negation and its word: object pronouns, auxiliaries, adverbs ("pas encore reçu").
SKIPPED = frozenset({
    "me", "m", "te", "t", "se", "s", "lui", "leur", "y", "en", "nous", "vous", "moi", "toi",
    "ai", "as", "a", "avons", "avez", "ont", "avoir", "eu", "avais", "avait",
    "est", "es", "suis", "sommes", "êtes", "sont", "être", "été", "était", "étais",
    "encore", "vraiment", "toujours", "trop", "très", "ben", "full", "tellement", "jamais", "pas",
})
# "le", "la", "les", "l'" are pronouns before a verb ("pas le changer", "sans l'avoir oublié") and
# determiners before a noun ("pas le courriel"): skipped only when the next word looks like a verb.
OBJECT_OR_ARTICLE = frozenset({"le", "la", "les", "l"})
VERB_ENDINGS = ("er", "ir", "re", "oir", "é", "ée", "és", "ées", "i", "ie", "is", "it", "u", "ue", "us", "ert")
# Words that end the search: determiners, prepositions, conjunctions, pronoun subjects.
STOPS = frozenset({
    "de", "d", "du", "des", "un", "une", "à", "au", "aux", "pour", "par", "avec", "dans", "sur", "chez",
    "et", "ou", "mais", "pis", "que", "qu", "si", "car", "parce", "quand", "comme", "ni",
    "ce", "c", "ça", "ca", "cette", "ces", "cet", "mon", "ma", "mes", "ton", "ta", "tes", "son", "sa", "ses",
    "notre", "nos", "votre", "vos", "leurs", "je", "j", "tu", "il", "elle", "on", "ils", "elles",
})
PUNCTUATION = frozenset(",.;:!?()\"«»…")


def _negates(words: list[str], index: int) -> bool:
    word = words[index]
    if word in NEGATIONS:
        return True
    if word in AFTER_NE:
        return any(w in NE for w in words[max(0, index - 4):index])
    if word == PU:
        return index == 0 or words[index - 1] not in AVOIR
    return False


def _verb_like(word: str) -> bool:
    return word.endswith(VERB_ENDINGS)


def negated_word(tokens: list[Token], words: list[str], text: str, start: int) -> int | None:
    """The index of the word the negation before ``start`` applies to, or None (``words``: the tokens'
    texts in lower case, as they were before any marking)."""
    for index in range(start, len(tokens)):
        if any(char in PUNCTUATION for char in text[tokens[index - 1].end:tokens[index].start]):
            return None
        word = words[index]
        if word in STOPS:
            return None
        if word in SKIPPED:
            continue
        if word in OBJECT_OR_ARTICLE:
            if index + 1 < len(tokens) and (words[index + 1] in SKIPPED or _verb_like(words[index + 1])):
                continue
            return None
        return index
    return None


def mark_negation(tokens: list[Token], text: str, scope: int = 1) -> list[Token]:
    """Rewrite in place, after each negation word, the next ``scope`` content words as "pas_<word>"."""
    words = [t.text.lower() for t in tokens]
    index = 0
    while index < len(tokens):
        if not _negates(words, index) or index + 1 >= len(tokens):
            index += 1
            continue
        position = index + 1
        marked = 0
        while marked < scope and (target := negated_word(tokens, words, text, position)) is not None:
            token = tokens[target]
            if not token.text.startswith(MARK):
                token.text = MARK + token.text
                token.lemma = MARK + (token.lemma or token.text[len(MARK):])
            marked += 1
            position = target + 1
            if position >= len(tokens):
                break
        index += 1
    return tokens


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class NegationMarkingTokenizer(WhitespaceTokenizer):
    """Rasa's WhitespaceTokenizer with the words under a negation marked (`mark_negation`), message text only."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**WhitespaceTokenizer.get_default_config(), "negation_scope": 1}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.negation_scope = int(config.get("negation_scope", 1))

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        if attribute == TEXT and tokens:
            mark_negation(tokens, message.get(attribute) or "", self.negation_scope)
        return tokens

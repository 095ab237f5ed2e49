"""Normalization of French speech transcripts: fillers, repetitions, numbers, dates, emails, accents."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from text_to_num import text2num

logger = logging.getLogger(__name__)

FILLERS = frozenset({"euh", "heu", "hum", "hmm", "bah", "ben", "beh", "euhm", "mmh", "hein"})
_FILLER_SHAPE = re.compile(r"^(?:e+u+h+|h+e+u+h*|h+u*m+|m{2,}h*|b+a+h+)$")

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)
_MONTH_SPELLINGS = {**{m: m for m in MONTHS}, "fevrier": "février", "aout": "août", "decembre": "décembre"}

_DIGIT_WORDS = {
    "zéro": "0", "zero": "0", "un": "1", "deux": "2", "trois": "3", "quatre": "4",
    "cinq": "5", "six": "6", "sept": "7", "huit": "8", "neuf": "9",
}
_NUMBER_PARTS = frozenset(_DIGIT_WORDS) | {
    "une", "dix", "onze", "douze", "treize", "quatorze", "quinze", "seize", "vingt", "vingts",
    "trente", "quarante", "cinquante", "soixante", "cent", "cents", "mille", "mil",
}
_TENS = frozenset({"vingt", "trente", "quarante", "cinquante", "soixante"})
_MULTIPLIERS = frozenset({"cent", "cents", "mille", "mil"})

# Unaccented spellings that are not French words of their own, with their accented form.
ACCENTS = {
    "numero": "numéro", "numeros": "numéros", "telephone": "téléphone", "telephoner": "téléphoner",
    "acces": "accès", "creer": "créer", "probleme": "problème", "problemes": "problèmes",
    "electronique": "électronique", "verifier": "vérifier", "verification": "vérification",
    "recu": "reçu", "recus": "reçus", "activite": "activité", "activites": "activités",
    "bibliotheque": "bibliothèque", "bibliotheques": "bibliothèques", "echeance": "échéance",
    "francais": "français", "deja": "déjà", "etre": "être", "tres": "très", "ete": "été",
    "reinitialiser": "réinitialiser", "reinitialisation": "réinitialisation",
    "expiree": "expirée", "expirees": "expirées", "perimee": "périmée", "perime": "périmé",
    "annee": "année", "annees": "années", "resident": "résident", "residente": "résidente",
    "prenom": "prénom", "reponse": "réponse", "reponses": "réponses", "reussi": "réussi",
    "envoye": "envoyé", "coordonnees": "coordonnées", "necessaire": "nécessaire",
    "deverrouiller": "déverrouiller", "precedent": "précédent", "employe": "employé",
    "fevrier": "février", "decembre": "décembre", "aout": "août", "zero": "zéro",
}

# Spoken Quebec French written as it sounds: the pronoun glued to the verb ("jdois tu de l'argent",
# "chu pas capable"), written out so the words are the ones the model learnt.
CONTRACTIONS = {
    f"{prefix}{verb}": f"je {verb}"
    for prefix in ("j", "j'")
    for verb in ("dois", "suis", "veux", "peux", "sais", "vais", "me", "trouve", "comprends", "pense", "fais",
                 "voudrais", "voulais", "cherche", "parle", "reçois", "recois")
} | {"chu": "je suis", "chus": "je suis", "chuis": "je suis", "chais": "je sais", "jai": "j'ai"}
# Other names of an email, written as the word the training data and the guide use ("courriel").
SYNONYMS = {
    "mail": "courriel", "mails": "courriels", "email": "courriel", "emails": "courriels",
    "e-mail": "courriel", "e-mails": "courriels", "émail": "courriel", "mél": "courriel",
}
_WRITTEN_OUT = ACCENTS | CONTRACTIONS | SYNONYMS

_AROBASE = frozenset({"arobase", "arobas", "arrobase", "arrobas", "@"})
# Spoken separators inside an email, longest first.
_EMAIL_CONNECTORS = (
    (("tiret", "du", "bas"), "_"), (("tiret", "bas"), "_"), (("trait", "de", "soulignement"), "_"),
    (("barre", "de", "soulignement"), "_"), (("underscore",), "_"), (("souligné",), "_"),
    (("trait", "d'union"), "-"), (("tiret",), "-"), (("point",), "."),
)
# Words that French doubles on purpose: "vous vous", "faire faire", "le mot de passe passe pas".
_NO_REPEAT_COLLAPSE = frozenset({"nous", "vous", "faire", "fait", "passe", "qui"})
_CONNECTOR_STARTS = frozenset(words[0] for words, _ in _EMAIL_CONNECTORS)
_PROTECTED = re.compile(r"@|://|^www\.|\d", re.IGNORECASE)
_EDGE_PUNCT = "\"'«»“”()[]{}.,;:!?…"


@dataclass
class _Token:
    """A whitespace-separated piece of text: its word, and the punctuation around it."""

    lead: str
    word: str
    trail: str

    @property
    def key(self) -> str:
        return self.word.lower()

    def render(self) -> str:
        return f"{self.lead}{self.word}{self.trail}"


def normalize(text: str) -> str:
    """Return the transcript with fillers removed and numbers, dates and emails written out.

    Never raises: on an unexpected error the text is returned as it came, and a warning
    without the content is logged.
    """
    if not text or not text.strip() or text.lstrip().startswith("/"):
        return text
    try:
        return _normalize(text)
    except Exception:  # noqa: BLE001 - a transcript must never break the pipeline.
        logger.warning("Speech normalization failed; the text is kept as it came.", exc_info=True)
        return text


def _normalize(text: str) -> str:
    tokens = [_split(piece) for piece in text.split()]
    tokens = _drop_fillers(tokens)
    tokens = _collapse_repetitions(tokens)
    tokens = _join_emails(tokens)
    tokens = _write_numbers(tokens)
    tokens = [_written_out(t) for t in tokens]
    return " ".join(t.render() for t in tokens if t.render())


def _split(piece: str) -> _Token:
    if _PROTECTED.search(piece) and not _is_number_word(piece.strip(_EDGE_PUNCT).lower()):
        return _Token("", piece, "")
    word = piece.strip(_EDGE_PUNCT)
    if not word:
        return _Token("", "", piece)
    start = piece.index(word)
    return _Token(piece[:start], word, piece[start + len(word):])


def _is_filler(token: _Token, index: int) -> bool:
    key = token.key
    if not (key in FILLERS or _FILLER_SHAPE.match(key)):
        return False
    # "Ben" written with a capital inside a sentence is a first name.
    return not (key == "ben" and token.word[0].isupper() and index > 0)


def _drop_fillers(tokens: list[_Token]) -> list[_Token]:
    kept: list[_Token] = []
    for index, token in enumerate(tokens):
        if not _is_filler(token, index):
            kept.append(token)
        elif kept and token.trail.strip(",") and not kept[-1].trail:
            kept[-1].trail = token.trail.strip(",")
    return kept


def _repeatable(token: _Token) -> bool:
    key = token.key
    return (
        len(key) > 1
        and not any(char.isdigit() for char in key)
        and key not in _NO_REPEAT_COLLAPSE
        and not _is_number_word(key)
        and key not in _CONNECTOR_STARTS
        and key not in _AROBASE
    )


def _collapse_repetitions(tokens: list[_Token]) -> list[_Token]:
    """Remove stutters: "je je continue" and "je continue je continue" become "je continue"."""
    result: list[_Token] = []
    repeatable: list[bool] = []  # _repeatable of each token of result, asked once per token
    for token in tokens:
        token_repeatable = _repeatable(token)
        if result and token_repeatable and result[-1].key == token.key and not result[-1].trail.strip(","):
            result[-1] = token
            repeatable[-1] = token_repeatable
            continue
        result.append(token)
        repeatable.append(token_repeatable)
        if (
            len(result) >= 4
            and [t.key for t in result[-4:-2]] == [t.key for t in result[-2:]]
            and all(repeatable[-4:])
        ):
            del result[-4:-2]
            del repeatable[-4:-2]
    return result


# --- emails -------------------------------------------------------------------------------

def _connector_at(tokens: list[_Token], index: int) -> tuple[int, str] | None:
    """The spoken email separator starting at index: (number of words, character)."""
    for words, char in _EMAIL_CONNECTORS:
        keys = [t.key for t in tokens[index:index + len(words)]]
        if keys == list(words):
            return len(words), char
    return None


def _connector_ending_at(tokens: list[_Token], end: int) -> tuple[int, str] | None:
    """The spoken email separator whose last word is at end - 1."""
    for words, char in _EMAIL_CONNECTORS:
        start = end - len(words)
        if start >= 0 and [t.key for t in tokens[start:end]] == list(words):
            return len(words), char
    return None


def _email_atom(token: _Token) -> str | None:
    key = token.key
    if key in _DIGIT_WORDS:
        return _DIGIT_WORDS[key]
    if _is_number_word(key):
        return _number_value(key)
    if re.fullmatch(r"[\w.\-]+", key) and key not in _AROBASE:
        return key
    return None


def _local_segment(tokens: list[_Token], end: int) -> tuple[int, str] | None:
    """The local-part piece just before end: a word (or spelled letters), then digits."""
    start = end
    digits = ""
    while start > 0 and tokens[start - 1].key != "une" and _is_number_word(tokens[start - 1].key):
        start -= 1
        digits = (_number_value(tokens[start].key) or "") + digits
    head = ""
    while start > 0 and _connector_ending_at(tokens, start) is None:
        atom = _email_atom(tokens[start - 1])
        if atom is None or _is_number_word(tokens[start - 1].key) or (head and len(atom) > 1):
            break
        start -= 1
        head = atom + head
        if len(atom) > 1:
            break
    if start == end:
        return None
    return start, head + digits


def _join_emails(tokens: list[_Token]) -> list[_Token]:
    """Join "marie point tremblay arobase example point com" into one email token."""
    index = 0
    while index < len(tokens):
        if tokens[index].key not in _AROBASE:
            index += 1
            continue
        local = _read_local(tokens, index)
        domain_end, domain = _read_domain(tokens, index + 1)
        if local is None or not domain:
            index += 1
            continue
        start, local_text = local
        email = _Token(tokens[start].lead, f"{local_text}@{domain}", tokens[domain_end - 1].trail)
        tokens = tokens[:start] + [email] + tokens[domain_end:]
        index = start + 1
    return tokens


def _read_local(tokens: list[_Token], arobase: int) -> tuple[int, str] | None:
    segment = _local_segment(tokens, arobase)
    if segment is None:
        return None
    start, text = segment
    parts = [text]
    while (connector := _connector_ending_at(tokens, start)) is not None:
        previous = _local_segment(tokens, start - connector[0])
        if previous is None:
            break
        start = previous[0]
        parts[:0] = [previous[1], connector[1]]
    return start, "".join(parts)


def _read_domain(tokens: list[_Token], index: int) -> tuple[int, str]:
    parts: list[str] = []
    while index < len(tokens):
        atom = _email_atom(tokens[index])
        if atom is None:
            break
        parts.append(atom)
        index += 1
        connector = _connector_at(tokens, index) if index < len(tokens) else None
        if connector is None or index + connector[0] >= len(tokens):
            break
        if _email_atom(tokens[index + connector[0]]) is None:
            break
        parts.append(connector[1])
        index += connector[0]
    return index, "".join(parts)


# --- numbers ------------------------------------------------------------------------------

def _is_number_word(key: str) -> bool:
    parts = key.split("-")
    return bool(key) and all(p in _NUMBER_PARTS or (p == "et" and 0 < i < len(parts) - 1)
                             for i, p in enumerate(parts))


@lru_cache(maxsize=4096)
def _number_value(words: str) -> str | None:
    """The digits of a single French number ("quatre cent cinquante" -> "450"), or None."""
    if words in _DIGIT_WORDS:
        return _DIGIT_WORDS[words]
    try:
        return str(text2num(words, "fr"))
    except ValueError:
        return None


def _month(token: _Token | None) -> str | None:
    return _MONTH_SPELLINGS.get(token.key) if token else None


def _write_numbers(tokens: list[_Token]) -> list[_Token]:
    result: list[_Token] = []
    index = 0
    while index < len(tokens):
        end = _run_end(tokens, index)
        if end == index:
            result.append(_premier(tokens, index))
            index += 1
            continue
        written = _write_run(tokens, index, end)
        if written is None:
            result.extend(tokens[index:end])
        else:
            result.append(_Token(tokens[index].lead, written, tokens[end - 1].trail))
        index = end
    return result


def _premier(tokens: list[_Token], index: int) -> _Token:
    """ "premier mars" is the first of March; "le premier ministre" stays as it is."""
    token = tokens[index]
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if token.key in {"premier", "1er"} and _month(following) and not token.trail:
        return _Token(token.lead, "1er", token.trail)
    return token


def _run_end(tokens: list[_Token], start: int) -> int:
    """End of the run of number words starting at start (start itself when there is none).

    Commas inside a run are kept as boundaries between numbers; other punctuation ends it.
    """
    end = start
    while end < len(tokens):
        token = tokens[end]
        previous = tokens[end - 1].key if end > start else ""
        if end > start and (token.lead or tokens[end - 1].trail.strip(",")):
            break
        if token.key == "et":
            following = tokens[end + 1].key if end + 1 < len(tokens) else ""
            if previous not in _TENS or following not in {"un", "une", "onze"}:
                break
        elif token.key == "une":
            if previous != "et":
                break
        elif not _is_number_word(token.key):
            break
        end += 1
    return end


def _write_run(tokens: list[_Token], start: int, end: int) -> str | None:
    """Digits for the number words tokens[start:end], or None to keep the words."""
    words = [t.key for t in tokens[start:end]]
    breaks = {i for i in range(1, len(words)) if tokens[start + i - 1].trail}
    after = tokens[end] if end < len(tokens) else None
    greedy = _greedy_chunks(words, breaks)
    if greedy is None:
        return None
    if len(greedy) == 1:
        value = greedy[0][1]
        simple = len(words) == 1 and "-" not in words[0]
        if simple and not _month(after):
            return None  # a lone "neuf", "cent" or "un" is a word, not a number to write
        return value
    phone = _phone(words, breaks)
    if phone:
        return phone
    if set(words) == {"un"}:
        return "un"  # "c'était un un un super": a stutter on the article
    if all(len(chunk) == 1 and chunk[0] in _DIGIT_WORDS for chunk, _ in greedy):
        if len(greedy) < 3:
            return None  # "deux trois jours": an estimate, not a code
        return "".join(value for _, value in greedy)
    return " ".join(value for _, value in greedy)


def _chunk_ok(chunk: tuple[str, ...]) -> str | None:
    if chunk[0] == "et" or chunk[-1] == "et":
        return None
    if len(chunk) > 1 and any(_DIGIT_WORDS.get(word) == "0" for word in chunk):
        return None  # "zéro neuf" is two digits, never the number nine
    return _number_value(" ".join(chunk))


def _greedy_chunks(words: list[str], breaks: set[int]) -> list[tuple[tuple[str, ...], str]] | None:
    """Split into the longest valid numbers, left to right."""
    chunks = []
    index = 0
    while index < len(words):
        for stop in range(len(words), index, -1):
            if any(index < b < stop for b in breaks):
                continue
            chunk = tuple(words[index:stop])
            value = _chunk_ok(chunk)
            if value is not None:
                chunks.append((chunk, value))
                index = stop
                break
        else:
            return None
    return chunks


_PHONE_GROUPS = ((3, 3, 4), (1, 3, 3, 4), (3, 4))


def _phone(words: list[str], breaks: set[int]) -> str | None:
    """Read a North American phone number said in groups, "quatre cent cinquante neuf cent
    soixante et un deux mille un" -> "450 961 2001", where a greedy reading gives 459 161."""
    if len(words) > 24:
        return None
    best: tuple[int, int, str] | None = None
    for chunks in _segmentations(tuple(words), frozenset(breaks), 0):
        digits = "".join(value for _, value in chunks)
        if len(digits) not in (7, 10, 11):
            continue
        groups = _phone_groups(digits, chunks)
        if groups is None:
            continue
        bare = sum(1 for i, (chunk, _) in enumerate(chunks) if i and chunk[0] in _MULTIPLIERS)
        candidate = (bare, len(chunks), " ".join(groups))
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else None


def _phone_groups(digits: str, chunks: list[tuple[tuple[str, ...], str]]) -> list[str] | None:
    edges = set()
    position = 0
    for _, value in chunks:
        position += len(value)
        edges.add(position)
    for sizes in _PHONE_GROUPS:
        if sum(sizes) != len(digits):
            continue
        if len(sizes) == 4 and digits[0] != "1":
            continue
        groups, position = [], 0
        for size in sizes:
            groups.append(digits[position:position + size])
            position += size
        if not all(sum(sizes[:i + 1]) in edges for i in range(len(sizes))):
            continue
        local = groups[-2:]
        area = groups[-3] if len(groups) >= 3 else None
        if local[0][0] in "01" or (area is not None and area[0] in "01"):
            continue
        return groups
    return None


def _segmentations(words: tuple[str, ...], breaks: frozenset[int], offset: int):
    """Every way to read the words as a sequence of numbers (at most 11 digits in all)."""
    if not words:
        yield []
        return
    for stop in range(1, len(words) + 1):
        if any(offset < b < offset + stop for b in breaks):
            break
        value = _chunk_ok(words[:stop])
        if value is None:
            continue
        for rest in _segmentations(words[stop:], breaks, offset + stop):
            if len(value) + sum(len(v) for _, v in rest) <= 11:
                yield [(words[:stop], value)] + rest


# --- accents and contractions -------------------------------------------------------------

def _written_out(token: _Token) -> _Token:
    accented = _WRITTEN_OUT.get(token.key)
    if accented is None:
        return token
    if token.word[:1].isupper():
        accented = accented[:1].upper() + accented[1:]
    return _Token(token.lead, accented, token.trail)

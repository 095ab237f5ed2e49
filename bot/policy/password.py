"""The portal's password rules, the check of a candidate password and a detector of password-like text.

The guide says, word for word: « Votre mot de passe doit contenir : un minimum de huit (8) lettres
incluant une majuscule ; plus un chiffre ; plus un symbole. »

Reading of "huit (8) lettres": the guide counts *letters*, and the digit and the symbol come *in
addition* ("plus un chiffre ; plus un symbole"). The default rule set therefore counts letters only
(at least 8 letters, one of them uppercase) and asks for a digit and a symbol on top, so at least
10 characters. This is the strict reading: a password that meets it also meets the looser
"8 characters in all" reading, so following the assistant's advice never leads a citizen to a
password the portal refuses. A city whose portal counts characters sets
``PasswordRules(length_unit=LengthUnit.CHARACTERS)``.

`check` names the missed rules (`Rule`); the sentences that explain them are responses of domain.yml
(``utter_password_rule_*``), chosen by `actions.password`, which never repeat the password itself.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum


class LengthUnit(str, Enum):
    """What the minimum length counts."""

    LETTERS = "letters"
    CHARACTERS = "characters"


class Rule(str, Enum):
    """One rule a password can miss."""

    LENGTH = "length"
    UPPERCASE = "uppercase"
    DIGIT = "digit"
    SYMBOL = "symbol"


_FRENCH_NUMBERS = {
    1: "un", 2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six", 7: "sept", 8: "huit", 9: "neuf",
    10: "dix", 11: "onze", 12: "douze", 13: "treize", 14: "quatorze", 15: "quinze", 16: "seize",
    17: "dix-sept", 18: "dix-huit", 19: "dix-neuf", 20: "vingt",
}


def count_words(count: int) -> str:
    """The guide's way of writing a count: "huit (8)"."""
    word = _FRENCH_NUMBERS.get(count)
    return f"{word} ({count})" if word else str(count)


@dataclass(frozen=True)
class PasswordRules:
    """A password rule set; the defaults are the guide's rules."""

    min_length: int = 8
    length_unit: LengthUnit = LengthUnit.LETTERS
    require_uppercase: bool = True
    require_digit: bool = True
    require_symbol: bool = True

    def check(self, candidate: str) -> list[Rule]:
        """The rules that ``candidate`` misses, in the guide's order; empty when it meets them all."""
        letters = [c for c in candidate if c.isalpha()]
        counted = len(letters) if self.length_unit is LengthUnit.LETTERS else len(candidate)
        missed = []
        if counted < self.min_length:
            missed.append(Rule.LENGTH)
        if self.require_uppercase and not any(c.isupper() for c in letters):
            missed.append(Rule.UPPERCASE)
        if self.require_digit and not any(c.isdigit() for c in candidate):
            missed.append(Rule.DIGIT)
        if self.require_symbol and not any(_is_symbol(c) for c in candidate):
            missed.append(Rule.SYMBOL)
        return missed

    def not_counted_in_length(self) -> tuple[Rule, ...]:
        """The required rules whose characters do not count towards a minimum length counted in letters."""
        if self.length_unit is not LengthUnit.LETTERS:
            return ()
        return tuple(rule for rule, on in ((Rule.DIGIT, self.require_digit), (Rule.SYMBOL, self.require_symbol)) if on)


GUIDE_RULES = PasswordRules()


def check(candidate: str, rules: PasswordRules = GUIDE_RULES) -> list[Rule]:
    """The rules of ``rules`` (the guide's by default) that ``candidate`` misses."""
    return rules.check(candidate)


def _is_symbol(char: str) -> bool:
    """A symbol is any visible character that is neither a letter nor a digit."""
    return not char.isalnum() and not char.isspace() and unicodedata.category(char)[0] != "C"


# --- Detection of password-like text (used by the check flow and by privacy redaction) ---

_TOKEN = re.compile(r"\S+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^(https?://|www\.)", re.IGNORECASE)
_QUOTES = "\"'«»“”‘’`"
_TRAILING_PUNCTUATION = ".,;:!?)"
_WORD_JOINERS = "-'’"
_CONTEXT = re.compile(
    r"mot\s+de\s+passe\s*(?:(?:est|c'est|c’est|serait|était|=|:)\s*(?:«\s*|[\"“'])?|«\s*|[\"“])"
    r"(?P<candidate>[^\s»\"”]+)",
    re.IGNORECASE,
)
_NOT_A_CANDIDATE = {
    "trop", "pas", "toujours", "encore", "refusé", "refuse", "refusée", "invalide", "incorrect", "incorrecte",
    "mauvais", "faux", "bon", "correct", "valide", "bloqué", "expiré", "oublié", "perdu", "court", "long",
    "le", "la", "les", "un", "une", "mon", "ma", "de", "du", "des", "que", "qui", "quoi", "comme", "bien",
}
MIN_DETECTED_LENGTH = 6


def _core(token: str) -> str:
    """A token without surrounding quotes and sentence punctuation."""
    return token.strip(_QUOTES).rstrip(_TRAILING_PUNCTUATION).strip(_QUOTES)


def _token_looks_like_password(token: str) -> bool:
    """A token mixing letters with digits or inner symbols, long enough, and not an email or a URL."""
    core = _core(token)
    if len(core) < MIN_DETECTED_LENGTH or _EMAIL.match(core) or _URL.match(core):
        return False
    if not any(c.isalpha() for c in core):
        return False
    has_digit = any(c.isdigit() for c in core)
    has_symbol = any(_is_symbol(c) and c not in _WORD_JOINERS for c in core)
    return has_digit or has_symbol


# Ordinary writing, outside a place where a password is expected: punctuation people put between
# words ("ok,merci", "bon/mauvais", "terrebonne.ca", "(soccer)", "**urgent**") and numbers with
# their unit ("9h-12h", "3-5ans", "U12") are not passwords.
_ORDINARY_EDGES = "#*(/[" + _QUOTES
_ORDINARY_SEPARATORS = re.compile(r"[,;:/().…\[\]*\-'’]+")
_NUMBER_WITH_UNIT = re.compile(
    r"\d+(?:h\d{0,2}|e|er|re|ère|ème|ieme|ième|ans?|mois|min|km|m|kg|\$|am|pm)?|[A-Za-z]{1,2}\d{1,3}",
    re.IGNORECASE,
)


def _ordinary_piece(piece: str) -> bool:
    """A piece of a token between ordinary separators: a word, a number, a number with its unit."""
    return piece.isalpha() or piece.isdigit() or bool(_NUMBER_WITH_UNIT.fullmatch(piece))


def _token_looks_like_password_in_ordinary_text(token: str) -> bool:
    """A token of ordinary writing that still looks like a password.

    Either one of its pieces mixes letters with digits or with symbols people do not write between
    words ("abc123", "P@ssw0rd", "Hiver#2026x"), or the whole token has the shape of the guide's
    passwords: upper and lower case letters and digits ("Soleil-2024").
    """
    core = _core(token).lstrip(_ORDINARY_EDGES).rstrip(_TRAILING_PUNCTUATION + "*+]")
    if len(core) < MIN_DETECTED_LENGTH or _EMAIL.match(core) or _URL.match(core):
        return False
    if not any(c.isalpha() for c in core):
        return False
    if not all(_ordinary_piece(piece) for piece in _ORDINARY_SEPARATORS.split(core) if piece):
        return True
    return any(c.isupper() for c in core) and any(c.islower() for c in core) and any(c.isdigit() for c in core)


def password_spans(text: str, *, strict: bool = True) -> list[tuple[int, int]]:
    """The (start, end) spans of ``text`` that look like a password, in order, without overlaps.

    ``strict`` (where a password is expected: the password check, a message about a password): any
    token mixing letters with digits or symbols. Otherwise (ordinary writing) only tokens that still
    look like a password once ordinary punctuation and numbers with units are read as such. A word
    right after "mot de passe est" is a password either way.
    """
    looks = _token_looks_like_password if strict else _token_looks_like_password_in_ordinary_text
    spans = {(m.start(), m.end()) for m in _TOKEN.finditer(text) if looks(m.group())}
    for match in _CONTEXT.finditer(text):
        word = match.group("candidate")
        if _is_candidate(word):
            spans.add((match.start("candidate"), match.end("candidate")))
    return sorted(spans)


def looks_like_password(text: str) -> bool:
    """Whether ``text`` holds something that looks like a password."""
    return bool(password_spans(text))


def extract_candidate(text: str) -> str | None:
    """The password a person typed in ``text`` ("mon mot de passe Soleil2024! est refusé"), if any.

    A word right after "mot de passe" wins; otherwise the most password-like token.
    """
    for match in _CONTEXT.finditer(text):
        if _is_candidate(match.group("candidate")):
            return _strip_candidate(match.group("candidate"))
    tokens = [_strip_candidate(m.group()) for m in _TOKEN.finditer(text) if _token_looks_like_password(m.group())]
    return tokens[0] if tokens else None


def _is_candidate(word: str) -> bool:
    """Whether a word after "mot de passe est" is a typed password rather than ordinary French."""
    core = _core(word)
    return any(c.isalnum() for c in core) and core.lower() not in _NOT_A_CANDIDATE


def _strip_candidate(token: str) -> str:
    """A typed password without surrounding quotes (its own punctuation is kept)."""
    stripped = token.strip(_QUOTES)
    if stripped.endswith((",", ".")) and len(stripped) > 1:
        stripped = stripped[:-1].strip(_QUOTES)
    return stripped

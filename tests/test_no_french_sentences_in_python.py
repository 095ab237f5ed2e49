"""Every sentence a citizen reads or hears is a response of domain.yml, never a string literal in Python.

The scan reads every string literal of bot/ and actions/ (f-strings with their placeholders, not
docstrings) and flags the ones that look like a French sentence: several words, French words or
accents, and sentence punctuation. Regexes and keyword lists are not sentences and are not flagged;
the tests on samples below prove both sides of the heuristic.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("bot", "actions")

# Modules that must hold French sentences, and why. Nothing a citizen reads or hears is in them.
ALLOWED = {
    # Operators' command-line output, in French for the city's staff (python -m bot ...): never said by
    # the assistant to a citizen.
    "bot/cli.py",
    "bot/analytics/commands.py",
    "bot/backend/commands.py",
    # Tooling apart from the runtime: French example utterances sent as input (bench), and the NLU
    # evaluation and replay reports written for the help desk.
    "bot/tools/bench.py",
    "bot/tools/evaluation.py",
    "bot/tools/replay.py",
    # The demonstration page's login errors (demo accounts only, not the assistant's conversation), and
    # the exception a missing demo account raises (serve.py answers with its own message).
    "bot/widget/serve.py",
    "bot/identity.py",
}

# Files of other branches still converting their sentences to responses (issue 13, point 2). The lead
# empties this set after merging them; the test then holds every file to the rule.
PENDING: set[str] = set()

FRENCH_WORDS = {
    "le", "la", "les", "un", "une", "des", "du", "de", "au", "aux", "et", "ou", "est", "sont", "pas", "ne",
    "vous", "votre", "vos", "nous", "notre", "nos", "je", "il", "elle", "pour", "dans", "sur", "avec", "par",
    "que", "qui", "ce", "cette", "ces", "en", "plus", "peut", "pouvez", "à", "merci", "bonjour", "d'accord",
}  # fmt: skip
ACCENTS = re.compile(r"[àâçéèêëîïôûùüÿœÀÂÇÉÈÊËÎÏÔÛÙÜŒ]")
WORD = re.compile(r"[A-Za-zÀ-ÿœŒ]+(?:['’][A-Za-zÀ-ÿœŒ]+)?")
# Sentence punctuation: the end of a sentence (a placeholder may close it) or one sentence after another.
SENTENCE_END = re.compile(r"[.!?:…»]\s*(?:\{\})?\s*$|[.!?]\s+[A-ZÀ-Ý«]")
# Regex syntax: a pattern matches French, it does not say it.
REGEX_SYNTAX = re.compile(r"\\[sbdwSDW]|\(\?[:=!P<]|\[\^|\|.*\|")
MIN_WORDS = 4


def looks_like_french_sentence(text: str) -> bool:
    """Whether a string literal (f-string placeholders as ``{}``) reads like a French sentence."""
    if REGEX_SYNTAX.search(text):
        return False
    words = WORD.findall(text)
    if len(words) < MIN_WORDS:
        return False
    french = sum(word.lower() in FRENCH_WORDS for word in words)
    if french < 2 and not (french and ACCENTS.search(text)):
        return False
    return bool(SENTENCE_END.search(text.strip()))


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and functions."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal of ``source`` but docstrings; f-strings with ``{}`` placeholders."""
    tree = ast.parse(source)
    skipped = _docstrings(tree)
    found = []
    inside_fstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    parts.append(value.value)
                    inside_fstrings.add(id(value))
                else:
                    parts.append("{}")
            found.append((node.lineno, "".join(parts)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in skipped and id(node) not in inside_fstrings:
                found.append((node.lineno, node.value))
    return found


def french_sentences(source: str) -> list[tuple[int, str]]:
    """The literals of ``source`` that look like French sentences."""
    return [(line, text) for line, text in literals(source) if looks_like_french_sentence(text)]


def python_files() -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for top in SCANNED for path in (ROOT / top).rglob("*.py"))


@pytest.mark.parametrize("path", [p for p in python_files() if p not in ALLOWED | PENDING])
def test_no_french_sentence_in_python(path):
    found = french_sentences((ROOT / path).read_text(encoding="utf-8"))
    assert not found, (
        f"{path} holds French sentences: make them responses of domain.yml, said with "
        f"actions.common.respond, and return codes or values from bot/: {found}"
    )


def test_allowed_and_pending_files_exist():
    """A file renamed or removed must leave these lists, so that they never excuse a new file."""
    assert (ALLOWED | PENDING) <= set(python_files())


@pytest.mark.parametrize("path", sorted(ALLOWED | PENDING))
def test_an_excused_file_still_needs_its_excuse(path):
    """Once a pending file is converted, it leaves PENDING (and is then held to the rule)."""
    assert french_sentences((ROOT / path).read_text(encoding="utf-8")), f"{path} holds no French sentence any more"


# --- The heuristic, proven on samples of the sentences the project held and of what it must not flag ---

SENTENCES = [
    'SAY = "Je vous transfère au centre d\'appels."',
    'X = Message("Merci, vous êtes identifié pour cette conversation.")',
    'return f"Le centre d\'appels est ouvert en ce moment, jusqu\'à {french_time(closing.time())}."',
    'line = f"{expiry.first_name} : carte expirée depuis le {when}. Elle doit être renouvelée avant les inscriptions."',
    'intro = "Voici la date d\'expiration de votre Carte Accès Terrebonne :"',
    'lines = ["Le mot de passe que vous avez écrit ne respecte pas ces règles :"]',
    'TOO_LONG = "Votre message est trop long. Écrivez votre question en quelques phrases, s\'il vous plaît."',
    'hint = ("Je n\'ai pas reconnu une date. " "Essayez par exemple : 21 juin 1980")',
    'return f"Exceptionnellement, la ou les premières soirées d\'inscriptions, {hours}, joignez-nous au {x}."',
]
NOT_SENTENCES = [
    'MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin"]',
    '_NOT_A_CANDIDATE = {"trop", "pas", "toujours", "encore", "refusé", "le", "la", "les", "un", "une"}',
    r'_CONTEXT = re.compile(r"mot\s+de\s+passe\s*(?:(?:est|c\'est|serait|était|=|:)\s*)(?P<c>[^\s»]+)")',
    r'STOP = re.compile(r"\b(?:annuler|arrête|laisse faire|non merci|je ne veux plus)\b", re.I)',
    'logger.warning("IVR reply %s held markdown, a link or an emoji; removed before speech.", name)',
    'FRENCH_WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]',
    'value = " ou ".join(self.in_person)',
    'return "aujourd\'hui"',
    'def f():\n    """Say "Je vous transfère au centre d\'appels." on the phone line."""\n',
    'raise ContactConfigError(f"opening_hours.{name}: la fin doit suivre le début")',
]


@pytest.mark.parametrize("source", SENTENCES)
def test_the_heuristic_finds_the_sentences_the_project_held(source):
    assert french_sentences(source)


@pytest.mark.parametrize("source", NOT_SENTENCES)
def test_the_heuristic_leaves_regexes_keyword_lists_and_english(source):
    assert french_sentences(source) == []

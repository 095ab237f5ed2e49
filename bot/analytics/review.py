"""The help desk's review inbox: messages to look at, grouped by similarity, the staff's decisions, and
the reviewed examples written to `data/nlu/reviewed.yml` for the next training.

What lands in the inbox, read from the tracker store (texts already redacted, `bot.privacy`):

- a message not understood (intent ``nlu_fallback``);
- a message answered as off-topic (intent ``out_of_scope``): a question of the guide said in words the
  model does not know yet lands there as often as in the fallback;
- a message understood with a low confidence (below `LOW_CONFIDENCE`);
- the question whose answer a citizen rated "non" (`bot.feedback`).

Similar messages form one group (same words once case, accents, punctuation and a few filler words are
set aside, or nearly the same letters), with its count. Staff decide per group: an existing intent,
``out_of_scope`` ("hors sujet"), or "needs a new answer" (kept for the team that writes answers, not
trained on). Decisions are kept in ``var/review.json`` (`BOT_VAR_DIR`), keyed by the group's key, with
the examples they cover; decided groups leave the inbox.

`write_reviewed` writes the decided examples in Rasa's NLU format, only after `personal_problem` found
nothing personal in each (an example that still holds a placeholder or anything the strict redaction
would mask is refused, with the reason).
"""
from __future__ import annotations

import difflib
import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from bot.analytics.figures import FALLBACK_INTENT, channel_of, intent_of, read_by_content
from bot.analytics.store import Session
from bot.contract import Kind
from bot.feedback import FEEDBACK_SLOT, Helpful
from bot.privacy import PLACEHOLDERS, find_spans

LOW_CONFIDENCE = 0.6
SIMILAR_RATIO = 0.85
OUT_OF_SCOPE = "out_of_scope"
REVIEWED_HEADER = (
    "# Examples reviewed by the help desk (python -m bot review), written by bot/analytics/review.py.\n"
    "# Each was checked for personal data before it was written. Edit with the review inbox, not by hand.\n"
)
_FILLERS = frozenset({"euh", "heu", "bonjour", "allo", "svp", "stp", "merci", "please", "pis", "ben", "la", "le",
                      "les", "de", "du", "des", "un", "une", "et", "a", "au"})
_WORD = re.compile(r"\[[^\]]+\]|[^\W_]+", re.UNICODE)


class Why(str, Enum):
    """Why a message is in the inbox."""

    NOT_UNDERSTOOD = "not_understood"
    OFF_TOPIC = "off_topic"
    LOW_CONFIDENCE = "low_confidence"
    RATED_NO = "rated_no"


class Decision(str, Enum):
    """What staff decided for a group."""

    INTENT = "intent"  # an existing intent (``out_of_scope`` for "hors sujet")
    NEW_ANSWER = "new_answer"  # the assistant needs a new answer: not trained on


@dataclass(frozen=True)
class Candidate:
    """One citizen message to review (already redacted by the tracker store)."""

    text: str
    why: Why
    intent: str | None
    confidence: float | None
    channel: str


@dataclass
class Group:
    """Similar messages: the most frequent wording first, how many, and why they are here."""

    key: str
    texts: Counter = field(default_factory=Counter)
    why: Counter = field(default_factory=Counter)
    intents: Counter = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return sum(self.texts.values())

    @property
    def text(self) -> str:
        return self.texts.most_common(1)[0][0]

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "text": self.text, "count": self.count, "examples": list(self.texts),
                "why": dict(self.why), "predicted": dict(self.intents)}


def _confidence(event: dict) -> float | None:
    value = ((event.get("parse_data") or {}).get("intent") or {}).get("confidence")
    return float(value) if isinstance(value, int | float) else None


def candidates(sessions: Iterable[Session], low_confidence: float = LOW_CONFIDENCE) -> list[Candidate]:
    """The messages of the sessions that the inbox shows."""
    found: list[Candidate] = []
    for session in sessions:
        users = [e for e in session.events if e.get("event") == "user"]
        if not users:
            continue
        channel = channel_of(users[0].get("input_channel"))
        last_question: dict | None = None
        by_content = read_by_content(session.events)
        for index, event in enumerate(session.events):
            kind = event.get("event")
            if kind == "user":
                text = str(event.get("text") or "").strip()
                intent, confidence = intent_of(event), _confidence(event)
                if not text or text.startswith("/"):
                    continue  # a button's payload: nothing a citizen wrote
                last_question = event
                if index in by_content:
                    continue  # a flow's another try took it by the value it held: answered
                if intent == FALLBACK_INTENT:
                    found.append(Candidate(text, Why.NOT_UNDERSTOOD, intent, confidence, channel))
                elif intent == OUT_OF_SCOPE:
                    found.append(Candidate(text, Why.OFF_TOPIC, intent, confidence, channel))
                elif confidence is not None and confidence < low_confidence:
                    found.append(Candidate(text, Why.LOW_CONFIDENCE, intent, confidence, channel))
            elif kind == "slot" and event.get("name") == FEEDBACK_SLOT and last_question is not None:
                value = event.get("value")
                if isinstance(value, dict) and value.get("helpful") == Helpful.NO.value:
                    found.append(Candidate(str(last_question.get("text")), Why.RATED_NO, intent_of(last_question),
                                           _confidence(last_question), channel))
    return found


def normalized(text: str) -> str:
    """The words of a message that carry its meaning: case, accents, punctuation and fillers set aside."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    words = [w for w in _WORD.findall(folded) if w not in _FILLERS]
    return " ".join(words)


def group_key(text: str) -> str:
    """A stable key of a group, from its first wording."""
    return hashlib.sha256(normalized(text).encode()).hexdigest()[:10]


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    words_a, words_b = set(a.split()), set(b.split())
    if words_a and words_b and len(words_a & words_b) / len(words_a | words_b) >= 0.75:
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= SIMILAR_RATIO


def group(found: Iterable[Candidate]) -> list[Group]:
    """Candidates grouped by similarity, the biggest groups first."""
    groups: list[tuple[str, Group]] = []
    for candidate in found:
        norm = normalized(candidate.text)
        if not norm:
            continue
        target = next((g for n, g in groups if _similar(n, norm)), None)
        if target is None:
            target = Group(group_key(candidate.text))
            groups.append((norm, target))
        target.texts[candidate.text] += 1
        target.why[candidate.why.value] += 1
        if candidate.intent:
            target.intents[candidate.intent] += 1
    return sorted((g for _, g in groups), key=lambda g: (-g.count, g.text))


# --- Decisions ---

class ReviewError(ValueError):
    """A decision or an example that cannot be taken (the message says why, in English)."""


def decisions_path(var_dir: Path) -> Path:
    return var_dir / "review.json"


def load_decisions(path: Path) -> dict[str, dict[str, Any]]:
    """The decisions taken so far: group key -> {"decision", "intent"?, "examples"}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def decide(path: Path, item: Group, decision: Decision, intent: str | None, known_intents: Iterable[str]) -> None:
    """Record staff's decision for a group; an intent must be one of the assistant's."""
    if decision is Decision.INTENT and intent not in set(known_intents):
        raise ReviewError(f"unknown intent {intent!r}")
    decisions = load_decisions(path)
    decisions[item.key] = {"decision": decision.value, "intent": intent if decision is Decision.INTENT else None,
                           "examples": list(item.texts)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(decisions, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def inbox(groups: list[Group], decisions: dict[str, dict[str, Any]]) -> list[Group]:
    """The groups still to review."""
    return [item for item in groups if item.key not in decisions]


def trainable_intents(domain_path: Path) -> list[str]:
    """The intents staff may assign: the domain's, without those no citizen types."""
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
    names = [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []]
    return [name for name in names if name not in {"phone_handoff", "inform", "nlu_fallback", "feedback"}]


# --- Back into training ---

def personal_problem(text: str) -> str | None:
    """Why ``text`` cannot become a training example (something personal, or its placeholder), or None."""
    for placeholder in PLACEHOLDERS:
        if placeholder in text:
            return f"holds {placeholder} (masked personal data): a training example must not"
    spans = find_spans(text, password_expected=True)
    if spans:
        start, end, kind = spans[0]
        return f"holds what looks like {Kind(kind).name.lower()} data at characters {start}-{end}"
    return None


@dataclass
class WriteResult:
    """Examples written per intent, and the refused ones with their reason."""

    written: dict[str, list[str]] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)


def write_reviewed(decisions: dict[str, dict[str, Any]], out: Path) -> WriteResult:
    """Write every example decided to an intent to ``out`` (Rasa NLU YAML), merged with what is there."""
    result = WriteResult()
    existing = _read_reviewed(out)
    for decision in decisions.values():
        intent = decision.get("intent")
        if decision.get("decision") != Decision.INTENT.value or not intent:
            continue
        for example in decision.get("examples") or []:
            problem = personal_problem(example)
            if problem:
                result.refused.append((example, problem))
                continue
            if example not in existing.setdefault(intent, []):
                existing[intent].append(example)
                result.written.setdefault(intent, []).append(example)
    lines = [REVIEWED_HEADER, 'version: "3.1"', "nlu:"]
    for intent in sorted(existing):
        if not existing[intent]:
            continue
        lines += [f"  - intent: {intent}", "    examples: |"]
        lines += [f"      - {_one_line(example)}" for example in existing[intent]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return result


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _read_reviewed(path: Path) -> dict[str, list[str]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError:
        return {}
    found: dict[str, list[str]] = {}
    for item in data.get("nlu") or []:
        if isinstance(item, dict) and item.get("intent"):
            examples = str(item.get("examples") or "")
            found[str(item["intent"])] = [line.strip()[2:].strip() for line in examples.splitlines()
                                          if line.strip().startswith("- ")]
    return found

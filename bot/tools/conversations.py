"""Citizen-led conversations (tests/conversations/*.yml) run end to end against a real Rasa server.

The suite is the proof of issue 14: conversations written as citizens type or speak them, each turn
with what the reply must and must not contain (format: tests/conversations/README.md). This module
loads and checks the YAML files, talks to a Rasa server over REST, socket.io and the phone line's
webhook, applies the checks every reply must pass, and reports "conversations completed without a
person". `tests/e2e/test_conversations.py` runs one pytest case per conversation with the same code;
`python -m bot.tools.conversations` (run by `make eval`) prints the figure and every failing turn.

Global checks, applied to every reply of every conversation:
- no request to rephrase ("reformuler") two turns in a row;
- no traceback or exception text;
- no personal value the citizen typed (a run of six digits or more, a birth year, an email, a
  password) said back, and nothing of a demo citizen file (names, expiry dates, amounts, activities)
  said before an identification succeeded (a reply saying "identifié" or that the file is linked);
- no two messages of one turn with the same text.
"""
from __future__ import annotations

import argparse
import json
import queue
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

SUITE_DIR = PROJECT_ROOT / "tests" / "conversations"
CHANNELS = ("rest", "ivr", "socketio")
WEB_CHANNELS = ("rest", "socketio")
PERSON_VALUES = ("expected", "not_expected")
# The demo accounts of DESIGN.md a turn may be logged in as (`token:`), and the broken tokens.
ACCOUNTS = {"marie": "marie.tremblay@example.com", "jean": "jean.gagnon@example.com"}
BROKEN_TOKENS = {"forged": "marie", "expired": "marie"}
TOKENS = (*ACCOUNTS, *BROKEN_TOKENS)
# The guided flows and behaviours a conversation is filed under (the suite's matrix).
FLOWS = (
    "link_card",
    "identify_card_expiry",
    "identify_profile",
    "identify_amount_due",
    "identify_registrations",
    "email_confirmation",
    "password_check",
    "guide",
)
BEHAVIOURS = (
    "information_whenever",  # 1. information whenever it comes
    "implicit_answer",  # 2. an offer answered with the data or the next question, or "non merci"
    "correction",  # 3. corrections
    "digression",  # 4. digressions and return, stopping
    "several_things",  # 5. several things in one message
    "guide_topic",  # 6. the whole guide, including what it implies
    "failure",  # wrong values, lock-out, forged token
)
TURN_KEYS = {"user", "channel", "token", "digits", "confidence", "must", "must_not"}
CONVERSATION_KEYS = {"name", "behaviour", "flow", "person", "channel", "linked", "turns", "note", "known_gap"}

REPHRASE = re.compile(r"reformuler", re.IGNORECASE)
TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|\b[A-Z][A-Za-z]*(Error|Exception)\b|"
    r"\bNone\b|\{[a-z_]+\}"
)
# What the assistant says once an identification succeeded (utter_identified, utter_card_linked, ...).
# The success answers only: the guide's card-linking steps also quote "maintenant lié" (what the site shows).
IDENTIFIED = re.compile(
    r"vous êtes identifi|maintenant lié à votre dossier à la Ville\.(\*\*)? (Cliquez|Sur le portail)|déjà lié", re.IGNORECASE
)
# What a demo citizen file holds (bot/backend/seed.py): said only to an identified person.
FILE_VALUES = (
    "Marie", "Léa", "Jean", "Sophie", "Tremblay", "Gagnon", "31 mars 2027", "30 septembre 2026",
    "15 décembre 2026", "31 janvier 2028", "45,00", "Natation", "Soccer U12",
)  # fmt: skip
_DIGIT_RUN = re.compile(r"\d(?:[ .\-]?\d)+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_YEAR = re.compile(r"\b(19[2-9]\d|20[01]\d)\b")
_REGEX = re.compile(r"^/(.*)/$", re.DOTALL)


class SuiteError(ValueError):
    """A conversation file that does not follow the format of tests/conversations/README.md."""


@dataclass(frozen=True)
class Turn:
    """One citizen turn and what the reply must and must not contain."""

    user: str
    channel: str
    token: str | None = None
    digits: str | None = None
    confidence: float | None = None
    must: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conversation:
    """One conversation of the suite."""

    name: str
    behaviour: str
    flow: str
    person: str
    turns: tuple[Turn, ...]
    source: str = ""
    linked: tuple[str, ...] = ()
    # Why the assistant does not yet do what this conversation asks (a known gap, said in the issue's
    # note): `make eval` counts it like any other; `make test` expects it to fail (not strictly).
    known_gap: str = ""

    @property
    def person_expected(self) -> bool:
        return self.person == "expected"


@dataclass
class TurnFailure:
    """What went wrong at one turn (index 0 is the first; -1: the conversation's end)."""

    index: int
    user: str
    problem: str
    reply: str = ""

    def line(self) -> str:
        where = f"turn {self.index + 1}" if self.index >= 0 else "end"
        said = f" « {self.user} »" if self.user else ""
        text = f"  {where}:{said} -> {self.problem}"
        if self.reply:
            text += f"\n      reply: {self.reply[:300]!r}"
        return text


@dataclass
class Outcome:
    """A conversation run: its failures (none: passed) and whether a person was handed the conversation."""

    conversation: Conversation
    failures: list[TurnFailure] = field(default_factory=list)
    handed_to_person: bool | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


# --- Loading ---


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise SuiteError(f"{where}: expected a list of non-empty strings")
    for item in value:
        match = _REGEX.match(item)
        if match:
            try:
                re.compile(match.group(1))
            except re.error as error:
                raise SuiteError(f"{where}: bad regex {item!r}: {error}") from None
    return tuple(value)


def parse_turn(raw: Any, default_channel: str, where: str) -> Turn:
    """One turn of a conversation file."""
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: a turn is a mapping")
    unknown = set(raw) - TURN_KEYS
    if unknown:
        raise SuiteError(f"{where}: unknown keys {sorted(unknown)}")
    user = raw.get("user", "")
    digits = raw.get("digits")
    if not isinstance(user, str) or (not user and digits is None):
        raise SuiteError(f"{where}: `user` (text) or `digits` is required")
    channel = raw.get("channel", default_channel)
    if channel not in CHANNELS:
        raise SuiteError(f"{where}: channel {channel!r} is not one of {CHANNELS}")
    token = raw.get("token")
    if token is not None:
        if token not in TOKENS:
            raise SuiteError(f"{where}: token {token!r} is not one of {TOKENS}")
        if channel not in WEB_CHANNELS:
            raise SuiteError(f"{where}: a portal token goes with the web channels only")
    if digits is not None:
        digits = str(digits)
        if channel != "ivr" or not re.fullmatch(r"[0-9*#]{1,32}", digits):
            raise SuiteError(f"{where}: `digits` are keypad keys (0-9, *, #) on the ivr channel")
    confidence = raw.get("confidence")
    if confidence is not None and (channel != "ivr" or not isinstance(confidence, (int, float))):
        raise SuiteError(f"{where}: `confidence` is a number, on the ivr channel")
    return Turn(
        user=user, channel=channel, token=token, digits=digits,
        confidence=float(confidence) if confidence is not None else None,
        must=_strings(raw.get("must"), f"{where} must"), must_not=_strings(raw.get("must_not"), f"{where} must_not"),
    )


def parse_conversation(raw: Any, source: str) -> Conversation:
    """One conversation of a file (`source` names it in errors)."""
    if not isinstance(raw, dict):
        raise SuiteError(f"{source}: a conversation is a mapping")
    name = raw.get("name")
    where = f"{source}: {name or '?'}"
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,79}", name):
        raise SuiteError(f"{where}: `name` is required (lowercase letters, digits, - and _)")
    unknown = set(raw) - CONVERSATION_KEYS
    if unknown:
        raise SuiteError(f"{where}: unknown keys {sorted(unknown)}")
    if raw.get("behaviour") not in BEHAVIOURS:
        raise SuiteError(f"{where}: `behaviour` must be one of {BEHAVIOURS}")
    if raw.get("flow") not in FLOWS:
        raise SuiteError(f"{where}: `flow` must be one of {FLOWS}")
    if raw.get("person") not in PERSON_VALUES:
        raise SuiteError(f"{where}: `person` must be one of {PERSON_VALUES}")
    channel = raw.get("channel", "rest")
    if channel not in CHANNELS:
        raise SuiteError(f"{where}: channel {channel!r} is not one of {CHANNELS}")
    linked = raw.get("linked") or []
    if not isinstance(linked, list) or not all(item in ACCOUNTS for item in linked):
        raise SuiteError(f"{where}: `linked` lists demo accounts among {tuple(ACCOUNTS)}")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise SuiteError(f"{where}: `turns` is a non-empty list")
    parsed = tuple(parse_turn(turn, channel, f"{where} turn {n + 1}") for n, turn in enumerate(turns))
    if not any(turn.must or turn.must_not for turn in parsed):
        raise SuiteError(f"{where}: no turn checks anything (`must` or `must_not`)")
    known_gap = raw.get("known_gap", "")
    if not isinstance(known_gap, str):
        raise SuiteError(f"{where}: `known_gap` is the reason, as text")
    return Conversation(
        name, raw["behaviour"], raw["flow"], raw["person"], parsed, source, tuple(linked), known_gap.strip()
    )


def load_text(text: str, source: str = "<text>") -> list[Conversation]:
    """The conversations of one YAML document: a list of conversations (or `{conversations: [...]}`)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SuiteError(f"{source}: not YAML: {error}") from None
    if isinstance(data, dict) and "conversations" in data:
        data = data["conversations"]
    if not isinstance(data, list):
        raise SuiteError(f"{source}: a list of conversations is expected")
    return [parse_conversation(item, source) for item in data]


def load_suite(directory: Path = SUITE_DIR) -> list[Conversation]:
    """Every conversation of the suite's YAML files, in file order; names are unique."""
    conversations: list[Conversation] = []
    for path in sorted(directory.glob("*.yml")):
        conversations += load_text(path.read_text(encoding="utf-8"), path.name)
    names = [c.name for c in conversations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SuiteError(f"conversation names used twice: {duplicates}")
    return conversations


# --- Checking replies ---


def _normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def matches(expectation: str, text: str) -> bool:
    """Whether ``text`` holds ``expectation``: a case-insensitive substring, or ``/regex/`` (case-insensitive)."""
    regex = _REGEX.match(expectation)
    if regex:
        return re.search(regex.group(1), text, re.IGNORECASE | re.DOTALL) is not None
    return _normalized(expectation) in _normalized(text)


def typed_personal_values(text: str) -> set[str]:
    """What a citizen typed that is personal and must never be said back.

    Runs of six digits or more (card digits, phone numbers, a date in digits; separators removed),
    birth years, emails, and what looks like a password.
    """
    from bot.policy.password import password_spans

    values = {re.sub(r"\D", "", run) for run in _DIGIT_RUN.findall(text)}
    values = {v for v in values if len(v) >= 6}
    values |= set(_YEAR.findall(text))
    values |= {email.casefold() for email in _EMAIL.findall(text)}
    values |= {text[start:end] for start, end in password_spans(text) if "@" not in text[start:end]}
    return values


def _said_back(value: str, reply: str) -> bool:
    if "@" in value:
        return value in reply.casefold() or value.split("@")[0] in reply.casefold()
    if value.isdigit() and len(value) == 4:
        return re.search(rf"(?<![\d-]){value}\b", reply) is not None
    if value.isdigit():
        return any(value in re.sub(r"\D", "", run) for run in _DIGIT_RUN.findall(reply))
    return value in reply


@dataclass
class ConversationState:
    """What the global checks remember from one turn to the next."""

    typed: set[str] = field(default_factory=set)
    identified: bool = False
    last_asked_to_rephrase: bool = False


def check_turn(
    turn: Turn, messages: Sequence[str], state: ConversationState, identified_by_token: bool = False
) -> list[str]:
    """The problems of one turn's reply (its messages, in order): the turn's checks, then the global ones.

    ``identified_by_token``: the turn carries the portal token of an account linked to its file, so the
    file's data may be said.
    """
    problems: list[str] = []
    reply = "\n".join(messages)
    for expected in turn.must:
        if not matches(expected, reply):
            problems.append(f"missing {expected!r}")
    for refused in turn.must_not:
        if matches(refused, reply):
            problems.append(f"must not say {refused!r}")
    if not messages or not reply.strip():
        problems.append("no reply")
    # Global checks.
    rephrase = bool(REPHRASE.search(reply))
    if rephrase and state.last_asked_to_rephrase:
        problems.append("asked to rephrase two turns in a row")
    state.last_asked_to_rephrase = rephrase
    error = TRACEBACK.search(reply)
    if error:
        problems.append(f"error or template text in the reply: {error.group(0)!r}")
    state.typed |= typed_personal_values(turn.user)
    for value in sorted(state.typed):
        if _said_back(value, reply):
            problems.append("a personal value the citizen typed was said back")
            break
    if IDENTIFIED.search(reply) or identified_by_token:
        state.identified = True
    if not state.identified:
        leaked = [value for value in FILE_VALUES if re.search(rf"\b{re.escape(value)}\b", reply)]
        if leaked:
            problems.append(f"personal data before identification: {leaked}")
    seen: set[str] = set()
    for message in messages:
        key = _normalized(message)
        if key and key in seen:
            problems.append("two messages of one turn say the same")
            break
        seen.add(key)
    return problems


# --- Talking to a server ---


def conversation_id(name: str) -> str:
    """A fresh conversation id for a run of ``name`` (no dot: client session keys forbid it)."""
    return f"conv-{name[:80]}-{uuid.uuid4().hex[:10]}"


class SocketConversation:
    """One web visitor on socket.io: one connection, one session, for every socket.io turn of a conversation."""

    def __init__(self, url: str, session_id: str, key: str) -> None:
        import socketio  # python-socketio, a dependency of Rasa

        from bot.session import CLIENT_SESSION_KEY

        self.replies: queue.Queue = queue.Queue()
        confirmed: queue.Queue = queue.Queue()
        self.session_id = session_id
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", confirmed.put)
        self.client.connect(url, socketio_path="/socket.io", transports=["polling"], wait_timeout=15)
        # As the widget does: only a socket holding the conversation's key listens to its replies.
        self.client.emit("session_request", {"session_id": session_id, CLIENT_SESSION_KEY: key})
        confirmed.get(timeout=15)

    def send(self, text: str, metadata: dict, turn_done: Any) -> list[dict]:
        """Send one message; the replies, once the tracker shows the turn ended and no message came for a while."""
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id, "metadata": metadata})
        messages: list[dict] = []
        deadline = time.monotonic() + 60
        quiet_since = None
        while time.monotonic() < deadline:
            try:
                messages.append(self.replies.get(timeout=0.2))
                quiet_since = None
                continue
            except queue.Empty:
                pass
            if messages and turn_done():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 0.6:
                    break
        return messages

    def close(self) -> None:
        self.client.disconnect()


class Runner:
    """Runs conversations against a Rasa server (REST, socket.io and ivr channels enabled).

    ``database_url``: the account database the server uses; it is put back to the demo data before each
    conversation (so a lock-out or a linked card never leaks into the next one) and the portal tokens are
    made from it. ``api_token``: the Rasa HTTP API's token, to read the handoff record in the tracker.
    """

    def __init__(self, url: str, database_url: str, api_token: str | None = None, ivr_token: str | None = None):
        self.url = url.rstrip("/")
        self.database_url = database_url
        self.api_token = api_token
        self.ivr_token = ivr_token

    # Demo data and tokens.
    def reset_demo_data(self, linked: Iterable[str] = ()) -> None:
        from bot.backend.factory import get_backend
        from bot.backend.setup import prepare_database

        prepare_database(self.database_url, reset=True)
        backend = get_backend(self.database_url)
        for name in linked:
            from bot.backend.seed import JEAN, MARIE

            person = {"marie": MARIE, "jean": JEAN}[name]
            account = backend.account_status(ACCOUNTS[name])
            if account.account_id is None:
                raise SuiteError(f"no demo account {name}")
            backend.link_card(account.account_id, person.card_last6, birth_date=person.birth_date.isoformat())

    def token(self, name: str) -> str:
        from bot.identity import make_demo_token

        if name in ACCOUNTS:
            return make_demo_token(ACCOUNTS[name], database_url=self.database_url)
        account = ACCOUNTS[BROKEN_TOKENS[name]]
        if name == "expired":
            return make_demo_token(account, ttl=timedelta(hours=-1), database_url=self.database_url)
        real = make_demo_token(account, database_url=self.database_url)
        return real[:-6] + ("AAAAAA" if not real.endswith("AAAAAA") else "BBBBBB")

    # The three channels.
    def _params(self) -> dict[str, str]:
        return {"token": self.api_token} if self.api_token else {}

    def tracker(self, sender: str) -> dict:
        import requests

        response = requests.get(f"{self.url}/conversations/{sender}/tracker", params=self._params(), timeout=30)
        response.raise_for_status()
        return response.json()

    def _turn_done(self, sender: str, user_turns: int) -> bool:
        events = self.tracker(sender).get("events") or []
        users = sum(1 for e in events if e.get("event") == "user")
        last = next((e for e in reversed(events) if e.get("event") == "action"), None)
        return users >= user_turns and last is not None and last.get("name") == "action_listen"

    def rest(self, sender: str, text: str, metadata: dict) -> list[str]:
        import requests

        body: dict[str, Any] = {"sender": sender, "message": text, "metadata": metadata}
        response = requests.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=60)
        if response.status_code != 200:
            return [f"HTTP {response.status_code}: {response.text[:200]}"]
        return [m.get("text", "") for m in response.json() if m.get("text")]

    def ivr(self, sender: str, turn: Turn) -> list[str]:
        import requests

        body: dict[str, Any] = {"call_id": sender, "transcript": turn.user}
        body["confidence"] = turn.confidence if turn.confidence is not None else 0.92
        if turn.digits:
            body["dtmf"] = turn.digits
        headers = {"Authorization": f"Bearer {self.ivr_token}"} if self.ivr_token else {}
        response = requests.post(f"{self.url}/webhooks/ivr/webhook", json=body, headers=headers, timeout=60)
        if response.status_code != 200:
            return [f"HTTP {response.status_code}: {response.text[:200]}"]
        reply = response.json()
        return list(reply.get("say") or [])

    def run(self, conversation: Conversation) -> Outcome:
        """Play one conversation from fresh demo data; every turn is checked, the run goes on after a failure."""
        from bot.session import CLIENT_SESSION_KEY, issue_client_session

        self.reset_demo_data(conversation.linked)
        sender = conversation_id(conversation.name)
        key = issue_client_session(sender)  # what the widget's server gives each web conversation
        outcome = Outcome(conversation)
        state = ConversationState()
        socket: SocketConversation | None = None
        user_turns = 0
        try:
            for index, turn in enumerate(conversation.turns):
                metadata: dict[str, Any] = {CLIENT_SESSION_KEY: key}
                if turn.token:
                    metadata["token"] = self.token(turn.token)
                user_turns += 1
                if turn.channel == "ivr":
                    messages = self.ivr(sender, turn)
                elif turn.channel == "socketio":
                    socket = socket or SocketConversation(self.url, sender, key)
                    replies = socket.send(turn.user, metadata, lambda n=user_turns: self._turn_done(sender, n))
                    messages = [m.get("text", "") for m in replies if m.get("text")]
                else:
                    messages = self.rest(sender, turn.user, metadata)
                by_token = turn.token in conversation.linked
                for problem in check_turn(turn, messages, state, by_token):
                    outcome.failures.append(TurnFailure(index, turn.user or turn.digits or "", problem,
                                                        "\n".join(messages)))
        except Exception as error:  # noqa: BLE001 - a broken server is a failing conversation, reported
            outcome.failures.append(TurnFailure(len(conversation.turns) - 1, "", f"{type(error).__name__}: {error}"))
            return outcome
        finally:
            if socket is not None:
                socket.close()
        slots = (self.tracker(sender).get("slots") or {})
        outcome.handed_to_person = bool(slots.get("handoff_reason"))
        if outcome.handed_to_person != conversation.person_expected:
            problem = (f"handed to a person ({slots.get('handoff_reason')})" if outcome.handed_to_person
                       else "a handoff to a person was expected")
            outcome.failures.append(TurnFailure(-1, "", problem))
        return outcome


# --- Report ---


def summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The figures of a run: conversations completed without a person (of those meant to), the others."""
    without = [o for o in outcomes if not o.conversation.person_expected]
    with_person = [o for o in outcomes if o.conversation.person_expected]
    matrix: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        row = matrix.setdefault(outcome.conversation.flow, {})
        row[outcome.conversation.behaviour] = row.get(outcome.conversation.behaviour, 0) + 1
    return {
        "conversations": len(outcomes),
        "passed": sum(o.passed for o in outcomes),
        "completed_without_person": sum(o.passed for o in without),
        "meant_without_person": len(without),
        "handed_to_person_as_expected": sum(o.passed for o in with_person),
        "meant_for_person": len(with_person),
        "matrix": matrix,
        "failing": [
            {"name": o.conversation.name, "file": o.conversation.source, "flow": o.conversation.flow,
             "behaviour": o.conversation.behaviour,
             "turns": [{"turn": f.index + 1 if f.index >= 0 else "end", "user": f.user, "problem": f.problem,
                        "reply": f.reply} for f in o.failures]}
            for o in outcomes if not o.passed
        ],
    }


def render(outcomes: Sequence[Outcome]) -> str:
    """The report printed by `make eval`."""
    figures = summary(outcomes)
    lines = [
        f"conversations completed without a person: {figures['completed_without_person']}/"
        f"{figures['meant_without_person']}",
        f"conversations handed to a person as expected (lock-out, a person asked for): "
        f"{figures['handed_to_person_as_expected']}/{figures['meant_for_person']}",
        f"all conversations passed: {figures['passed']}/{figures['conversations']}",
    ]
    failing = [o for o in outcomes if not o.passed]
    if failing:
        lines.append("failing turns:")
    for outcome in failing:
        c = outcome.conversation
        lines.append(f"- {c.name} ({c.source}, {c.flow} x {c.behaviour})")
        lines += [failure.line() for failure in outcome.failures]
    return "\n".join(lines)


def run_suite(runner: Runner, conversations: Sequence[Conversation], progress: bool = True) -> list[Outcome]:
    outcomes = []
    for n, conversation in enumerate(conversations, 1):
        outcome = runner.run(conversation)
        outcomes.append(outcome)
        if progress:
            mark = "ok" if outcome.passed else "FAIL"
            print(f"[{n}/{len(conversations)}] {mark} {conversation.name}", file=sys.stderr, flush=True)
    return outcomes


def _trained_model() -> str:
    import subprocess

    out = subprocess.run([str(PROJECT_ROOT / "scripts" / "train.sh")], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.tools.conversations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model archive to start a server with (default: scripts/train.sh's)")
    parser.add_argument("--url", help="reuse this running Rasa server instead of starting one "
                                      "(its account database is put back to the demo data)")
    parser.add_argument("--database-url", help="with --url: the server's account database (default: settings)")
    parser.add_argument("--api-token", help="with --url: the Rasa HTTP API token, if the server has one")
    parser.add_argument("--ivr-token", help="with --url: the phone gateway's token, if the server has one")
    parser.add_argument("--suite", type=Path, default=SUITE_DIR, help="folder of the conversation files")
    parser.add_argument("--only", action="append", default=[], help="run only the conversations of this name")
    parser.add_argument("--json", type=Path, help="also write the figures and failing turns to this JSON file")
    args = parser.parse_args(argv)

    conversations = load_suite(args.suite)
    if args.only:
        conversations = [c for c in conversations if c.name in set(args.only)]
    stack = None
    if args.url:
        from bot.settings import get_settings

        runner = Runner(args.url, args.database_url or get_settings().database_url, args.api_token, args.ivr_token)
    else:
        from bot.tools.bench import API_TOKEN, make_stack

        model = Path(args.model or _trained_model())
        stack = make_stack(Path(tempfile.mkdtemp(prefix="conversations-")))
        stack.start_actions()
        url = stack.start_rasa("rasa", model)
        print(f"starting Rasa with {model} ...", file=sys.stderr, flush=True)
        stack.wait_until_up()
        runner = Runner(url, stack.env["BOT_DATABASE_URL"], API_TOKEN)
    try:
        outcomes = run_suite(runner, conversations)
    finally:
        if stack is not None:
            stack.stop()
            shutil.rmtree(stack.workdir, ignore_errors=True)
    print(render(outcomes))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary(outcomes), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bot replay FILE.jsonl`: recorded conversations through the trained model, in process, to estimate deflection.

Input: one JSON object per line, ``{"id": "...", "channel": "web"|"ivr", "turns": ["...", ...]}``
(a turn may also be ``{"text": "..."}``). Output: one JSON object per turn (intent, confidence,
replies, actions), and a summary of how many conversations would have been settled without a
person. The model runs with an in-memory tracker store: the production tracker store is never
touched. Custom actions go to the action server of endpoints.yml when it answers; otherwise each
turn that needed one says so and its conversation is counted as undetermined.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.analytics.figures import escalation_reason

INPUT_CHANNELS = {"web": "rest", "ivr": "ivr"}
FAILED_ACTION_LOG = "Encountered an exception while running action"
HEALTH_TIMEOUT_S = 2.0


class MalformedLine(ValueError):
    """A line of the input file that is not a recorded conversation."""


@dataclass(frozen=True)
class Recorded:
    """One recorded conversation or call transcript."""

    id: str
    channel: str
    turns: list[str]


@dataclass(frozen=True)
class BadLine:
    """A skipped input line and why."""

    line: int
    reason: str


def parse_line(line: str) -> Recorded:
    """A recorded conversation from one JSON line; MalformedLine says what is wrong, in French."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise MalformedLine(f"JSON invalide ({error.msg}, colonne {error.colno})") from None
    if not isinstance(data, dict):
        raise MalformedLine("un objet JSON est attendu")
    identifier = data.get("id")
    if not isinstance(identifier, str | int) or isinstance(identifier, bool) or str(identifier).strip() == "":
        raise MalformedLine("« id » manquant")
    channel = data.get("channel", "web")
    if channel not in INPUT_CHANNELS:
        raise MalformedLine(f"canal « {channel} » inconnu (web ou ivr)")
    turns = data.get("turns")
    if not isinstance(turns, list) or not turns:
        raise MalformedLine("« turns » doit être une liste non vide")
    texts = [turn.get("text") if isinstance(turn, dict) else turn for turn in turns]
    if not all(isinstance(text, str) and text.strip() for text in texts):
        raise MalformedLine("chaque tour doit être un texte non vide")
    return Recorded(str(identifier), channel, [str(text) for text in texts])


def read_recorded(lines: Iterable[str]) -> Iterator[Recorded | BadLine]:
    """Recorded conversations, and a BadLine (1-based line number) for each line that is not one."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_line(line)
        except MalformedLine as error:
            yield BadLine(number, str(error))


@dataclass
class Turn:
    """What the assistant understood and answered for one user turn."""

    conversation: str
    turn: int
    channel: str
    text: str
    intent: str | None
    confidence: float | None
    replies: list[str]
    actions: list[str]
    custom_actions: list[str]
    needs_action_server: bool


@dataclass
class Outcome:
    """The result of one replayed conversation."""

    id: str
    channel: str
    turns: list[Turn]
    escalation: str | None

    @property
    def undetermined(self) -> bool:
        """A custom action could not run, so what the citizen would have got is unknown."""
        return self.escalation is None and any(turn.needs_action_server for turn in self.turns)


@dataclass
class Summary:
    """How many replayed conversations would have been settled without a person."""

    conversations: int = 0
    turns: int = 0
    without_person: int = 0
    escalated: int = 0
    undetermined: int = 0
    reasons: Counter = field(default_factory=Counter)
    malformed: list[BadLine] = field(default_factory=list)
    action_server: bool = True

    def add(self, outcome: Outcome) -> None:
        self.conversations += 1
        self.turns += len(outcome.turns)
        if outcome.escalation:
            self.escalated += 1
            self.reasons[outcome.escalation] += 1
        elif outcome.undetermined:
            self.undetermined += 1
        else:
            self.without_person += 1

    def as_dict(self) -> dict:
        return {
            "conversations": self.conversations,
            "turns": self.turns,
            "without_person": self.without_person,
            "escalated": self.escalated,
            "undetermined": self.undetermined,
            "deflection_rate": self.without_person / self.conversations if self.conversations else None,
            "escalation_reasons": dict(self.reasons.most_common()),
            "malformed_lines": [asdict(bad) for bad in self.malformed],
            "action_server_reachable": self.action_server,
        }

    def text(self) -> str:
        """The summary in French, for the operator's terminal."""
        from bot.analytics.render import percent, reason_label

        rate = self.without_person / self.conversations if self.conversations else None
        lines = [
            f"Conversations rejouées : {self.conversations} ({self.turns} tours)",
            f"Réglées sans personne : {self.without_person} ({percent(rate)})",
            f"Transférées à une personne : {self.escalated}",
        ]
        lines += [f"  - {reason_label(reason)} : {count}" for reason, count in self.reasons.most_common()]
        if not self.action_server:
            lines.append(f"Indéterminées (serveur d'actions injoignable) : {self.undetermined}")
        if self.malformed:
            lines.append(f"Lignes ignorées : {len(self.malformed)} ({', '.join(str(b.line) for b in self.malformed)})")
        return "\n".join(lines) + "\n"


def action_server_reachable(webhook_url: str | None) -> bool:
    """Whether the action server behind this webhook URL answers its health check."""
    import requests

    if not webhook_url:
        return False
    base = webhook_url.rsplit("/webhook", 1)[0]
    try:
        return requests.get(f"{base}/health", timeout=HEALTH_TIMEOUT_S).ok
    except requests.RequestException:
        return False


class _DropFailedActions(logging.Filter):
    """Silences the traceback Rasa logs for each custom action run without an action server."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(FAILED_ACTION_LOG)


class Replayer:
    """The trained assistant in process, with an in-memory tracker store."""

    def __init__(self, model: Path, endpoints: Path) -> None:
        from rasa.core.agent import Agent
        from rasa.core.tracker_store import InMemoryTrackerStore
        from rasa.core.utils import read_endpoints_from_path
        from rasa.shared.core.domain import Domain

        action_endpoint = read_endpoints_from_path(endpoints).action if endpoints.exists() else None
        self.action_server = action_server_reachable(action_endpoint.url if action_endpoint else None)
        if not self.action_server:
            logging.getLogger("rasa.core.processor").addFilter(_DropFailedActions())
        self.memory = InMemoryTrackerStore(Domain.empty())
        self.agent = Agent.load(
            str(model),
            tracker_store=self.memory,
            action_endpoint=action_endpoint if self.action_server else None,
        )
        domain = self.agent.domain
        responses = set(domain.responses)
        self.custom_actions = {name for name in domain.user_actions if name not in responses}
        self.forms = set(domain.form_names)

    def _custom_actions_of(self, actions: list[str]) -> list[str]:
        needed = [name for name in actions if name in self.custom_actions]
        needed += [f"validate_{name}" for name in actions
                   if name in self.forms and f"validate_{name}" in self.custom_actions]
        return list(dict.fromkeys(needed))

    async def run(self, recorded: Recorded, index: int) -> Outcome:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        channel_name = INPUT_CHANNELS[recorded.channel]

        class Output(CollectingOutputChannel):
            @classmethod
            def name(cls) -> str:
                return channel_name

        sender = f"replay-{index}-{recorded.id}"
        store = self.agent.tracker_store
        turns: list[Turn] = []
        for number, text in enumerate(recorded.turns, start=1):
            output = Output()
            await self.agent.handle_message(
                UserMessage(text, output_channel=output, sender_id=sender, input_channel=channel_name)
            )
            tracker = await store.get_or_create_tracker(sender)
            events = list(tracker.events)
            last_user = max(i for i, event in enumerate(events) if event.type_name == "user")
            intent = events[last_user].intent or {}
            actions = [event.action_name for event in events[last_user + 1:]
                       if event.type_name == "action" and event.action_name != "action_listen"]
            custom = self._custom_actions_of(actions)
            turns.append(Turn(
                conversation=recorded.id, turn=number, channel=recorded.channel, text=text,
                intent=intent.get("name"), confidence=intent.get("confidence"),
                replies=[message["text"] for message in output.messages if message.get("text")],
                actions=actions, custom_actions=custom, needs_action_server=bool(custom) and not self.action_server,
            ))
        tracker = await store.get_or_create_tracker(sender)
        escalation = escalation_reason(event.as_dict() for event in tracker.events)
        self.memory.store.pop(sender, None)
        return Outcome(recorded.id, recorded.channel, turns, escalation)


def replay(source: Path, out: Path, model: Path, endpoints: Path, progress: bool = True) -> Summary:
    """Replay every conversation of `source`, write one JSON line per turn to `out`, return the summary."""
    from tqdm import tqdm

    replayer = Replayer(model, endpoints)
    summary = Summary(action_server=replayer.action_server)
    with source.open(encoding="utf-8") as counting:
        total = sum(1 for line in counting if line.strip())

    async def run_all() -> None:
        with source.open(encoding="utf-8") as lines, out.open("w", encoding="utf-8") as sink, tqdm(
            total=total, unit="conv.", disable=None if progress else True, file=sys.stderr
        ) as bar:
            for index, item in enumerate(read_recorded(lines), start=1):
                if isinstance(item, BadLine):
                    summary.malformed.append(item)
                    bar.write(f"Ligne {item.line} ignorée : {item.reason}", file=sys.stderr)
                else:
                    outcome = await replayer.run(item, index)
                    summary.add(outcome)
                    for turn in outcome.turns:
                        sink.write(json.dumps(asdict(turn), ensure_ascii=False) + "\n")
                bar.update(1)

    asyncio.run(run_all())
    return summary


def add_replay_command(sub: argparse._SubParsersAction) -> None:
    """Register `replay` (Rasa is imported when it runs)."""
    command = sub.add_parser("replay", help="rejouer des conversations enregistrées avec le modèle entraîné")
    command.add_argument("file", type=Path, metavar="FILE.jsonl", help="une conversation JSON par ligne")
    command.add_argument("--out", type=Path, metavar="FILE",
                         help="résultat par tour, JSONL (défaut : FILE.replay.jsonl à côté de l'entrée)")
    command.add_argument("--model", type=Path, metavar="PATH", help="modèle (défaut : le plus récent de models/)")
    command.add_argument("--endpoints", type=Path, metavar="FILE",
                         help="serveur d'actions à utiliser s'il répond (défaut : endpoints.yml)")
    command.set_defaults(func=replay_command)


def replay_command(args: argparse.Namespace) -> int:
    from bot.settings import PROJECT_ROOT

    if not args.file.is_file():
        print(f"Erreur : fichier introuvable : {args.file}", file=sys.stderr)
        return 2
    model = args.model or latest_model(PROJECT_ROOT / "models")
    if model is None or not model.is_file():
        print("Erreur : aucun modèle entraîné (lancez `make train` ou donnez --model).", file=sys.stderr)
        return 2
    out = args.out or args.file.with_suffix(".replay.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    quiet_rasa_logs()
    endpoints = args.endpoints or PROJECT_ROOT / "endpoints.yml"
    summary = replay(args.file, out, model, endpoints, progress=True)
    summary_path = out.with_suffix(".summary.json")
    summary_path.write_text(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(summary.text())
    print(f"Résultats par tour : {out}\nRésumé : {summary_path}")
    return 0


def quiet_rasa_logs() -> None:
    """Only Rasa's warnings and errors, on stderr (stdout carries the summary); no library deprecation notices."""
    import structlog

    warnings.filterwarnings("ignore")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("rasa").setLevel(logging.WARNING)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def latest_model(models: Path) -> Path | None:
    """The most recently trained model archive, if any."""
    archives = sorted(models.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    return archives[-1] if archives else None

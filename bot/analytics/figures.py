"""The report's figures, counted from conversation sessions (lists of Rasa event dictionaries)."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.analytics.store import SESSION_START_ACTION, Session
from bot.contract import (
    ANOTHER_TRY_POLICY,
    HANDOFF_REASON_SLOT,
    HANDOFF_SLOTS,
    HANDOFF_TOPIC_SLOT,
    HANDOFF_TRIED_SLOT,
    HandoffReason,
)
from bot.feedback import FEEDBACK_REASON_SLOT, FEEDBACK_SLOT, FeedbackReason, Helpful
from bot.privacy import redact_text

REQUEST_HUMAN_INTENT = "request_human"
FALLBACK_INTENT = "nlu_fallback"
WEB_INPUT_CHANNELS = frozenset({"rest", "socketio"})
CHANNELS = ("web", "ivr", "autre")
TOP_NOT_UNDERSTOOD = 15

_PUNCTUATION = re.compile(r"[^\w\s\[\]'’-]")
_SPACES = re.compile(r"\s+")


def channel_of(input_channel: str | None) -> str:
    """The report's channel for Rasa's input channel name: web, ivr (the phone line) or autre."""
    if input_channel in WEB_INPUT_CHANNELS:
        return "web"
    if input_channel == "ivr":
        return "ivr"
    return "autre"


def intent_of(user_event: dict) -> str | None:
    """The intent Rasa predicted for a user event."""
    return ((user_event.get("parse_data") or {}).get("intent") or {}).get("name")


def read_by_content(events: list[dict]) -> set[int]:
    """Indexes of the user events a flow's another try took by the value they held (`bot.another_try`).

    The model may have read them as not understood or off-topic, but the citizen was answered: such a
    message is neither counted as not understood nor put in the help desk's review inbox.
    """
    taken: set[int] = set()
    last_user: int | None = None
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind == "user":
            last_user = index
        elif kind == "action" and last_user is not None:
            if event.get("policy") == ANOTHER_TRY_POLICY:
                taken.add(last_user)
            last_user = None
    return taken


def normalize_not_understood(text: str) -> str:
    """Group key of a message the assistant did not understand: personal data masked, case and punctuation folded.

    The tracker store already holds redacted text (bot.privacy); redacting again here keeps
    personal data out of the report even for events written before redaction was in place.
    """
    text = redact_text(unicodedata.normalize("NFC", text or "")).casefold()
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text)).strip()


def escalation_reason(events: Iterable[dict]) -> str | None:
    """Why this session needed a person, or None when the assistant handled it alone.

    The reason the escalation action recorded in the `handoff_reason` slot wins (every handoff, the
    phone channel's after silence or unclear speech included, is recorded there); without it, asking
    for a person (intent `request_human`) or two `nlu_fallback` in a row count.
    """
    derived: str | None = None
    previous_was_fallback = False
    last_action: str | None = None
    for event in events:
        kind = event.get("event")
        if kind == "action":
            last_action = event.get("name")
        elif kind == "slot" and event.get("name") == HANDOFF_REASON_SLOT and event.get("value"):
            if last_action != SESSION_START_ACTION:
                return str(event["value"])
        elif kind == "user" and derived is None:
            intent = intent_of(event)
            if intent == REQUEST_HUMAN_INTENT:
                derived = HandoffReason.REQUEST_HUMAN.value
            elif intent == FALLBACK_INTENT and previous_was_fallback:
                derived = HandoffReason.REPEATED_FALLBACK.value
            previous_was_fallback = intent == FALLBACK_INTENT
    return derived


@dataclass(frozen=True)
class Handoff:
    """A handoff the escalation action recorded: when, where, why, about what, and what was tried."""

    time: datetime
    channel: str
    reason: str
    topic: str | None
    tried: list[str]


def _tried_list(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]


def handoffs_of(events: Iterable[dict], channel: str, tz: ZoneInfo) -> list[Handoff]:
    """Handoff records of one session, read from the `handoff_*` slot events of the escalation action.

    Slots carried over by `action_session_start` are not new handoffs and are skipped.
    """
    records: list[Handoff] = []
    values: dict[str, object] = {}
    pending_time: float | None = None
    last_action: str | None = None

    def flush() -> None:
        nonlocal pending_time
        if pending_time is not None and values.get(HANDOFF_REASON_SLOT):
            topic = values.get(HANDOFF_TOPIC_SLOT)
            records.append(
                Handoff(
                    time=datetime.fromtimestamp(pending_time, tz),
                    channel=channel,
                    reason=str(values[HANDOFF_REASON_SLOT]),
                    topic=None if topic in (None, "") else str(topic),
                    tried=_tried_list(values.get(HANDOFF_TRIED_SLOT)),
                )
            )
        pending_time = None

    for event in events:
        kind = event.get("event")
        if kind == "slot" and event.get("name") in HANDOFF_SLOTS:
            if last_action == SESSION_START_ACTION:
                continue
            values[event["name"]] = event.get("value")
            if event["name"] == HANDOFF_REASON_SLOT and event.get("value"):
                pending_time = float(event.get("timestamp") or 0.0)
            continue
        if kind in ("action", "user"):
            flush()
            if kind == "action":
                last_action = event.get("name")
    flush()
    return records


@dataclass(frozen=True)
class Feedback:
    """A citizen's answer to "Est-ce que cela vous a aidé?", with the reason given after a "non"."""

    time: datetime
    channel: str
    topic: str
    helpful: bool
    reason: str | None = None


def feedback_of(events: Iterable[dict], channel: str, tz: ZoneInfo) -> list[Feedback]:
    """The feedback of one session, from its `feedback` and `feedback_reason` slot events (bot/feedback.py).

    A reason belongs to the latest "non" before it.
    """
    records: list[Feedback] = []
    for event in events:
        if event.get("event") != "slot":
            continue
        value = event.get("value")
        if event.get("name") == FEEDBACK_SLOT and isinstance(value, dict) and value.get("helpful") in (
                Helpful.YES.value, Helpful.NO.value):
            records.append(Feedback(datetime.fromtimestamp(float(event.get("timestamp") or 0.0), tz), channel,
                                    str(value.get("topic") or "autre"), value["helpful"] == Helpful.YES.value))
        elif (event.get("name") == FEEDBACK_REASON_SLOT and value in {r.value for r in FeedbackReason}
              and records and not records[-1].helpful):
            last = records[-1]
            records[-1] = Feedback(last.time, last.channel, last.topic, last.helpful, str(value))
    return records


@dataclass
class Helpfulness:
    """Answers to "Est-ce que cela vous a aidé?" for one topic, channel or day."""

    key: str
    yes: int = 0
    no: int = 0

    @property
    def answers(self) -> int:
        return self.yes + self.no

    @property
    def rate(self) -> float | None:
        return self.yes / self.answers if self.answers else None


def helpfulness(records: Iterable[Feedback], key: Callable[[Feedback], str]) -> list[Helpfulness]:
    """Answers grouped by ``key``, in the order of the keys."""
    groups: dict[str, Helpfulness] = {}
    for record in records:
        group = groups.setdefault(key(record), Helpfulness(key(record)))
        if record.helpful:
            group.yes += 1
        else:
            group.no += 1
    return [groups[name] for name in sorted(groups)]


@dataclass
class Flow:
    """A guided flow (a Rasa form): how often it started and how often the citizen finished it."""

    name: str
    started: int = 0
    completed: int = 0


def flows_of(events: Iterable[dict]) -> tuple[Counter, Counter]:
    """Forms started and completed in one session, from `active_loop` events.

    A form is completed when it deactivates itself (the `active_loop` reset follows the form's
    own action); a reset by `action_deactivate_loop` or by another action is an abandon.
    """
    started: Counter = Counter()
    completed: Counter = Counter()
    active: str | None = None
    last_action: str | None = None
    for event in events:
        kind = event.get("event")
        if kind == "action":
            last_action = event.get("name")
        elif kind == "active_loop":
            name = event.get("name")
            if name and name != active:
                started[name] += 1
            elif not name and active and last_action == active:
                completed[active] += 1
            active = name or None
    return started, completed


@dataclass
class Day:
    """Conversations of one local day."""

    day: date
    conversations: int = 0
    messages: int = 0
    contained: int = 0


@dataclass
class Report:
    """Every figure of the deflection report for one period and channel."""

    since: date | None
    until: date | None
    channel: str | None
    timezone: str
    conversations: int = 0
    user_messages: int = 0
    bot_messages: int = 0
    contained: int = 0
    escalated: int = 0
    fallback_messages: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    escalation_reasons: list[tuple[str, int]] = field(default_factory=list)
    intents: list[tuple[str, int]] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    heatmap: list[list[int]] = field(default_factory=lambda: [[0] * 24 for _ in range(7)])
    days: list[Day] = field(default_factory=list)
    not_understood: list[tuple[str, int]] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)

    def helpful_by(self, what: str) -> list[Helpfulness]:
        """Answers by ``topic``, ``channel`` or ``day`` (local)."""
        keys: dict[str, Callable[[Feedback], str]] = {
            "topic": lambda r: r.topic, "channel": lambda r: r.channel, "day": lambda r: r.time.date().isoformat()}
        return helpfulness(self.feedback, keys[what])

    @property
    def topics_most_no(self) -> list[Helpfulness]:
        """Topics with at least one "non", most "non" first."""
        return sorted((group for group in self.helpful_by("topic") if group.no), key=lambda g: (-g.no, g.key))

    @property
    def reasons(self) -> list[tuple[str, int]]:
        """Reasons given after a "non", most frequent first."""
        return Counter(r.reason for r in self.feedback if r.reason).most_common()

    @property
    def still_need_call_rate(self) -> float | None:
        """Share of the answers that say "je dois quand même appeler": the call was not deflected."""
        calls = sum(1 for r in self.feedback if r.reason == FeedbackReason.STILL_NEED_CALL.value)
        return calls / len(self.feedback) if self.feedback else None

    @property
    def helpful_rate(self) -> float | None:
        return sum(1 for r in self.feedback if r.helpful) / len(self.feedback) if self.feedback else None

    @property
    def containment_rate(self) -> float | None:
        return self.contained / self.conversations if self.conversations else None

    @property
    def escalation_rate(self) -> float | None:
        return self.escalated / self.conversations if self.conversations else None

    @property
    def fallback_rate(self) -> float | None:
        return self.fallback_messages / self.user_messages if self.user_messages else None

    @property
    def busiest_hours(self) -> list[tuple[int, int]]:
        """Hours of the day (local) with messages, busiest first."""
        ranked = sorted(((hour, count) for hour, count in enumerate(self.hours) if count), key=lambda hc: -hc[1])
        return ranked[:5]


def day_bounds(since: date | None, until: date | None, tz: ZoneInfo) -> tuple[float | None, float | None]:
    """Epoch seconds of the start of `since` and of the end of `until` (inclusive), local time."""
    start = datetime.combine(since, datetime.min.time(), tz).timestamp() if since else None
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tz).timestamp() if until else None
    return start, end


def build_report(
    sessions: Iterable[Session],
    tz: ZoneInfo,
    since: date | None = None,
    until: date | None = None,
    channel: str | None = None,
) -> Report:
    """Count every figure over the sessions that start in [since, until] on the channel (None: all)."""
    report = Report(since=since, until=until, channel=channel, timezone=str(tz.key))
    start_ts, end_ts = day_bounds(since, until, tz)
    channels: Counter = Counter()
    reasons: Counter = Counter()
    intents: Counter = Counter()
    not_understood: Counter = Counter()
    flows_started: Counter = Counter()
    flows_completed: Counter = Counter()
    days: dict[date, Day] = {}
    for session in sessions:
        user_events = [event for event in session.events if event.get("event") == "user"]
        taken = {id(session.events[index]) for index in read_by_content(session.events)}
        if not user_events:
            continue
        if (start_ts is not None and session.start < start_ts) or (end_ts is not None and session.start >= end_ts):
            continue
        session_channel = channel_of(user_events[0].get("input_channel"))
        if channel and session_channel != channel:
            continue
        report.conversations += 1
        channels[session_channel] += 1
        report.user_messages += len(user_events)
        report.bot_messages += sum(1 for event in session.events if event.get("event") == "bot")
        reason = escalation_reason(session.events)
        if reason:
            report.escalated += 1
            reasons[reason] += 1
        else:
            report.contained += 1
        report.handoffs.extend(handoffs_of(session.events, session_channel, tz))
        report.feedback.extend(feedback_of(session.events, session_channel, tz))
        started, completed = flows_of(session.events)
        flows_started.update(started)
        flows_completed.update(completed)
        local_day = datetime.fromtimestamp(session.start, tz).date()
        day = days.setdefault(local_day, Day(local_day))
        day.conversations += 1
        day.messages += len(user_events)
        day.contained += 0 if reason else 1
        for event in user_events:
            intent = intent_of(event) or "(aucune)"
            intents[intent] += 1
            when = datetime.fromtimestamp(float(event.get("timestamp") or session.start), tz)
            report.hours[when.hour] += 1
            report.heatmap[when.weekday()][when.hour] += 1
            if intent == FALLBACK_INTENT and id(event) not in taken:
                report.fallback_messages += 1
                key = normalize_not_understood(event.get("text") or "")
                if key:
                    not_understood[key] += 1
    report.channels = {name: channels[name] for name in CHANNELS if channels[name]}
    report.escalation_reasons = reasons.most_common()
    report.intents = intents.most_common()
    report.flows = [
        Flow(name, flows_started[name], flows_completed[name]) for name in sorted(flows_started | flows_completed)
    ]
    report.not_understood = not_understood.most_common(TOP_NOT_UNDERSTOOD)
    report.handoffs.sort(key=lambda handoff: handoff.time)
    report.feedback.sort(key=lambda record: record.time)
    if days:
        first, last = min(days), max(days)
        report.days = [days.get(first + timedelta(n), Day(first + timedelta(n))) for n in range((last - first).days + 1)]
    return report

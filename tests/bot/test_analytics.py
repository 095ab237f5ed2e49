"""The deflection report on a real tracker store (SQLite file and PostgreSQL) filled by Rasa's SQLTrackerStore."""
from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.analytics.figures import build_report, day_bounds
from bot.analytics.html import to_html
from bot.analytics.render import to_dict, to_table
from bot.analytics.store import TrackerStoreError, iter_sessions
from bot.cli import main
from bot.settings import get_settings

TZ = ZoneInfo("America/Montreal")
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def at(month: int, day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ).timestamp()


@dataclass
class Conversation:
    """A scripted session: Rasa events to store, and what the test knows about it."""

    sender: str
    start: float
    channel: str = "rest"
    events: list[Event] = field(default_factory=list)
    turns: list[tuple[str, str, float]] = field(default_factory=list)
    escalation: str | None = None
    clock: float = 0.0

    def __post_init__(self) -> None:
        self.clock = self.start
        self.action("action_session_start", SessionStarted(timestamp=self.start))
        self.action("action_listen")

    def tick(self) -> float:
        self.clock += 7
        return self.clock

    def action(self, name: str, *events: Event) -> Conversation:
        self.events.append(ActionExecuted(name, timestamp=self.tick()))
        for event in events:
            event.timestamp = self.tick()
            self.events.append(event)
        return self

    def user(self, text: str, intent: str, reply: str | None = "utter_ok") -> Conversation:
        when = self.tick()
        self.events.append(
            UserUttered(text, {"name": intent, "confidence": 0.9}, timestamp=when, input_channel=self.channel)
        )
        self.turns.append((text, intent, when))
        if reply:
            self.action(reply, BotUttered("D'accord.", metadata={"utter_action": reply}))
            self.action("action_listen")
        return self


def handoff(reason: str, topic: str, tried: list[str]) -> list[Event]:
    return [SlotSet("handoff_reason", reason), SlotSet("handoff_topic", topic), SlotSet("handoff_tried", tried)]


def scripted() -> dict[str, list[Conversation]]:
    """Senders and their sessions, covering every figure of the report."""
    alice = Conversation("alice", at(3, 2, 10, 5)).user("bonjour", "greet").user(
        "comment créer un compte", "ask_create_account")
    bob = Conversation("bob", at(3, 2, 10, 30)).user("je veux parler à un agent", "request_human", reply=None)
    bob.action("action_escalate", *handoff("request_human", "password_rejected", ["utter_password_rules"]),
               BotUttered("Je vous transfère."))
    bob.action("action_listen")
    bob.escalation = "request_human"
    carl = Conversation("carl", at(3, 3, 14, 10), channel="ivr").user("blorp zz", "nlu_fallback").user(
        "Blorp   ZZ !", "nlu_fallback")
    carl.escalation = "repeated_fallback"
    dana = Conversation("dana", at(3, 3, 14, 40)).user("je veux lier ma carte", "link_card", reply=None)
    dana.action("link_card_form", ActiveLoop("link_card_form"), SlotSet("requested_slot", "card_digits"))
    dana.action("action_listen")
    dana.user("ma carte 123456 marche pas", "nlu_fallback").user("c'est 123456", "inform", reply=None)
    dana.action("link_card_form", SlotSet("card_digits", "[carte]"), ActiveLoop(None), SlotSet("requested_slot", None))
    dana.action("action_listen")
    emma = Conversation("emma", at(3, 4, 20, 15), channel="socketio").user("lier ma carte", "link_card", reply=None)
    emma.action("link_card_form", ActiveLoop("link_card_form"))
    emma.action("action_listen")
    emma.user("non laissez faire", "deny", reply=None)
    emma.action("action_deactivate_loop", ActiveLoop(None))
    emma.action("action_listen")
    emma.user("mon compte est bloqué", "login_problem", reply=None)
    emma.action("action_escalate", *handoff("locked", "login_problem", ["link_card_form", "utter_login_help"]))
    emma.action("action_listen")
    emma.escalation = "locked"
    fred_1 = Conversation("fred", at(3, 4, 9, 0)).user("un humain svp", "request_human")
    fred_1.escalation = "request_human"
    fred_2 = Conversation("fred", at(3, 6, 11, 0))
    # Slots carried over to the new session are neither a new handoff nor an escalation.
    fred_2.events[2:2] = [SlotSet("handoff_reason", "request_human", timestamp=fred_2.start),
                          SlotSet("handoff_topic", "autre", timestamp=fred_2.start)]
    fred_2.user("quelles sont vos heures", "ask_hours").user("merci", "thank")
    gina = Conversation("gina", at(3, 5, 12, 0))
    hugo = Conversation("hugo", at(2, 27, 23, 30)).user("allo", "greet").user("blorp zz", "nlu_fallback")
    return {"alice": [alice], "bob": [bob], "carl": [carl], "dana": [dana], "emma": [emma],
            "fred": [fred_1, fred_2], "gina": [gina], "hugo": [hugo]}


SENDERS = scripted()
ALL = [conversation for sessions in SENDERS.values() for conversation in sessions]


def fill(store: SQLTrackerStore) -> None:
    for sender, sessions in SENDERS.items():
        events = [event for conversation in sessions for event in conversation.events]
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tracker") / "tracker.db"
    fill(SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path)))
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def postgres_url() -> str:
    name = f"analytics_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432: {error.orig}")
    store = SQLTrackerStore(Domain.empty(), dialect="postgresql", host="127.0.0.1", port=5432,
                            username="postgres", db=name)
    fill(store)
    store.engine.dispose()
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def report_for(url: str, since: date | None = None, until: date | None = None, channel: str | None = None):
    return build_report(iter_sessions(url, *day_bounds(since, until, TZ)), TZ, since, until, channel)


def expected(conversations: list[Conversation]) -> dict:
    """The figures counted straight from the scripts."""
    talked = [c for c in conversations if c.turns]
    turns = [turn for c in talked for turn in c.turns]
    hours = Counter(datetime.fromtimestamp(when, TZ).hour for _, _, when in turns)
    return {
        "conversations": len(talked),
        "user_messages": len(turns),
        "escalated": sum(1 for c in talked if c.escalation),
        "contained": sum(1 for c in talked if not c.escalation),
        "reasons": Counter(c.escalation for c in talked if c.escalation),
        "intents": Counter(intent for _, intent, _ in turns),
        "fallbacks": sum(1 for _, intent, _ in turns if intent == "nlu_fallback"),
        "hours": [hours[hour] for hour in range(24)],
        "bot_messages": sum(1 for c in talked for e in c.events if isinstance(e, BotUttered)),
    }


def test_every_figure_matches_an_independent_count(store_url):
    report = report_for(store_url)
    want = expected(ALL)
    assert report.conversations == want["conversations"] == 8
    assert report.user_messages == want["user_messages"]
    assert report.bot_messages == want["bot_messages"]
    assert report.escalated == want["escalated"] == 4
    assert report.contained == want["contained"] == 4
    assert report.containment_rate == pytest.approx(4 / 8)
    assert report.escalation_rate == pytest.approx(4 / 8)
    assert dict(report.escalation_reasons) == want["reasons"]
    assert dict(report.intents) == want["intents"]
    assert report.fallback_messages == want["fallbacks"] == 4
    assert report.fallback_rate == pytest.approx(4 / want["user_messages"])
    assert report.hours == want["hours"]
    assert report.channels == {"web": 7, "ivr": 1}


def test_sessions_are_cut_at_session_start_and_empty_ones_are_not_conversations(store_url):
    report = report_for(store_url, since=date(2026, 3, 4), until=date(2026, 3, 6))
    # emma and fred's first session on the 4th, fred's second session on the 6th; gina said nothing.
    assert report.conversations == 3
    assert [(day.day, day.conversations, day.contained) for day in report.days] == [
        (date(2026, 3, 4), 2, 0), (date(2026, 3, 5), 0, 0), (date(2026, 3, 6), 1, 1)]


def test_days_are_local_days_in_montreal(store_url):
    # hugo wrote at 23:30 on Feb 27 in Montreal, already Feb 28 in UTC.
    report = report_for(store_url, since=date(2026, 2, 27), until=date(2026, 2, 27))
    assert report.conversations == 1
    assert report.hours[23] == 2
    assert report_for(store_url, since=date(2026, 2, 28), until=date(2026, 2, 28)).conversations == 0


def test_channel_filter(store_url):
    phone = report_for(store_url, channel="ivr")
    assert (phone.conversations, phone.escalated, dict(phone.escalation_reasons)) == (1, 1, {"repeated_fallback": 1})
    web = report_for(store_url, channel="web")
    assert web.conversations == 7
    assert web.channels == {"web": 7}


def test_flows_started_and_completed(store_url):
    flows = {flow.name: (flow.started, flow.completed) for flow in report_for(store_url).flows}
    # dana finished card linking; emma quit it.
    assert flows == {"link_card_form": (2, 1)}


def test_handoff_records_with_topic_and_what_was_tried(store_url):
    handoffs = report_for(store_url).handoffs
    assert [(h.time.date(), h.channel, h.reason, h.topic, h.tried) for h in handoffs] == [
        (date(2026, 3, 2), "web", "request_human", "password_rejected", ["utter_password_rules"]),
        (date(2026, 3, 4), "web", "locked", "login_problem", ["link_card_form", "utter_login_help"]),
    ]


def test_escalation_without_handoff_slots_still_counts(store_url):
    # fred's first session asked for a person but no escalation action recorded a handoff.
    report = report_for(store_url, since=date(2026, 3, 4), until=date(2026, 3, 4))
    assert dict(report.escalation_reasons) == {"request_human": 1, "locked": 1}
    assert len(report.handoffs) == 1


def test_not_understood_messages_grouped_without_personal_data(store_url):
    report = report_for(store_url)
    assert report.not_understood == [("blorp zz", 3), ("ma carte [carte] marche pas", 1)]
    assert "123456" not in to_table(report) + json.dumps(to_dict(report)) + to_html(report)


def test_busiest_hours_are_ranked(store_url):
    report = report_for(store_url)
    want = expected(ALL)["hours"]
    assert report.busiest_hours[0][1] == max(want)
    assert [count for _, count in report.busiest_hours] == sorted((c for c in want if c), reverse=True)[:5]


def test_an_empty_period_reports_zero_without_dividing_by_zero(store_url):
    report = report_for(store_url, since=date(2025, 1, 1), until=date(2025, 1, 31))
    assert (report.conversations, report.containment_rate, report.days) == (0, None, [])
    assert "(aucune donnée)" in to_table(report)
    assert "Aucune donnée" in to_html(report)


def test_a_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(TrackerStoreError, match="n'existe pas"):
        list(iter_sessions(f"sqlite:///{tmp_path / 'absent.db'}"))
    assert not (tmp_path / "absent.db").exists()


@pytest.fixture
def settings_for(monkeypatch):
    def use(url: str) -> None:
        monkeypatch.setenv("BOT_TRACKER_STORE_URL", url)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_command_json(store_url, settings_for, capsys):
    settings_for(store_url)
    assert main(["report", "--format", "json", "--since", "2026-03-01", "--channel", "web"]) == 0
    data = json.loads(capsys.readouterr().out)
    want = expected([c for c in ALL if c.channel != "ivr" and c.start >= at(3, 1, 0)])
    assert (data["conversations"], data["escalated"], data["user_messages"]) == (
        want["conversations"], want["escalated"], want["user_messages"])
    assert data["period"] == {"since": "2026-03-01", "until": None, "timezone": "America/Montreal"}
    assert data["handoffs"][1]["tried"] == ["link_card_form", "utter_login_help"]


def test_command_table_and_html_file(sqlite_url, settings_for, capsys, tmp_path):
    settings_for(sqlite_url)
    assert main(["report"]) == 0
    table = capsys.readouterr().out
    assert re.search(r"^Conversations +8$", table, re.MULTILINE)
    assert "Liaison de la Carte Accès Terrebonne" in table
    assert main(["report", "--format", "html", "--out", str(tmp_path / "rapport.html")]) == 0
    page = (tmp_path / "rapport.html").read_text()
    assert page.count("<svg") == 4
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_command_refuses_bad_dates(settings_for, sqlite_url, capsys):
    settings_for(sqlite_url)
    with pytest.raises(SystemExit):
        main(["report", "--since", "demain"])
    assert "AAAA-MM-JJ" in capsys.readouterr().err
    assert main(["report", "--since", "2026-03-05", "--until", "2026-03-01"]) == 2


def test_a_call_the_phone_channel_handed_off_counts_as_escalated_with_its_reason(tmp_path):
    # Three unclear turns: the channel asked twice to repeat by itself, then sent Rasa its handoff request.
    call = Conversation("call", at(3, 9, 10, 0), channel="ivr")
    call.events.append(UserUttered("/phone_handoff", {"name": "phone_handoff", "confidence": 1.0},
                                   timestamp=call.tick(), input_channel="ivr",
                                   metadata={"phone_handoff_reason": "unclear_speech"}))
    call.action("action_escalate", *handoff("unclear_speech", None, []), BotUttered("Je vous transfère."))
    call.action("action_listen")
    path = tmp_path / "tracker.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    asyncio.run(store.save(DialogueStateTracker.from_events("call", call.events)))
    store.engine.dispose()
    report = report_for(f"sqlite:///{path}")
    assert (report.conversations, report.escalated, report.contained) == (1, 1, 0)
    assert dict(report.escalation_reasons) == {"unclear_speech": 1}
    assert [(h.channel, h.reason) for h in report.handoffs] == [("ivr", "unclear_speech")]
    assert "Parole mal comprise au téléphone" in to_table(report)


def test_the_not_understood_list_reads_what_citizens_wrote_and_no_password(tmp_path):
    """Through the redacting tracker store, as in production: ordinary words stay, passwords do not."""
    from bot.tracker_store import InMemorySlotVault, RedactingSQLTrackerStore

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = RedactingSQLTrackerStore(domain=Domain.empty(), host=url, slot_vault=InMemorySlotVault(ttl_seconds=60))
    ordinary = ["ok,merci", "inscription (soccer)", "soccer U12-U14 c'est quand", "bon/mauvais",
                "camp de jour 9h-12h", "terrebonne.ca marche pas"]
    web = Conversation("ivan", at(3, 10, 10, 0))
    for text in ordinary:
        web.user(text, "nlu_fallback")
    web.user("j'ai essayé Soleil2024!", "nlu_fallback")
    web.user("le site refuse", "password_rejected", reply="utter_password_rejected")
    web.user("Soleil/bleu", "nlu_fallback")  # typed right after the password answer
    asyncio.run(store.save(DialogueStateTracker.from_events("ivan", web.events)))
    store.engine.dispose()

    listed = dict(report_for(url).not_understood)
    for text in ordinary:
        assert normalize(text) in listed, f"{text!r} unreadable in {listed}"
    assert "j'ai essayé [mot de passe]" in listed
    assert "[mot de passe]" in listed
    assert not any("soleil" in key for key in listed)


def test_a_correction_a_flow_took_again_is_not_counted_as_not_understood(tmp_path):
    """"je me suis trompé, c'est …" after "no account for this address": the model did not understand it, but
    the another-try policy started the email check again with the address it held; the citizen was answered."""
    conversation = Conversation("jean", at(3, 10, 10, 0))
    conversation.user("j'ai pas reçu le courriel", "email_confirmation_missing")
    conversation.user("je me suis trompé c'est l'autre", "nlu_fallback", reply=None)
    conversation.events.append(ActionExecuted("email_confirmation_form", policy="AnotherTryPolicy",
                                              timestamp=conversation.tick()))
    conversation.action("action_listen")
    conversation.user("pis c'est quoi le pickleball", "nlu_fallback")
    path = tmp_path / "tracker.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    asyncio.run(store.save(DialogueStateTracker.from_events("jean", conversation.events)))
    store.engine.dispose()
    report = report_for(f"sqlite:///{path}")
    assert report.fallback_messages == 1
    assert [text for text, _ in report.not_understood] == [normalize("pis c'est quoi le pickleball")]


def normalize(text: str) -> str:
    from bot.analytics.figures import normalize_not_understood

    return normalize_not_understood(text)


# --- "Est-ce que cela vous a aidé?" and handoffs in the help desk's words ---

def rated(sender: str, when: float, channel: str, intent: str, answer: str, helpful: str, reason: str | None = None):
    conversation = Conversation(sender, when, channel=channel).user("question", intent, reply=answer)
    events = [SlotSet("feedback_asked", intent), SlotSet("feedback", {"helpful": helpful, "topic": intent})]
    if reason:
        events.append(SlotSet("feedback_reason", reason))
    conversation.action("action_listen", *events)
    return conversation


@pytest.fixture(scope="module")
def feedback_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("feedback") / "tracker.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    conversations = [
        rated("f1", at(3, 10, 9), "rest", "ask_password_rules", "utter_password_rules", "oui"),
        rated("f2", at(3, 10, 10), "rest", "ask_password_rules", "utter_password_rules", "non", "unclear"),
        rated("f3", at(3, 10, 11), "ivr", "ask_hours", "action_hours_now", "non", "still_need_call"),
        rated("f4", at(3, 11, 9), "socketio", "ask_hours", "action_hours_now", "non", "wrong_answer"),
        rated("f5", at(3, 11, 10), "ivr", "ask_hours", "action_hours_now", "oui"),
        rated("f6", at(3, 11, 11), "rest", "link_card", "utter_link_card", "non"),
    ]
    handed = Conversation("f7", at(3, 11, 12)).user("ça marche pas", "login_problem", reply="utter_login")
    handed.user("un agent", "request_human", reply=None)
    handed.action("action_escalate", *handoff("request_human", "login_problem",
                                              ["utter_default", "link_card_form", "action_link_card_submit", "utter_login"]))
    for conversation in [*conversations, handed]:
        asyncio.run(store.save(DialogueStateTracker.from_events(conversation.sender, conversation.events)))
    store.engine.dispose()
    return f"sqlite:///{path}"


def test_helpfulness_by_topic_channel_and_day(feedback_url):
    report = report_for(feedback_url)
    assert len(report.feedback) == 6
    by_topic = {g.key: (g.yes, g.no) for g in report.helpful_by("topic")}
    assert by_topic == {"ask_password_rules": (1, 1), "ask_hours": (1, 2), "link_card": (0, 1)}
    assert {g.key: (g.yes, g.no) for g in report.helpful_by("channel")} == {"web": (1, 3), "ivr": (1, 1)}
    assert {g.key: (g.yes, g.no) for g in report.helpful_by("day")} == {"2026-03-10": (1, 2), "2026-03-11": (1, 2)}
    assert [g.key for g in report.topics_most_no] == ["ask_hours", "ask_password_rules", "link_card"]
    assert report.still_need_call_rate == pytest.approx(1 / 6)
    assert dict(report.reasons) == {"unclear": 1, "still_need_call": 1, "wrong_answer": 1}
    assert report_for(feedback_url, channel="ivr").helpful_rate == pytest.approx(1 / 2)


def test_the_report_says_it_in_the_help_desks_words(feedback_url):
    report = report_for(feedback_url)
    table = to_table(report)
    assert re.search(r"Heures d'ouverture +3 +1 +2 +33,3", table)
    assert re.search(r"Je dois quand même appeler \(part des réponses\) +1 \(16,7", table)
    assert "Sujets avec le plus de non" in table and "Pas clair" in table
    handoff_line = next(line for line in table.splitlines() if line.startswith("2026-03-11 12:"))
    assert "Problème de connexion" in handoff_line
    assert ("Message non compris (demande de reformuler), Parcours « Liaison de la Carte Accès Terrebonne », "
            "Réponse « Problème de connexion »") in handoff_line
    assert "utter_default" not in table and "action_link_card_submit" not in table
    html = to_html(report)
    assert "Aide par sujet" in html and "Réponse « Problème de connexion »" in html and "utter_default" not in html
    data = to_dict(report)["feedback"]
    assert data["answers"] == 6 and data["topics_most_no"][0] == {
        "topic": "ask_hours", "label": "Heures d'ouverture", "no": 2, "answers": 3}

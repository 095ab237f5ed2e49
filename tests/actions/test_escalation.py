"""Escalation: the rest of what the guide says, hours when configured, the handoff record, the IVR transfer."""
import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from actions.escalation import ActionEscalate, escalate
from bot.contract import HandoffReason
from bot.handoff import handoff_request
from bot.settings import PROJECT_ROOT
from tests.actions.trackers import make_tracker, slot_events, texts
from tests.responses import PHONE

pytestmark = pytest.mark.usefixtures("demo_db", "frozen")

NLG = TemplatedNaturalLanguageGenerator(Domain.load(str(PROJECT_ROOT / "domain.yml")).responses)


async def said(dispatcher, channel: str = "rest") -> str:
    """What the citizen reads or hears: each message as Rasa renders it from domain.yml, one a line."""
    lines = []
    for message in dispatcher.messages:
        message = dict(message)
        response = message.pop("response", None)
        if response:  # as Rasa's RemoteAction does with an action server's answer
            rendered = await NLG.generate(response, DialogueStateTracker("t", []), channel, **message)
            lines.append(rendered["text"])
        elif message.get("text"):
            lines.append(message["text"])
    return "\n".join(lines)

EARLIER = [
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "je veux lier ma carte", "parse_data": {"intent": {"name": "link_card"}}},
    {"event": "action", "name": "utter_link_card"},
    {"event": "action", "name": "link_card_form"},
    {"event": "action", "name": "validate_link_card_form"},
]
WEEKDAY_HOURS = {day: [["08:30", "16:30"]] for day in ["monday", "tuesday", "wednesday", "thursday", "friday"]}


async def test_a_person_asked_for_on_the_web(dispatcher, domain):
    tracker = make_tracker("je veux parler à quelqu'un", intent="request_human", events=EARLIER)
    events = await ActionEscalate().run(dispatcher, tracker, domain)
    reply = await said(dispatcher)
    assert "Par courriel : loisirs@ville.terrebonne.qc.ca." in reply
    assert "940, montée Masson, bureau 102" in reply
    assert "ouvert" not in reply.replace("ouverture", "")  # hours not configured: nothing claimed
    assert slot_events(events) == {
        "handoff_reason": "request_human",
        "handoff_topic": "link_card",
        "handoff_tried": ["utter_link_card", "link_card_form"],
    }


async def test_second_fallback(dispatcher, domain):
    events = await ActionEscalate().run(dispatcher, make_tracker("xkcd", intent="nlu_fallback"), domain)
    assert slot_events(events)["handoff_reason"] == "repeated_fallback"
    assert slot_events(events)["handoff_topic"] is None
    assert "courriel" not in await said(dispatcher)  # the fallback answer already gave it


async def test_on_the_phone_line_the_reply_carries_the_transfer(dispatcher, domain):
    await ActionEscalate().run(dispatcher, make_tracker("un agent", intent="request_human", channel="ivr"), domain)
    assert {"transfer": {"number": "4509612001", "extension": "4000"}} in [m["custom"] for m in dispatcher.messages]


async def test_when_configured_hours_say_open_now(dispatcher, domain, contact_file):
    contact_file(opening_hours=WEEKDAY_HOURS)
    await ActionEscalate().run(dispatcher, make_tracker("un agent", intent="request_human"), domain)
    assert "Le centre d'appels est ouvert en ce moment, jusqu'à 16 h 30." in await said(dispatcher)


async def test_closed_on_the_phone_line_no_transfer_but_when_it_opens(dispatcher, domain, contact_file):
    from freezegun import freeze_time

    contact_file(opening_hours=WEEKDAY_HOURS)
    with freeze_time("2026-11-27 23:00:00"):  # Friday 18:00 in Montreal
        await ActionEscalate().run(dispatcher, make_tracker("un agent", intent="request_human", channel="ivr"), domain)
    assert all("custom" not in m or not m["custom"] for m in dispatcher.messages)
    assert "il ouvre lundi 30 novembre à 8 h 30" in texts(dispatcher, PHONE)


async def test_on_a_registration_evening_the_evening_line(dispatcher, domain, contact_file):
    from freezegun import freeze_time

    contact_file(registration_evening_line={"phone": "450 961-8388", "start": "19:00", "end": "20:30", "dates": ["2026-11-26"]})
    with freeze_time("2026-11-27 00:30:00"):  # 19:30 in Montreal on the 26th
        await ActionEscalate().run(dispatcher, make_tracker("un agent", intent="request_human", channel="ivr"), domain)
    assert {"transfer": {"number": "4509618388"}} in [m["custom"] for m in dispatcher.messages]


async def test_on_the_phone_line_the_transfer_is_announced(dispatcher, domain):
    await ActionEscalate().run(dispatcher, make_tracker("un agent", intent="request_human", channel="ivr"), domain)
    assert await said(dispatcher, "ivr") == (
        "Je vous transfère à une personne de notre centre d'appels. Un instant, s'il vous plaît."
    )


@pytest.mark.parametrize("reason", [HandoffReason.UNCLEAR_SPEECH, HandoffReason.SILENCE])
async def test_the_phone_channels_request_is_recorded_with_its_reason_and_transferred(dispatcher, domain, reason):
    request = handoff_request(reason)
    tracker = make_tracker(request.text, intent="phone_handoff", metadata=request.metadata, channel="ivr",
                           events=EARLIER)
    events = await ActionEscalate().run(dispatcher, tracker, domain)
    assert slot_events(events)["handoff_reason"] == reason.value
    assert slot_events(events)["handoff_topic"] == "link_card"
    assert {"transfer": {"number": "4509612001", "extension": "4000"}} in [m["custom"] for m in dispatcher.messages]


async def test_the_phone_channels_request_when_closed_says_every_way_to_reach_a_person(
    dispatcher, domain, contact_file
):
    from freezegun import freeze_time

    contact_file(opening_hours=WEEKDAY_HOURS)
    request = handoff_request(HandoffReason.SILENCE)
    tracker = make_tracker(request.text, intent="phone_handoff", metadata=request.metadata, channel="ivr")
    with freeze_time("2026-11-27 23:00:00"):  # Friday 18:00 in Montreal
        events = await ActionEscalate().run(dispatcher, tracker, domain)
    assert slot_events(events)["handoff_reason"] == "silence"
    assert all(not m["custom"] for m in dispatcher.messages)
    spoken = await said(dispatcher, "ivr")
    assert "450 961-2001, poste 4000" in spoken and "il ouvre lundi 30 novembre à 8 h 30" in spoken
    assert "loisirs arobase ville point terrebonne" in spoken


async def test_a_web_client_typing_the_phone_payload_is_only_asking_for_a_person(dispatcher, domain):
    request = handoff_request(HandoffReason.UNCLEAR_SPEECH)
    tracker = make_tracker(request.text, intent="phone_handoff", metadata=request.metadata)
    events = await ActionEscalate().run(dispatcher, tracker, domain)
    assert slot_events(events)["handoff_reason"] == "request_human"
    assert all(not m["custom"] for m in dispatcher.messages)
    assert "Par courriel : loisirs@ville.terrebonne.qc.ca." in await said(dispatcher)


async def test_full_escalation_when_nothing_was_said_yet(dispatcher, domain):
    events = escalate(dispatcher, make_tracker(""), "locked", "link_card")
    reply = await said(dispatcher)
    assert "450 961-2001, poste 4000" in reply and "450 961-8388" in reply
    assert slot_events(events)["handoff_topic"] == "link_card"


async def test_the_ways_to_reach_a_person_are_one_list_on_the_web(dispatcher, domain):
    escalate(dispatcher, make_tracker(""), "locked", "link_card")
    [message] = dispatcher.messages
    lines = message["text"].splitlines()
    assert len(lines) >= 3 and all(line.startswith("- ") for line in lines)


async def test_hours_now_says_nothing_while_hours_are_not_configured(dispatcher, domain):
    from actions.contact_hours import ActionHoursNow

    await ActionHoursNow().run(dispatcher, make_tracker("vos heures?", intent="ask_hours"), domain)
    assert dispatcher.messages == []


async def test_hours_now_once_configured(dispatcher, domain, contact_file):
    from actions.contact_hours import ActionHoursNow

    contact_file(opening_hours=WEEKDAY_HOURS, holidays=["2026-11-26"])
    await ActionHoursNow().run(dispatcher, make_tracker("vos heures?", intent="ask_hours"), domain)
    assert texts(dispatcher) == (
        "Le centre d'appels est fermé en ce moment (jour férié) ; il ouvre demain à 8 h 30."
    )

"""The dossier actions say an identified person's data only to the client that identified, and mark it personal."""
from __future__ import annotations

import time

import pytest

from actions.citizen_file import ActionAmountDue, ActionIdentifySubmit
from bot.session import CLIENT_SESSION_KEY, PERSONAL_ANSWER_FLAG, issue_client_session
from tests.actions.trackers import make_tracker, slot_events, texts
from tests.responses import rendered

pytestmark = pytest.mark.usefixtures("demo_db", "frozen")
SID = "5f0c2a7e9b1d4c3e8a6f0b2d4e6a8c0e"


async def identify(dispatcher, domain, metadata):
    """Marie identifies with her card and birth date from the client holding ``metadata``."""
    slots = {"form_card_digits": "123456", "form_birth_date_or_phone": "date:1985-03-12", "dossier_topic": "amount_due"}
    tracker = make_tracker("", slots=slots, metadata=metadata, sender_id=SID)
    events = await ActionIdentifySubmit().run(dispatcher, tracker, domain)
    return slot_events(events)["identified_file_id"]


def asked_again(value, metadata, identified_at):
    identified = {"event": "slot", "name": "identified_file_id", "value": value, "timestamp": identified_at}
    return make_tracker("combien je dois", intent="ask_amount_due", slots={"identified_file_id": value},
                        metadata=metadata, sender_id=SID, events=[identified])


async def test_the_identifying_client_gets_the_data_marked_personal_and_a_second_client_gets_an_offer(
    dispatcher, domain
):
    legitimate = {CLIENT_SESSION_KEY: issue_client_session(SID)}
    value = await identify(dispatcher, domain, legitimate)
    answers = [m for m in dispatcher.messages if "45,00" in rendered(m)]
    assert answers and all(m.get(PERSONAL_ANSWER_FLAG) is True for m in answers)

    dispatcher.messages.clear()
    await ActionAmountDue().run(dispatcher, asked_again(value, legitimate, time.time() - 30), domain)
    assert "Marie : 45,00 $" in texts(dispatcher)

    for intruder in (None, {CLIENT_SESSION_KEY: issue_client_session(SID)}):
        dispatcher.messages.clear()
        events = await ActionAmountDue().run(dispatcher, asked_again(value, intruder, time.time() - 30), domain)
        reply = texts(dispatcher)
        assert "Voulez-vous vous identifier?" in reply
        for personal in ("Marie", "45,00", "Léa"):
            assert personal not in reply
        assert slot_events(events)["identification_offered"] is True

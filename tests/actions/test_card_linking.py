"""Card linking against the demo backend: linked, mismatch and retry, lock-out, a child's card, no token."""
import pytest

from actions.card_linking import ActionLinkCardSubmit
from bot.backend.factory import get_backend
from bot.contract import ANOTHER_TRY_SLOT
from tests.actions.trackers import make_tracker, slot_events, texts

pytestmark = pytest.mark.usefixtures("demo_db", "frozen")

GUIDE_MESSAGE = "Votre dossier est maintenant lié à votre dossier à la Ville."


def submitted(token, digits="123456", second="date:1985-03-12", channel="rest", sender="conv-link"):
    metadata = {"token": token} if token else None
    slots = {"form_card_digits": digits, "form_birth_date_or_phone": second}
    return make_tracker("", intent="inform", slots=slots, metadata=metadata, channel=channel, sender_id=sender)


async def run(dispatcher, domain, tracker):
    events = await ActionLinkCardSubmit().run(dispatcher, tracker, domain)
    return events, texts(dispatcher, tracker.get_latest_input_channel())


@pytest.mark.parametrize("second", ["date:1985-03-12", "phone:4505550123"])
async def test_linked_with_the_guides_message(dispatcher, domain, token, second):
    events, reply = await run(dispatcher, domain, submitted(token("marie.tremblay@example.com"), second=second))
    assert GUIDE_MESSAGE in reply
    assert get_backend().account_status("marie.tremblay@example.com").linked
    slots = slot_events(events)
    assert slots["form_card_digits"] is None and slots["form_birth_date_or_phone"] is None
    assert "123456" not in reply and "1985" not in reply and "555" not in reply


async def test_already_linked(dispatcher, domain, token):
    marie = token("marie.tremblay@example.com")
    await run(dispatcher, domain, submitted(marie))
    dispatcher.messages.clear()
    _, reply = await run(dispatcher, domain, submitted(marie))
    assert "déjà lié" in reply


async def test_mismatch_retries_without_saying_which_value(dispatcher, domain, token):
    events, reply = await run(dispatcher, domain, submitted(token("marie.tremblay@example.com"), second="date:1985-03-13"))
    assert "ne correspondent pas" in reply
    assert "date de naissance ou votre numéro de téléphone" in reply  # both named, neither blamed
    assert {"event": "followup", "timestamp": None, "name": "link_card_form"} in events
    assert not get_backend().account_status("marie.tremblay@example.com").linked


async def test_wrong_digits_five_times_then_locked_and_the_call_centre(dispatcher, domain, token):
    marie = token("marie.tremblay@example.com")
    for _ in range(5):
        dispatcher.messages.clear()
        _, reply = await run(dispatcher, domain, submitted(marie, digits="999999"))
        assert "ne correspondent pas" in reply
    dispatcher.messages.clear()
    events, reply = await run(dispatcher, domain, submitted(marie))  # even the right values are refused now
    assert "bloquée pendant 15 minutes" in reply
    assert "450 961-2001, poste 4000" in reply
    slots = slot_events(events)
    assert slots["handoff_reason"] == "locked"
    assert slots["handoff_topic"] == "link_card"
    assert not get_backend().account_status("marie.tremblay@example.com").linked


async def test_a_childs_card_explains_the_adult_in_charge(dispatcher, domain, token):
    events, reply = await run(dispatcher, domain, submitted(token("marie.tremblay@example.com"), "987123", "date:2015-06-01"))
    assert "personne adulte qui sera en charge du compte" in reply
    assert slot_events(events)[ANOTHER_TRY_SLOT] == "link_card_form", "the adult's card digits link it next"


async def test_a_card_already_linked_to_another_account(dispatcher, domain, token):
    await run(dispatcher, domain, submitted(token("marie.tremblay@example.com")))
    dispatcher.messages.clear()
    _, reply = await run(dispatcher, domain, submitted(token("jean.gagnon@example.com"), sender="conv-jean"))
    assert "déjà lié à un autre compte" in reply


@pytest.mark.parametrize("bad_token", [None, "not-a-token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.forged"])
async def test_no_or_forged_token_links_nothing(dispatcher, domain, bad_token):
    _, reply = await run(dispatcher, domain, submitted(bad_token))
    assert "connectez-vous d'abord" in reply
    assert not get_backend().account_status("marie.tremblay@example.com").linked


async def test_stopped_form_says_nothing_more(dispatcher, domain, token):
    tracker = make_tracker("", slots={}, metadata={"token": token("marie.tremblay@example.com")})
    events, reply = await run(dispatcher, domain, tracker)
    assert reply == ""
    assert slot_events(events)["form_card_digits"] is None


async def test_on_the_phone_line_the_reply_is_plain(dispatcher, domain, token):
    _, reply = await run(dispatcher, domain, submitted(token("marie.tremblay@example.com"), channel="ivr"))
    assert GUIDE_MESSAGE in reply
    assert "**" not in reply

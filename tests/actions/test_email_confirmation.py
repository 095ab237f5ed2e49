"""The confirmation email by account state: no account, unconfirmed (re-sent, rate-limited), confirmed."""
import pytest

from actions.email_confirmation import ActionEmailConfirmationSubmit
from bot.contract import ANOTHER_TRY_SLOT
from tests.actions.trackers import make_tracker, slot_events, texts

pytestmark = pytest.mark.usefixtures("demo_db", "frozen")


async def submit(dispatcher, domain, email):
    tracker = make_tracker("", slots={"form_email": email})
    return await ActionEmailConfirmationSubmit().run(dispatcher, tracker, domain)


async def test_unconfirmed_email_is_resent_and_the_junk_folder_mentioned(dispatcher, domain):
    events = await submit(dispatcher, domain, "jean.gagnon@example.com")
    reply = texts(dispatcher)
    assert "renvoyé le courriel de confirmation" in reply
    assert "indésirables" in reply
    assert "jean.gagnon" not in reply
    assert slot_events(events)["form_email"] is None


async def test_resending_is_rate_limited(dispatcher, domain):
    for _ in range(3):
        await submit(dispatcher, domain, "jean.gagnon@example.com")
    dispatcher.messages.clear()
    await submit(dispatcher, domain, "jean.gagnon@example.com")
    assert "déjà été renvoyé plusieurs fois" in texts(dispatcher)


async def test_confirmed_email_offers_login_help(dispatcher, domain):
    await submit(dispatcher, domain, "marie.tremblay@example.com")
    assert "déjà confirmée" in texts(dispatcher)
    assert dispatcher.messages[-1]["response"] == "utter_login"


async def test_no_account_offers_the_creation_steps(dispatcher, domain):
    await submit(dispatcher, domain, "personne@example.com")
    assert "Je ne trouve pas de compte" in texts(dispatcher)
    assert dispatcher.messages[-1]["response"] == "utter_create_account"


async def test_stopped_form_says_nothing_more(dispatcher, domain):
    await submit(dispatcher, domain, None)
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("email", "another_try"),
    [
        ("personne@example.com", "email_form"),  # no account: the address may be misspelt
        ("marie.tremblay@example.com", "email_form"),  # confirmed: may not be the account the person means
        ("jean.gagnon@example.com", None),  # re-sent: the address was the right one
    ],
)
async def test_another_address_is_checked_at_once_after_a_result_it_may_change(dispatcher, domain, email, another_try):
    events = await submit(dispatcher, domain, email)
    assert slot_events(events).get(ANOTHER_TRY_SLOT) == another_try

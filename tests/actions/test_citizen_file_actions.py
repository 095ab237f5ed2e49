"""Profile, card expiry, amounts and registrations: data only for an identified person."""
import time

import pytest

from actions.citizen_file import (
    ActionAmountDue,
    ActionCardExpiry,
    ActionIdentificationDeclined,
    ActionIdentifySubmit,
    ActionProfile,
    ActionRegistrations,
)
from bot.backend.factory import get_backend
from bot.session import CLIENT_SESSION_KEY, PERSONAL_ANSWER_FLAG, identification_value, issue_client_session
from tests.actions.trackers import make_tracker, slot_events, texts
from tests.responses import PHONE, rendered_buttons

pytestmark = pytest.mark.usefixtures("demo_db", "frozen")


@pytest.fixture
def marie_linked(token):
    """Marie's portal token, her account linked to her file."""
    marie = token("marie.tremblay@example.com")
    account = get_backend().account_status("marie.tremblay@example.com")
    get_backend().link_card(account.account_id, "123456", birth_date="1985-03-12")
    return marie


def phone_identified(file_id, channel="ivr"):
    """A person identified a minute ago in this conversation, asking from the same client (on the web: the
    widget's client session key in the metadata), as ActionIdentifySubmit records it."""
    metadata = None if channel == "ivr" else {CLIENT_SESSION_KEY: issue_client_session("test-conversation")}
    value = identification_value(make_tracker("", channel=channel, metadata=metadata), file_id)
    identified = {"event": "slot", "name": "identified_file_id", "value": value, "timestamp": time.time() - 60}
    return make_tracker("", intent="ask_card_expiry", slots={"identified_file_id": value}, channel=channel,
                        metadata=metadata, events=[identified])


@pytest.mark.parametrize("action", [ActionCardExpiry, ActionProfile, ActionAmountDue, ActionRegistrations])
async def test_unidentified_gets_nothing_personal_and_an_offer(dispatcher, domain, action):
    events = await action().run(dispatcher, make_tracker("", intent="ask_profile"), domain)
    reply = texts(dispatcher)
    assert "Voulez-vous vous identifier?" in reply
    for personal in ("Marie", "Léa", "2027", "45,00", "Natation"):
        assert personal not in reply
    slots = slot_events(events)
    assert slots["identification_offered"] is True
    assert slots["dossier_topic"] == action.topic


async def test_logged_in_but_not_linked_is_offered_the_activation(dispatcher, domain, token):
    tracker = make_tracker("", intent="ask_card_expiry", metadata={"token": token("jean.gagnon@example.com")})
    await ActionCardExpiry().run(dispatcher, tracker, domain)
    assert "pas encore lié" in texts(dispatcher)
    assert rendered_buttons(dispatcher.messages[0]) == [{"title": "Activer mon profil", "payload": "/link_card"}]


async def test_card_expiry_of_the_family_flags_the_expired_child_card(dispatcher, domain, marie_linked):
    tracker = make_tracker("", intent="ask_card_expiry", metadata={"token": marie_linked})
    events = await ActionCardExpiry().run(dispatcher, tracker, domain)
    reply = texts(dispatcher)
    assert "- Marie : carte valide jusqu'au 31 mars 2027." in reply
    assert "- Léa : carte expirée depuis le 30 septembre 2026." in reply
    assert "Aucun avis de renouvellement ne sera envoyé." in reply
    assert "Carte Accès Terrebonne au bas de la page d'accueil" in reply
    assert slot_events(events)["identification_offered"] is False


async def test_a_card_expiring_before_the_next_registrations_is_flagged(dispatcher, domain, contact_file):
    contact_file(next_registration_date="2027-01-12")
    jean = get_backend().identify("654321", birth_date="1979-11-02").file_id
    await ActionCardExpiry().run(dispatcher, phone_identified(jean, channel="rest"), domain)
    reply = texts(dispatcher)
    assert "valide jusqu'au 15 décembre 2026 seulement" in reply
    assert "prochaine période d'inscriptions (le 12 janvier 2027)" in reply


async def test_amounts_and_registrations(dispatcher, domain, marie_linked):
    tracker = make_tracker("", intent="ask_amount_due", metadata={"token": marie_linked})
    await ActionAmountDue().run(dispatcher, tracker, domain)
    await ActionRegistrations().run(dispatcher, tracker, domain)
    reply = texts(dispatcher)
    assert "Marie : 45,00 $" in reply
    assert "Marie : Natation – Niveau 3" in reply and "(confirmée)" in reply
    assert "Léa : Soccer U12" in reply and "(en attente de paiement)" in reply


async def test_the_amounts_come_as_one_list_marked_personal(dispatcher, domain, marie_linked):
    tracker = make_tracker("", intent="ask_amount_due", metadata={"token": marie_linked})
    await ActionAmountDue().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    lines = message["text"].splitlines()
    assert lines[0] == "Montants dus à votre dossier :" and "- Marie : 45,00 $" in lines
    assert message.get(PERSONAL_ANSWER_FLAG) is True


async def test_profile_summary(dispatcher, domain, marie_linked):
    await ActionProfile().run(dispatcher, make_tracker("", intent="ask_profile", metadata={"token": marie_linked}), domain)
    reply = texts(dispatcher)
    assert "Marie Tremblay" in reply and "Membres de votre famille : Léa." in reply
    assert "1985" not in reply and "555" not in reply


async def test_phone_identification_then_the_answer_to_the_question_asked(dispatcher, domain):
    slots = {"form_card_digits": "246810", "form_birth_date_or_phone": "phone:4505550142", "dossier_topic": "card_expiry"}
    tracker = make_tracker("", slots=slots, channel="ivr", sender_id="call-sophie")
    events = await ActionIdentifySubmit().run(dispatcher, tracker, domain)
    reply = texts(dispatcher, PHONE)
    assert "vous êtes identifié" in reply
    assert "Sophie : carte valide jusqu'au 31 janvier 2028." in reply
    assert "- " not in reply and "**" not in reply  # spoken: no markdown list
    slots = slot_events(events)
    assert slots["identified_file_id"] is not None
    assert slots["form_card_digits"] is None and slots["identification_offered"] is False


async def test_phone_identified_caller_gets_their_data(dispatcher, domain):
    sophie = get_backend().identify("246810", birth_date="1990-07-21").file_id
    await ActionCardExpiry().run(dispatcher, phone_identified(sophie), domain)
    assert "Sophie : carte valide jusqu'au 31 janvier 2028." in texts(dispatcher, PHONE)


async def test_identification_mismatch_asks_again_then_locks(dispatcher, domain):
    slots = {"form_card_digits": "246810", "form_birth_date_or_phone": "date:1990-07-22"}
    for _ in range(5):
        dispatcher.messages.clear()
        events = await ActionIdentifySubmit().run(dispatcher, make_tracker("", slots=slots, sender_id="c1"), domain)
        assert "ne correspondent pas" in texts(dispatcher)
        assert {"event": "followup", "timestamp": None, "name": "identify_form"} in events
    dispatcher.messages.clear()
    events = await ActionIdentifySubmit().run(dispatcher, make_tracker("", slots=slots, sender_id="c1"), domain)
    assert "bloquée pendant 15 minutes" in texts(dispatcher)
    assert slot_events(events)["handoff_reason"] == "locked"


async def test_identification_declined(dispatcher, domain):
    events = await ActionIdentificationDeclined().run(dispatcher, make_tracker("non", intent="deny"), domain)
    assert slot_events(events) == {"identification_offered": False, "profile_activation_offered": False, "dossier_topic": None}
    assert texts(dispatcher).startswith("D'accord.")

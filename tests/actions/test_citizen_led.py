"""Citizen-led forms: values given ahead or together, corrections, changes of mind, digressions and return.

Built once in the shared form machinery (actions/forms.py), so each behaviour holds for every flow.
"""
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.citizen_file import ActionCardExpiry, ActionRegistrations
from actions.forms import AskBirthDateOrPhone, AskCardDigits, ValidateIdentifyForm, ValidateLinkCardForm
from tests.actions.trackers import make_tracker, slot_events, texts

pytestmark = pytest.mark.usefixtures("demo_db", "frozen")


def answer(text, requested, form="identify_form", intent="inform", slots=None, metadata=None, channel="rest"):
    return make_tracker(
        text, intent=intent, slots={"requested_slot": requested, **(slots or {})}, metadata=metadata,
        active_loop=form, channel=channel,
    )


async def validate_then_ask(tracker, domain, validation=ValidateIdentifyForm, channel="web"):
    """What the citizen reads in one turn: the validation's words, then the question the form asks next."""
    dispatcher = CollectingDispatcher()
    events = await validation().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    tracker.add_slots(events)
    asked = slots["requested_slot"] = next_asked(tracker)
    ask = {"form_card_digits": AskCardDigits, "form_birth_date_or_phone": AskBirthDateOrPhone}.get(asked)
    if ask is not None:
        slots.update(slot_events(await ask().run(dispatcher, tracker, domain)))
    return slots, [m for m in texts(dispatcher, channel).split("\n") if m]


async def test_card_and_birth_date_in_one_answer_fill_both(domain):
    tracker = answer("123456 pis ma date de fete c'est le 12 mars 1985", "form_card_digits")
    slots, said = await validate_then_ask(tracker, domain)
    assert slots["form_card_digits"] == "123456"
    assert slots["form_birth_date_or_phone"] == "date:1985-03-12"
    assert slots["requested_slot"] is None  # nothing left to ask: the identification goes on
    assert said == []


async def test_a_correction_of_the_card_replaces_it_and_keeps_going(domain):
    tracker = answer("non non c'est 654321", "form_birth_date_or_phone", intent="deny",
                     slots={"form_card_digits": "123456"})
    slots, said = await validate_then_ask(tracker, domain)
    assert slots["form_card_digits"] == "654321"
    assert slots["requested_slot"] == "form_birth_date_or_phone"
    assert "corrigé" in said[0]
    assert "date de naissance" in said[1]
    assert len(said) == 2
    assert "Je n'ai reconnu ni une date" not in "\n".join(said)


async def test_je_me_suis_trompe_asks_the_last_value_again_once(domain):
    tracker = answer("oups je me suis trompé", "form_birth_date_or_phone", intent="nlu_fallback",
                     slots={"form_card_digits": "123456"})
    slots, said = await validate_then_ask(tracker, domain)
    assert slots["form_card_digits"] is None
    assert slots["requested_slot"] == "form_card_digits"
    assert said[0].startswith("Pas de problème")
    assert "six (6) derniers chiffres" in said[1]


async def test_plutot_mon_telephone_asks_the_home_phone_in_one_message(domain):
    tracker = answer("plutôt mon téléphone", "form_birth_date_or_phone", intent="nlu_fallback",
                     slots={"form_card_digits": "123456"})
    slots, said = await validate_then_ask(tracker, domain)
    assert said == ["D'accord. Quel est votre numéro de téléphone de la maison? Par exemple : 450 555-0100."]
    assert slots["requested_slot"] == "form_birth_date_or_phone"
    assert not slots.get("form_failures")
    assert slots["form_prompted"] is None  # reset by the ask action for the next turn


async def test_a_hint_is_not_followed_by_the_same_question(domain):
    tracker = answer("je sais pas trop", "form_birth_date_or_phone", intent="nlu_fallback",
                     slots={"form_card_digits": "123456"})
    _, said = await validate_then_ask(tracker, domain)
    assert len(said) == 1
    assert said[0].startswith("Je n'ai reconnu ni une date ni un numéro de téléphone")


async def test_a_value_given_ahead_is_kept_and_only_the_missing_one_asked(domain):
    tracker = answer("mon tel c'est le 450 555-0123", "form_card_digits", intent="inform")
    slots, said = await validate_then_ask(tracker, domain)
    assert slots["form_birth_date_or_phone"] == "phone:4505550123"
    assert slots["requested_slot"] == "form_card_digits"
    assert said[0] == "Merci, c'est noté."
    assert "six (6) derniers chiffres" in said[1]


async def test_no_correction_then_the_right_value_is_not_a_wish_to_quit(domain, token):
    tracker = answer("non, c'est 654321", "form_card_digits", form="link_card_form", intent="deny",
                     metadata={"token": token("jean.gagnon@example.com")})
    slots, said = await validate_then_ask(tracker, domain, ValidateLinkCardForm)
    assert slots["form_card_digits"] == "654321"
    assert "on arrête" not in "\n".join(said)


def next_asked(tracker):
    """The question Rasa's form asks next: its first slot still empty (None: the form is done)."""
    return next((name for name in ("form_card_digits", "form_birth_date_or_phone") if not tracker.get_slot(name)), None)


def followups(events):
    return [e["name"] for e in events if e.get("event") == "followup"]


def _digression(text="c'est quoi les règles du mot de passe?", intent="ask_password_rules", channel="rest"):
    """The tracker the form's ask action sees when the form comes back after answering another question."""
    tracker = make_tracker(
        text, intent=intent, slots={"requested_slot": "form_card_digits"}, channel=channel,
        events=[
            {"event": "action", "name": "identify_form"},
            {"event": "active_loop", "name": "identify_form"},
            {"event": "slot", "name": "requested_slot", "value": "form_card_digits"},
            {"event": "action", "name": "action_ask_form_card_digits"},
            {"event": "bot", "text": "Quels sont les six (6) derniers chiffres ..."},
        ],
    )
    tracker.events += [
        {"event": "action", "name": "utter_password_rules"},
        {"event": "bot", "text": "Le mot de passe ..."},
        {"event": "action", "name": "identify_form"},
    ]
    tracker.active_loop = {"name": "identify_form"}
    return tracker


async def test_after_a_digression_the_form_resumes_with_a_reminder(dispatcher, domain):
    await AskCardDigits().run(dispatcher, _digression(), domain)
    assert len(dispatcher.messages) == 1
    assert texts(dispatcher).startswith("Reprenons : Quels sont les six (6) derniers chiffres")


async def test_after_a_digression_on_the_phone_the_reminder_is_spoken_and_the_keypad_offered(dispatcher, domain):
    await AskCardDigits().run(dispatcher, _digression(channel="ivr"), domain)
    spoken = texts(dispatcher, "ivr")
    assert spoken.startswith("Reprenons : Dites, ou tapez sur le clavier")
    assert {"collect_digits": 6} in [m.get("custom") for m in dispatcher.messages]


async def test_the_first_question_of_a_form_has_no_reminder(dispatcher, domain):
    tracker = make_tracker("quand expire ma carte", intent="ask_card_expiry")
    tracker.events += [{"event": "action", "name": "utter_card_expiry"}, {"event": "bot", "text": "..."},
                       {"event": "action", "name": "identify_form"}]
    await AskCardDigits().run(dispatcher, tracker, domain)
    assert not texts(dispatcher).startswith("Reprenons")


def activating(tracker, form="identify_form"):
    """The tracker Rasa gives the validation at a form's activation: the loop active, nothing requested yet."""
    tracker.active_loop = {"name": form}
    tracker.events += [{"event": "active_loop", "name": form}, {"event": "slot", "name": "requested_slot", "value": None},
                       {"event": "action", "name": form}]
    return tracker


async def test_details_given_earlier_fill_the_form_at_activation(dispatcher, domain):
    tracker = activating(make_tracker("quand expire ma carte", intent="ask_card_expiry", slots={"card_digits": "123456"}))
    events = await ValidateIdentifyForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["form_card_digits"] == "123456"
    tracker.add_slots(events)
    assert next_asked(tracker) == "form_birth_date_or_phone"


async def test_purpose_and_both_details_in_one_message_need_no_question(dispatcher, domain):
    tracker = activating(make_tracker("ma carte 123456, née le 12 mars 1985, elle expire quand?",
                                      intent="ask_card_expiry", slots={"card_digits": "123456", "birth_date": "1985-03-12"}))
    events = await ValidateIdentifyForm().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["form_card_digits"] == "123456"
    assert slots["form_birth_date_or_phone"] == "date:1985-03-12"
    tracker.add_slots(events)
    assert next_asked(tracker) is None


async def test_a_dossier_question_with_details_starts_the_identification_without_an_offer(dispatcher, domain):
    tracker = make_tracker("123456 quand expire ma carte", intent="ask_card_expiry", slots={"card_digits": "123456"})
    events = await ActionCardExpiry().run(dispatcher, tracker, domain)
    assert followups(events) == ["identify_form"]
    assert slot_events(events)["dossier_topic"] == "card_expiry"
    assert "Voulez-vous vous identifier" not in texts(dispatcher)


async def test_asking_again_while_the_offer_waits_starts_the_identification(dispatcher, domain):
    tracker = make_tracker("pis mes inscriptions?", intent="ask_registrations", slots={"identification_offered": True})
    events = await ActionRegistrations().run(dispatcher, tracker, domain)
    assert followups(events) == ["identify_form"]
    assert slot_events(events)["dossier_topic"] == "registrations"
    assert texts(dispatcher) == ""


async def test_without_details_the_identification_is_offered(dispatcher, domain):
    events = await ActionCardExpiry().run(dispatcher, make_tracker("ma carte expire quand", intent="ask_card_expiry"),
                                          domain)
    assert "Voulez-vous vous identifier" in texts(dispatcher)
    assert slot_events(events)["identification_offered"] is True


async def test_card_linking_without_login_keeps_the_card_digits_for_the_identification(dispatcher, domain):
    from actions.card_linking import ActionLinkCardSubmit

    tracker = make_tracker("mon numéro de carte c'est le 246 810", intent="link_card", slots={"card_digits": "246810"})
    events = await ActionLinkCardSubmit().run(dispatcher, tracker, domain)
    assert "connectez-vous" in texts(dispatcher).lower()
    assert "card_digits" not in slot_events(events)
    assert slot_events(events)["form_card_digits"] is None


async def test_i_cannot_find_it_is_no_wish_to_stop_but_an_answer_that_could_not_be_read(domain):
    tracker = answer("je le trouve pas", "form_card_digits", intent="deny")
    slots, said = await validate_then_ask(tracker, domain)
    assert slots["form_failures"] == {"form_card_digits": 1}
    assert "on arrête" not in "\n".join(said)


async def test_a_logged_in_account_not_linked_is_offered_to_activate_its_profile(dispatcher, domain, token):
    tracker = make_tracker("ma carte expire quand", intent="ask_card_expiry",
                           metadata={"token": token("jean.gagnon@example.com")})
    events = await ActionCardExpiry().run(dispatcher, tracker, domain)
    assert "Voulez-vous activer votre profil maintenant?" in texts(dispatcher)
    assert slot_events(events)["profile_activation_offered"] is True

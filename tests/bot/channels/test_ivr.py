"""The IVR channel's own parts: request validation, speakable text, actions, reprompts and handoffs."""
import pytest

from bot.channels.ivr import (
    SAY_KEYPAD_OR_AGENT,
    SAY_REPEAT,
    SAY_STILL_THERE,
    BadRequest,
    CallStates,
    IVRInput,
    IVROutput,
    parse_turn,
    reply_for,
    rest_messages,
    speakable,
)
from bot.channels.responses import project_responses, response_text
from bot.handoff import PHONE_HANDOFF_INTENT, REASON_METADATA_KEY

CALL_CENTRE = {"type": "transfer", "number": "4509612001", "extension": "4000"}


def said(name: str) -> dict:
    """The channel's own reply saying the domain's response ``name``."""
    return {"say": [response_text(project_responses(), name, "ivr")], "actions": []}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "JSON object"),
        ({}, "call_id"),
        ({"call_id": "", "transcript": "allô"}, "call_id"),
        ({"call_id": 12, "transcript": "allô"}, "call_id"),
        ({"call_id": "c1"}, "transcript is required"),
        ({"call_id": "c1", "transcript": 5}, "transcript must"),
        ({"call_id": "c1", "transcript": "x", "confidence": 1.5}, "confidence"),
        ({"call_id": "c1", "transcript": "x", "confidence": "haute"}, "confidence"),
        ({"call_id": "c1", "transcript": "x", "confidence": True}, "confidence"),
        ({"call_id": "c1", "dtmf": "12ab"}, "dtmf"),
        ({"call_id": "c1", "transcript": "x", "caller": 4505550123}, "caller"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(body, problem):
    with pytest.raises(BadRequest, match=problem):
        parse_turn(body)


def test_a_turn_is_read_with_its_optional_fields():
    turn = parse_turn({"call_id": " c1 ", "transcript": " bonjour ", "confidence": 0.8, "dtmf": "123456#",
                       "caller": "+14505550123"})
    assert (turn.call_id, turn.transcript, turn.confidence, turn.keyed_digits) == ("c1", "bonjour", 0.8, "123456")
    assert parse_turn({"call_id": "c1", "dtmf": "42"}).transcript == ""


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Appelez le 450 961-2001 poste 4000.", "Appelez le 450 961-2001, poste 4000."),
        ("Appelez le (450) 961-2001, poste 4000.", "Appelez le 450 961-2001, poste 4000."),
        ("Le soir : 450-961-8388.", "Le soir : 450 961-8388."),
        ("Voir **le portail** : [Inscriptions](https://inscriptions.ville.terrebonne.qc.ca) 😀",
         "Voir le portail : Inscriptions"),
        ("Écrivez à loisirs@ville.terrebonne.qc.ca.", "Écrivez à loisirs arobase ville point terrebonne point qc point ca."),
        ("Trois façons :\n- par téléphone\n- par courriel\n- en personne", "Trois façons : par téléphone. par courriel. en personne"),
        ("Votre solde est de 45,00 $.", "Votre solde est de 45,00 $."),
    ],
)
def test_replies_are_made_speakable(text, said):
    assert speakable(text)[0] == said


def test_speakable_says_when_something_had_to_be_removed():
    assert speakable("Bonjour!") == ("Bonjour!", False)
    assert speakable("Voir https://example.com")[1] is True


def test_a_transfer_payload_becomes_a_transfer_action():
    reply = reply_for([
        {"text": "Je vous transfère.", "utter_action": "utter_transfer"},
        {"custom": {"transfer": {"number": "4509612001", "extension": "4000"}}},
    ])
    assert reply == {"say": ["Je vous transfère."], "actions": [CALL_CENTRE]}


def test_goodbye_hangs_up_and_the_collect_digits_payload_opens_the_keypad():
    assert reply_for([{"text": "Au revoir!", "utter_action": "utter_goodbye"}])["actions"] == [{"type": "hangup"}]
    reply = reply_for([{"text": "Les six derniers chiffres?"}, {"custom": {"collect_digits": 6}}])
    assert reply["actions"] == [{"type": "collect_digits", "count": 6}]
    custom = reply_for([{"custom": {"collect_digits": {"count": 4}}}])
    assert custom == {"say": [], "actions": [{"type": "collect_digits", "count": 4}]}


def test_markdown_left_in_a_reply_is_removed_and_logged(caplog):
    reply = reply_for([{"text": "Allez sur **le portail** https://x.example", "utter_action": "utter_portal"}])
    assert reply["say"] == ["Allez sur le portail"]
    assert "utter_portal" in caplog.text and "https" not in caplog.text


class Bot:
    """Stands in for Rasa's message handler: answers every message with fixed replies."""

    def __init__(self, *replies):
        self.received = []
        self.replies = replies or ({"text": "Que puis-je faire pour vous?", "utter_action": "utter_how_can_i_help"},)

    async def __call__(self, message):
        self.received.append(message)
        assert isinstance(message.output_channel, IVROutput)
        for reply in self.replies:
            await message.output_channel.send_response(message.sender_id, dict(reply))


TRANSFERRING = (
    {"text": "Je vous transfère.", "utter_action": "utter_transfer_to_call_centre"},
    {"custom": {"transfer": {"number": "4509612001", "extension": "4000"}}},
)


def handoffs(bot: Bot) -> list:
    """The handoffs the channel asked Rasa for: (payload, reason)."""
    return [(m.text, (m.metadata or {}).get(REASON_METADATA_KEY)) for m in bot.received
            if m.text == f"/{PHONE_HANDOFF_INTENT}"]


async def test_low_confidence_asks_to_repeat_then_offers_the_keypad_then_asks_rasa_for_a_person():
    channel, bot = IVRInput(confidence_threshold=0.5), Bot(*TRANSFERRING)
    unclear = parse_turn({"call_id": "c1", "transcript": "mmm carte", "confidence": 0.2})
    assert await channel.handle(unclear, bot) == said(SAY_REPEAT)
    assert await channel.handle(unclear, bot) == said(SAY_KEYPAD_OR_AGENT)
    assert bot.received == []
    third = await channel.handle(unclear, bot)
    assert handoffs(bot) == [("/phone_handoff", "unclear_speech")]
    assert bot.received[0].input_channel == "ivr" and bot.received[0].sender_id == "c1"
    assert third == {"say": ["Je vous transfère."], "actions": [CALL_CENTRE]}


async def test_without_a_transfer_the_call_goes_on_and_the_counts_start_again():
    closed = {"text": "Le centre d'appels est fermé en ce moment.", "utter_action": "utter_escalation_ways"}
    channel, bot = IVRInput(confidence_threshold=0.5), Bot(closed)
    unclear = parse_turn({"call_id": "c1", "transcript": "mmm carte", "confidence": 0.2})
    for _ in range(3):
        reply = await channel.handle(unclear, bot)
    assert reply == {"say": ["Le centre d'appels est fermé en ce moment."], "actions": []}
    assert await channel.handle(unclear, bot) == said(SAY_REPEAT)


async def test_the_reprompts_are_the_domains_responses():
    responses = {SAY_STILL_THERE: [{"text": "Allô? Êtes-vous là?"}, {"channel": "ivr", "text": "Allô, allô?"}]}
    reply = await IVRInput().handle(parse_turn({"call_id": "c1", "transcript": ""}), Bot(), responses)
    assert reply == {"say": ["Allô, allô?"], "actions": []}
    assert said(SAY_STILL_THERE)["say"] == ["Êtes-vous toujours là? Dites-moi comment je peux vous aider."]


async def test_a_clear_turn_resets_the_count():
    channel, bot = IVRInput(confidence_threshold=0.5), Bot()
    unclear = parse_turn({"call_id": "c1", "transcript": "la carte machin", "confidence": 0.2})
    clear = parse_turn({"call_id": "c1", "transcript": "ma carte", "confidence": 0.9})
    await channel.handle(unclear, bot)
    assert (await channel.handle(clear, bot))["say"] == ["Que puis-je faire pour vous?"]
    assert await channel.handle(unclear, bot) == said(SAY_REPEAT)
    assert [m.text for m in bot.received] == ["ma carte"]
    assert bot.received[0].input_channel == "ivr" and bot.received[0].sender_id == "c1"


async def test_silence_reprompts_then_asks_for_a_person_and_counts_per_call():
    channel, bot = IVRInput(), Bot(*TRANSFERRING)
    silent_a = parse_turn({"call_id": "a", "transcript": ""})
    silent_b = parse_turn({"call_id": "b", "transcript": "  "})
    assert await channel.handle(silent_a, bot) == said(SAY_STILL_THERE)
    assert await channel.handle(silent_b, bot) == said(SAY_STILL_THERE)
    second = await channel.handle(silent_a, bot)
    assert handoffs(bot) == [("/phone_handoff", "silence")]
    assert second["actions"] == [CALL_CENTRE]
    assert await channel.handle(silent_a, bot) == said(SAY_STILL_THERE)


async def test_keypad_digits_become_the_message_even_when_speech_is_unclear():
    channel, bot = IVRInput(), Bot()
    await channel.handle(parse_turn({"call_id": "c1", "transcript": "", "dtmf": "123456#", "confidence": 0.1}), bot)
    assert [m.text for m in bot.received] == ["123456"]


def test_the_threshold_comes_from_credentials_or_settings():
    assert IVRInput.from_credentials({"confidence_threshold": 0.7}).confidence_threshold == 0.7
    assert IVRInput.from_credentials({"confidence_threshold": None}).confidence_threshold == 0.5
    assert IVRInput.from_credentials(None).name() == "ivr"


def test_old_calls_are_forgotten_past_the_limit():
    states = CallStates(limit=2)
    states.get("a").silent = 1
    states.get("b")
    states.get("c")
    assert states.get("a").silent == 0


def test_the_rest_format_carries_the_same_reply():
    reply = {"say": ["Au revoir!"], "actions": [{"type": "hangup"}]}
    assert rest_messages("c1", reply) == [
        {"recipient_id": "c1", "text": "Au revoir!"},
        {"recipient_id": "c1", "custom": {"actions": [{"type": "hangup"}]}},
    ]
    assert rest_messages("c1", {"say": ["Oui?"], "actions": []}) == [{"recipient_id": "c1", "text": "Oui?"}]


async def test_the_bot_receives_the_written_form_and_fillers_alone_count_as_silence():
    channel, bot = IVRInput(), Bot()
    await channel.handle(parse_turn({"call_id": "c1", "transcript": "euh un deux trois quatre cinq six"}), bot)
    assert [m.text for m in bot.received] == ["123456"]
    assert await channel.handle(parse_turn({"call_id": "c1", "transcript": "euh hum"}), bot) == said(SAY_STILL_THERE)


class _Request:
    def __init__(self, headers: dict | None = None, args: dict | None = None) -> None:
        self.headers = headers or {}
        self.args = args or {}


@pytest.mark.parametrize("environment, without_token_accepted", [("", False), ("production", False),
                                                                  ("development", True)])
def test_without_a_configured_token_the_phone_line_refuses_outside_development(
        monkeypatch, environment, without_token_accepted):
    from bot.settings import get_settings

    monkeypatch.setenv("BOT_IVR_TOKEN", "")
    monkeypatch.setenv("BOT_ENVIRONMENT", environment)
    get_settings.cache_clear()
    try:
        channel = IVRInput.from_credentials(None)
    finally:
        get_settings.cache_clear()
    # Anyone who knows or guesses a call id would otherwise speak in that call, identified.
    assert channel.authorised(_Request()) is without_token_accepted


def test_with_a_token_only_the_gateway_that_sends_it_is_heard(monkeypatch):
    channel = IVRInput(token="s3cret-gateway")
    assert channel.authorised(_Request({"authorization": "Bearer s3cret-gateway"}))
    assert channel.authorised(_Request(args={"token": "s3cret-gateway"}))
    assert not channel.authorised(_Request({"authorization": "Bearer guessed"}))
    assert not channel.authorised(_Request())


# --- "Est-ce que cela vous a aidé?" before hanging up ---

class Conversation:
    """The conversation's events as the tracker store holds them (the channel reads and appends)."""

    def __init__(self, *events: dict):
        self.events = list(events)

    async def read(self, sender_id):
        return list(self.events)

    async def append(self, sender_id, events):
        self.events.extend(events)

    def recorded(self) -> list:
        return [(e["name"], e["value"]) for e in self.events if e["event"] == "slot" and e["name"].startswith("feedback")]


ANSWERED_HOURS = (
    {"event": "action", "name": "action_session_start"},
    {"event": "user", "text": "c'est quoi vos heures", "parse_data": {"intent": {"name": "ask_hours"}}},
    {"event": "action", "name": "action_hours_now"},
    {"event": "action", "name": "action_listen"},
)
GOODBYE = ({"text": "Au revoir!", "utter_action": "utter_goodbye"},)
QUESTION = response_text(project_responses(), "utter_feedback_question", "ivr")
THANKS = response_text(project_responses(), "utter_feedback_thanks", "ivr")


async def test_one_question_before_hanging_up_and_the_answer_is_recorded():
    channel, bot, conversation = IVRInput(), Bot(*GOODBYE), Conversation(*ANSWERED_HOURS)
    bye = await channel.handle(parse_turn({"call_id": "c1", "transcript": "c'est tout merci bye"}), bot, None, conversation)
    assert bye == {"say": ["Au revoir!", QUESTION], "actions": []}
    answer = await channel.handle(parse_turn({"call_id": "c1", "transcript": "euh non pas vraiment"}), bot, None,
                                  conversation)
    assert answer == {"say": [THANKS], "actions": [{"type": "hangup"}]}
    assert conversation.recorded() == [("feedback_asked", "ask_hours"),
                                       ("feedback", {"helpful": "non", "topic": "ask_hours"})]
    assert len(bot.received) == 1, "the answer is the channel's, not a message to the model"


async def test_the_keypad_answers_too_and_silence_skips():
    channel, conversation = IVRInput(), Conversation(*ANSWERED_HOURS)
    await channel.handle(parse_turn({"call_id": "k", "transcript": "bye"}), Bot(*GOODBYE), None, conversation)
    keyed = await channel.handle(parse_turn({"call_id": "k", "transcript": "", "dtmf": "1"}), Bot(), None, conversation)
    assert keyed["actions"] == [{"type": "hangup"}]
    assert conversation.recorded()[-1] == ("feedback", {"helpful": "oui", "topic": "ask_hours"})

    silent, skipped = IVRInput(), Conversation(*ANSWERED_HOURS)
    await silent.handle(parse_turn({"call_id": "s", "transcript": "bye"}), Bot(*GOODBYE), None, skipped)
    assert await silent.handle(parse_turn({"call_id": "s", "transcript": ""}), Bot(), None, skipped) == {
        "say": [], "actions": [{"type": "hangup"}]}
    assert skipped.recorded() == [("feedback_asked", "ask_hours")]


async def test_another_question_instead_of_an_answer_goes_to_the_assistant_and_is_not_asked_again():
    channel, conversation = IVRInput(), Conversation(*ANSWERED_HOURS)
    await channel.handle(parse_turn({"call_id": "c", "transcript": "bye"}), Bot(*GOODBYE), None, conversation)
    bot = Bot()
    reply = await channel.handle(parse_turn({"call_id": "c", "transcript": "attendez, et pour ma carte"}), bot, None,
                                 conversation)
    assert [m.text for m in bot.received] == ["attendez, et pour ma carte"]
    assert reply["say"] == ["Que puis-je faire pour vous?"]
    again = await channel.handle(parse_turn({"call_id": "c", "transcript": "bye"}), Bot(*GOODBYE), None, conversation)
    assert again == {"say": ["Au revoir!"], "actions": [{"type": "hangup"}]}, "never asked twice"


async def test_never_asked_after_a_handoff_nor_without_an_answer_to_rate():
    handed = Conversation(*ANSWERED_HOURS, {"event": "slot", "name": "handoff_reason", "value": "request_human"})
    reply = await IVRInput().handle(parse_turn({"call_id": "h", "transcript": "bye"}), Bot(*GOODBYE), None, handed)
    assert reply == {"say": ["Au revoir!"], "actions": [{"type": "hangup"}]}
    greeted = Conversation({"event": "user", "text": "allo", "parse_data": {"intent": {"name": "greet"}}},
                           {"event": "action", "name": "utter_greet"})
    reply = await IVRInput().handle(parse_turn({"call_id": "g", "transcript": "bye"}), Bot(*GOODBYE), None, greeted)
    assert reply["actions"] == [{"type": "hangup"}]
    assert handed.recorded() == greeted.recorded() == []

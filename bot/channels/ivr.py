"""The phone line's input channel: speech transcripts in, speakable French and call-control actions out.

The channel answers a silent or unclear turn itself (a reprompt: a response of domain.yml), and after a
second silence or a third unclear turn asks Rasa to hand the caller to a person (`bot.handoff`): the
escalation action then records the handoff and decides the transfer, as for every other handoff.

Before hanging up after a goodbye, it asks once "est-ce que cela vous a aidé?" about the call's latest
answer (`bot.feedback`), unless the call was handed to a person: "oui"/"non" (or 1/2 on the keypad) is
recorded as events of the conversation and the call ends; silence ends it without an answer; anything
else goes on as an ordinary turn.
"""
from __future__ import annotations

import hmac
import logging
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.responses import Responses, app_responses, project_responses, response_text
from bot.channels.web import clean_text
from bot.contact import spoken_email
from bot.contract import IVR_COLLECT_DIGITS_KEY, IVR_TRANSFER_KEY, HandoffReason
from bot.feedback import feedback_events, last_topic, spoken_answer, was_handed_off
from bot.handoff import handoff_request
from bot.nlu.normalize import normalize
from bot.policy.phones import spoken_phone
from bot.settings import get_settings

logger = logging.getLogger(__name__)

CHANNEL = "ivr"
CARD_DIGITS = 6
GOODBYE_RESPONSES = frozenset({"utter_goodbye"})
MAX_CALLS_REMEMBERED = 10_000

# The channel's own reprompts (responses of domain.yml).
SAY_REPEAT = "utter_ivr_repeat"
SAY_KEYPAD_OR_AGENT = "utter_ivr_keypad_or_agent"
SAY_STILL_THERE = "utter_ivr_still_there"
SAY_FEEDBACK_QUESTION = "utter_feedback_question"
SAY_FEEDBACK_THANKS = "utter_feedback_thanks"
HANGUP = {"type": "hangup"}


class BadRequest(ValueError):
    """The request body is not a valid IVR turn; the message says why, in English, for the gateway."""


@dataclass(frozen=True)
class Turn:
    """One caller turn as the gateway sends it."""

    call_id: str
    transcript: str
    confidence: float | None = None
    dtmf: str = ""

    @property
    def keyed_digits(self) -> str:
        """The digits typed on the keypad ("#" and "*" dropped)."""
        return re.sub(r"\D", "", self.dtmf)


def parse_turn(body: Any) -> Turn:
    """Validate a request body: {call_id, transcript, confidence?, dtmf?, caller?}."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    call_id = body.get("call_id")
    if not isinstance(call_id, str) or not call_id.strip() or len(call_id) > 200 or not call_id.isprintable():
        raise BadRequest("call_id must be a non-empty string of at most 200 characters")
    if "transcript" not in body and "dtmf" not in body:
        raise BadRequest("transcript is required (an empty string when the caller said nothing)")
    transcript = body.get("transcript", "")
    if transcript is None:
        transcript = ""
    if not isinstance(transcript, str) or len(transcript) > 2000:
        raise BadRequest("transcript must be a string of at most 2000 characters")
    confidence = body.get("confidence")
    if confidence is not None:
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
            raise BadRequest("confidence must be a number from 0 to 1")
        confidence = float(confidence)
    dtmf = body.get("dtmf") or ""
    if not isinstance(dtmf, str) or not re.fullmatch(r"[0-9*#]{0,32}", dtmf):
        raise BadRequest("dtmf must be a string of keypad keys (0-9, * and #)")
    caller = body.get("caller")
    if caller is not None and not isinstance(caller, str):
        raise BadRequest("caller must be a string")
    # Without control characters and lone surrogates, on which spaCy's tokenizer fails (error 500).
    transcript = clean_text(transcript)
    return Turn(call_id=call_id.strip(), transcript=transcript.strip(), confidence=confidence, dtmf=dtmf)


# --- speakable text -----------------------------------------------------------------------

_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(.+?)\1")
_LINE_MARK = re.compile(r"^\s*(?:#{1,6}\s+|[-*•]\s+|\d+[.)]\s+|>\s*)", re.MULTILINE)
_PHONE = re.compile(
    r"(?<![\d-])\(?(\d{3})\)?[ .-]?(\d{3})[ .-](\d{4})(?!\d)"
    r"(?:,?\s*(?:poste|p\.|ext\.?|#)\s*(\d{1,6}))?"
)


def _is_emoji(char: str) -> bool:
    return unicodedata.category(char) == "So" or char in "\u200d\ufe0f\ufe0e" or 0x1F000 <= ord(char) <= 0x1FAFF


def speakable(text: str) -> tuple[str, bool]:
    """Text a voice can read: no markdown, no URL, no emoji, phone numbers grouped as said.

    Returns the text and whether anything that should not have been there was removed.
    """
    cleaned = _MD_LINK.sub(r"\1", text)
    cleaned = _URL.sub("", cleaned)
    cleaned = _EMPHASIS.sub(r"\2", cleaned)
    cleaned = _LINE_MARK.sub("", cleaned)
    cleaned = "".join(char for char in cleaned if not _is_emoji(char))
    stripped = cleaned != text
    cleaned = _EMAIL.sub(lambda m: spoken_email(m.group(0)), cleaned)
    cleaned = _PHONE.sub(lambda m: spoken_phone("".join(m.group(1, 2, 3)), m.group(4)), cleaned)
    lines = [line.strip() for line in cleaned.splitlines() if line.strip()]
    joined = ""
    for line in lines:
        if joined:
            joined += " " if joined[-1] in ".!?:;," else ". "
        joined += line
    joined = re.sub(r"\s+([.,;:!?])(?=\s|$)", lambda m: m.group(1) if m.group(1) in ".," else f" {m.group(1)}", joined)
    joined = re.sub(r"\s{2,}", " ", joined).strip()
    joined = re.sub(r"\(\s*\)", "", joined).strip()
    return joined, stripped


# --- reading the bot's replies ------------------------------------------------------------

def _transfer_action(payload: Any) -> dict | None:
    if not isinstance(payload, dict) or not payload.get("number"):
        return None
    action = {"type": "transfer", "number": re.sub(r"\D", "", str(payload["number"]))}
    if payload.get("extension"):
        action["extension"] = str(payload["extension"])
    return action


def _collect_count(value: Any) -> int:
    if isinstance(value, dict):
        value = value.get("count", CARD_DIGITS)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return CARD_DIGITS
    return value


def reply_for(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The IVR answer for the bot's messages of one turn: {"say": [...], "actions": [...]}."""
    say: list[str] = []
    transfer: dict | None = None
    hangup = False
    collect: int | None = None
    for message in messages:
        utter = message.get("utter_action") or ""
        text = message.get("text")
        if text:
            spoken, stripped = speakable(text)
            if stripped:
                logger.warning("IVR reply %s held markdown, a link or an emoji; removed before speech.",
                               utter or "(custom action text)")
            if spoken:
                say.append(spoken)
        custom = message.get("custom")
        if isinstance(custom, dict):
            transfer = transfer or _transfer_action(custom.get(IVR_TRANSFER_KEY))
            if custom.get(IVR_COLLECT_DIGITS_KEY):
                collect = _collect_count(custom[IVR_COLLECT_DIGITS_KEY])
        if utter in GOODBYE_RESPONSES:
            hangup = True
    actions: list[dict[str, Any]] = []
    if transfer:
        actions.append(transfer)
    elif hangup:
        actions.append({"type": "hangup"})
    elif collect:
        actions.append({"type": "collect_digits", "count": collect})
    return {"say": say, "actions": actions}


def rest_messages(call_id: str, reply: dict[str, Any]) -> list[dict[str, Any]]:
    """A reply in Rasa's REST format: one message per thing to say, the actions as a custom message."""
    messages = [{"recipient_id": call_id, "text": text} for text in reply["say"]]
    if reply["actions"]:
        messages.append({"recipient_id": call_id, "custom": {"actions": reply["actions"]}})
    return messages


# --- per-call counters --------------------------------------------------------------------

@dataclass
class CallState:
    """How many turns in a row were unclear (low ASR confidence) or silent."""

    unclear: int = 0
    silent: int = 0
    feedback_topic: str | None = None  # the question was just put, about this topic
    feedback_asked: bool = False


@dataclass
class CallStates:
    """Per call id, bounded: the oldest calls are forgotten first."""

    limit: int = MAX_CALLS_REMEMBERED
    _calls: OrderedDict[str, CallState] = field(default_factory=OrderedDict)

    def get(self, call_id: str) -> CallState:
        state = self._calls.pop(call_id, None) or CallState()
        self._calls[call_id] = state
        while len(self._calls) > self.limit:
            self._calls.popitem(last=False)
        return state

    def forget(self, call_id: str) -> None:
        self._calls.pop(call_id, None)


@dataclass(frozen=True)
class ChannelStep:
    """What the channel does with a silent or unclear turn instead of passing it to the model."""

    say: str | None = None  # a reprompt: the name of a response of domain.yml
    handoff: HandoffReason | None = None  # or hand the caller to a person, through Rasa


def channel_step(turn: Turn, state: CallState, threshold: float) -> ChannelStep | None:
    """The channel's own step when the turn is silent or unclear; None when the model should answer.

    A first silence asks whether the caller is still there, a second one hands off; a first unclear
    turn asks to repeat, a second offers the keypad or an agent, a third hands off. Keyed digits and a
    clear turn start the counts again, and so does a handoff.
    """
    if turn.keyed_digits:
        state.unclear = state.silent = 0
        return None
    if not turn.transcript:
        state.silent += 1
        if state.silent == 1:
            return ChannelStep(say=SAY_STILL_THERE)
        state.unclear = state.silent = 0
        return ChannelStep(handoff=HandoffReason.SILENCE)
    if turn.confidence is not None and turn.confidence < threshold:
        state.unclear += 1
        if state.unclear == 1:
            return ChannelStep(say=SAY_REPEAT)
        if state.unclear == 2:
            return ChannelStep(say=SAY_KEYPAD_OR_AGENT)
        state.unclear = state.silent = 0
        return ChannelStep(handoff=HandoffReason.UNCLEAR_SPEECH)
    state.unclear = state.silent = 0
    return None


# --- the Rasa channel ---------------------------------------------------------------------

class ConversationEvents(Protocol):
    """Reads and appends events of a conversation (the Rasa server's tracker store, with its lock)."""

    async def read(self, sender_id: str) -> list[dict[str, Any]]: ...

    async def append(self, sender_id: str, events: list[dict[str, Any]]) -> None: ...


class AgentEvents:
    """`ConversationEvents` of the Rasa server's agent: its tracker store, under its lock store."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def read(self, sender_id: str) -> list[dict[str, Any]]:
        agent = self.app.ctx.agent
        tracker = await agent.tracker_store.retrieve(sender_id)
        return [event.as_dict() for event in tracker.events] if tracker else []

    async def append(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        from rasa.server import update_conversation_with_events
        from rasa.shared.core.events import Event

        agent = self.app.ctx.agent
        async with agent.lock_store.lock(sender_id):
            tracker = await update_conversation_with_events(
                sender_id, agent.processor, agent.domain, [Event.from_parameters(event) for event in events]
            )
            await agent.tracker_store.save(tracker)


class IVROutput(OutputChannel):
    """Collects the bot's messages of one turn, whole (with the response name)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.messages.append(dict(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.messages.append({"text": text, **kwargs})


class IVRInput(InputChannel):
    """POST /webhooks/ivr/webhook: {call_id, transcript, confidence?, dtmf?, caller?} -> {say, actions}.

    See docs/ivr.md. The caller's number is accepted but neither stored nor logged.
    """

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> IVRInput:
        credentials = credentials or {}
        settings = get_settings()
        threshold = credentials.get("confidence_threshold")
        threshold = settings.ivr_confidence_threshold if threshold is None else float(threshold)
        if not settings.ivr_token:
            if settings.development:
                logger.warning("BOT_IVR_TOKEN is not set: the phone line accepts any caller (development only).")
            else:
                logger.error("BOT_IVR_TOKEN is not set: the phone line refuses every request (401) until it is; "
                             "BOT_ENVIRONMENT=development accepts requests without a token.")
        return cls(threshold, settings.ivr_token, without_token=settings.development)

    def __init__(self, confidence_threshold: float = 0.5, token: str = "", without_token: bool = False) -> None:
        self.confidence_threshold = confidence_threshold
        self.token = token
        self.without_token = without_token
        self.calls = CallStates()

    def authorised(self, request: Request) -> bool:
        """Whether the gateway sent the shared token. Without a configured token: refused, except in
        development (``BOT_ENVIRONMENT=development``), since the call id alone binds an identification."""
        if not self.token:
            return self.without_token
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else request.args.get("token", "")
        return hmac.compare_digest(given.encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        ivr_webhook = Blueprint("ivr_webhook", __name__)

        @ivr_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @ivr_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.authorised(request):
                return response.json({"error": "missing or wrong token"}, status=401)
            try:
                turn = parse_turn(request.json)
            except BadRequest as error:
                return response.json({"error": str(error)}, status=400)
            except Exception:  # noqa: BLE001 - sanic raises its own error on a body that is not JSON
                return response.json({"error": "the body must be valid JSON"}, status=400)
            reply = await self.handle(turn, on_new_message, app_responses(request.app), AgentEvents(request.app))
            return response.json({"call_id": turn.call_id, **reply})

        @ivr_webhook.route("/rest", methods=["POST"])
        async def receive_rest(request: Request) -> HTTPResponse:
            """Rasa's REST format, {sender, message}, for gateways that speak it (Jambonz's rasa verb)."""
            if not self.authorised(request):
                return response.json({"error": "missing or wrong token"}, status=401)
            try:
                body = request.json
                if not isinstance(body, dict):
                    raise BadRequest("the body must be a JSON object")
                turn = parse_turn({"call_id": body.get("sender"), "transcript": body.get("message")})
            except BadRequest as error:
                return response.json({"error": str(error)}, status=400)
            except Exception:  # noqa: BLE001 - sanic raises its own error on a body that is not JSON
                return response.json({"error": "the body must be valid JSON"}, status=400)
            reply = await self.handle(turn, on_new_message, app_responses(request.app), AgentEvents(request.app))
            return response.json(rest_messages(turn.call_id, reply))

        return ivr_webhook

    async def handle(
        self,
        turn: Turn,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        responses: Responses | None = None,
        conversation: ConversationEvents | None = None,
    ) -> dict:
        """Answer one turn: the channel's own reprompt, or the bot's reply made speakable.

        ``responses``: the domain's responses the reprompts are read from (the project's domain.yml by
        default). ``conversation``: where the feedback question's answer is recorded (without it, the
        question is not asked). A handoff is asked of Rasa like any message, so the escalation records and decides it.
        The transcript is normalized here already (the NLU pipeline does it again, harmlessly): the
        tracker, the redaction of personal data and the forms then see "123456", not "un deux trois…".
        """
        turn = replace(turn, transcript=normalize(turn.transcript).strip())
        state = self.calls.get(turn.call_id)
        responses = responses or project_responses()
        if state.feedback_topic is not None and conversation is not None:
            answered = await self._feedback_answer(turn, state, responses, conversation)
            if answered is not None:
                return answered
        step = channel_step(turn, state, self.confidence_threshold)
        if step is not None and step.say:
            said = response_text(responses, step.say, CHANNEL)
            return {"say": [speakable(said)[0]], "actions": []}
        collector = IVROutput()
        if step is not None and step.handoff:
            request = handoff_request(step.handoff)
            message = UserMessage(request.text, collector, turn.call_id, input_channel=CHANNEL,
                                  metadata=request.metadata)
        else:
            message = UserMessage(turn.keyed_digits or turn.transcript, collector, turn.call_id, input_channel=CHANNEL)
        await on_new_message(message)
        reply = reply_for(collector.messages)
        if reply["actions"] == [HANGUP] and conversation is not None and not state.feedback_asked:
            reply = await self._ask_feedback(turn.call_id, state, reply, responses, conversation)
        if any(action["type"] in {"transfer", "hangup"} for action in reply["actions"]):
            self.calls.forget(turn.call_id)
        return reply

    async def _ask_feedback(
        self, call_id: str, state: CallState, reply: dict, responses: Responses, conversation: ConversationEvents
    ) -> dict:
        """Instead of hanging up: the question about the call's latest answer, once, never after a handoff."""
        state.feedback_asked = True
        events = await conversation.read(call_id)
        topic = last_topic(events)
        if topic is None or was_handed_off(events):
            return reply
        await conversation.append(call_id, feedback_events(asked=topic))
        state.feedback_topic = topic
        question = speakable(response_text(responses, SAY_FEEDBACK_QUESTION, CHANNEL))[0]
        return {"say": [*reply["say"], question], "actions": []}

    async def _feedback_answer(
        self, turn: Turn, state: CallState, responses: Responses, conversation: ConversationEvents
    ) -> dict | None:
        """The caller's answer to the question: recorded, then the call ends; None when it is another turn."""
        topic, state.feedback_topic = state.feedback_topic, None
        helpful = spoken_answer(turn.transcript, turn.keyed_digits)
        if helpful is None and (turn.transcript or turn.keyed_digits):
            return None  # not an answer: the caller goes on talking to the assistant
        self.calls.forget(turn.call_id)
        if helpful is None:
            return {"say": [], "actions": [{**HANGUP}]}  # silence: skipped
        await conversation.append(turn.call_id, feedback_events(helpful, topic))
        thanks = speakable(response_text(responses, SAY_FEEDBACK_THANKS, CHANNEL))[0]
        return {"say": [thanks], "actions": [{**HANGUP}]}

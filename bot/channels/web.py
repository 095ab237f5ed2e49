"""The web widget's REST and socket.io channels, guarded against broken and hostile input.

Rasa's own channels answer a JSON list, a missing sender or a non-text message with an error
500 or silence, share one "default" conversation between senders that give no id, let a client
claim any ``input_channel`` and accept a message of any size. These subclasses keep Rasa's URLs
and channel names (``/webhooks/rest/webhook``, ``/socket.io``; ``rest``, ``socketio``) and first
check every message: a clean 4xx (REST) or a short French reply (socket.io, a response of domain.yml)
for what is refused, and for the rest a text without control characters or lone surrogates. They hand
Rasa the checked message through RestInput's private ``_extract_*`` hooks, so they refuse to start on
a Rasa release other than the one those hooks were checked on (`bot.rasa_compat`). It also joins the
visitor's socket to its session's room, which Rasa 3.6 forgets to await with python-socketio 5, and only
when the socket holds the conversation's signed client session key (bot/session.py): a second browser
that knows a conversation id cannot listen to it; without the key, a socket gets only the replies to its
own messages.
"""
from __future__ import annotations

import inspect
import json
import logging
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request

from bot import rasa_compat
from bot.channels.responses import Responses, app_responses, project_responses, response_text
from bot.session import CLIENT_SESSION_KEY, verify_client_session
from bot.settings import get_settings

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
MAX_METADATA_BYTES = 8_192
MAX_BODY_BYTES = 64 * 1024

# What a refused message gets (responses of domain.yml).
TOO_LONG = "utter_message_too_long"
INVALID = "utter_message_unreadable"


class InvalidInput(ValueError):
    """A message refused, with its HTTP status and the response to show (its reason, in English, for logs)."""

    def __init__(self, status: int, response: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.response = response

    def text(self, responses: Responses | None = None) -> str:
        """The French sentence the citizen reads."""
        return response_text(responses or project_responses(), self.response)


@dataclass(frozen=True)
class CheckedMessage:
    """A message that passed the checks: what Rasa receives."""

    sender_id: str
    text: str
    metadata: dict[str, Any]


def clean_text(text: str) -> str:
    """``text`` in NFC, without control characters (tabs and line breaks kept) nor lone surrogates."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = unicodedata.normalize("NFC", text)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")


def check_sender(sender: object) -> str:
    """A conversation id a client gave: a non-empty printable string of at most 128 characters."""
    if not isinstance(sender, str) or not sender.strip():
        raise InvalidInput(400, INVALID, "missing or non-text sender")
    if len(sender) > MAX_SENDER_CHARS or clean_text(sender) != sender or not sender.isprintable():
        raise InvalidInput(400, INVALID, "sender too long or not printable")
    return sender


def check_message(body: object, sender_key: str, text_key: str, metadata_key: str) -> CheckedMessage:
    """The sender, text and metadata of a decoded message body, or `InvalidInput`."""
    if not isinstance(body, dict):
        raise InvalidInput(400, INVALID, "body is not a JSON object")
    sender = check_sender(body.get(sender_key))
    text = body.get(text_key)
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidInput(400, INVALID, "message is not text")
    if len(text) > get_settings().max_message_chars:
        raise InvalidInput(413, TOO_LONG, "message too long")
    metadata = body.get(metadata_key)
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            raise InvalidInput(400, INVALID, "metadata is not JSON") from None
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise InvalidInput(400, INVALID, "metadata is not an object")
    if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        raise InvalidInput(413, INVALID, "metadata too large")
    return CheckedMessage(sender, clean_text(text), metadata)


class GuardedRestInput(RestInput):
    """Rasa's REST channel, with every request checked before Rasa sees it."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rasa_compat.require_supported("the checked REST channel (bot.channels.web.GuardedRestInput)")
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check(request: Request) -> response.HTTPResponse | None:
            if request.method != "POST":
                return None
            try:
                if len(request.body) > MAX_BODY_BYTES:
                    raise InvalidInput(413, TOO_LONG, "body too large")
                try:
                    body = json.loads(request.body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    raise InvalidInput(400, INVALID, "body is not UTF-8 JSON") from None
                request.ctx.checked = check_message(body, "sender", "message", "metadata")
            except InvalidInput as refused:
                logger.info("REST message refused: %s", refused)
                text = refused.text(app_responses(request.app))
                return response.json({"error": str(refused), "text": text}, status=refused.status)
            return None

        return blueprint

    async def _extract_sender(self, req: Request) -> str:
        return req.ctx.checked.sender_id

    def _extract_message(self, req: Request) -> str:
        return req.ctx.checked.text

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any]:
        return request.ctx.checked.metadata


class SocketOnlyOutput(SocketIOOutput):
    """Replies to the one socket that sent the message, not to the conversation's room."""

    def __init__(self, sio: Any, bot_message_evt: str, sid: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.sid = sid

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await self.sio.emit(self.bot_message_evt, response, room=self.sid)


class GuardedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel, answering a refused message with a short French reply."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        server: dict[str, Any] = {}

        @blueprint.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            server["app"] = app  # its agent's domain holds the refusals' wording

        async def refuse(sid: str, refused: InvalidInput) -> None:
            logger.info("socket.io message refused: %s", refused)
            text = refused.text(app_responses(server.get("app")))
            await sio.emit(self.bot_message_evt, {"text": text}, room=sid)

        async def session_request(sid: str, data: Any) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if session_id is None:
                session_id = uuid.uuid4().hex
            try:
                session_id = check_sender(session_id)
            except InvalidInput as refused:
                await refuse(sid, refused)
                return
            key = data.get(CLIENT_SESSION_KEY) if isinstance(data, dict) else None
            if self.session_persistence and verify_client_session(key, session_id) is not None:
                # Only a socket holding the conversation's signed key listens to its room (every reply
                # of the conversation, live); a socket that only knows the id hears its own replies.
                # A coroutine in python-socketio 5.x, which Rasa 3.6's own channel forgets to await.
                joined = sio.enter_room(sid, session_id, namespace=self.namespace or "/")
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid)

        async def handle_message(sid: str, data: Any) -> None:
            if isinstance(data, dict) and not self.session_persistence:
                data = {**data, "session_id": sid}
            try:
                checked = check_message(data, "session_id", "message", self.metadata_key)
            except InvalidInput as refused:
                await refuse(sid, refused)
                return
            keyed = verify_client_session(checked.metadata.get(CLIENT_SESSION_KEY), checked.sender_id) is not None
            output = (SocketIOOutput(sio, self.bot_message_evt) if keyed or not self.session_persistence
                      else SocketOnlyOutput(sio, self.bot_message_evt, sid))
            await on_new_message(
                UserMessage(checked.text, output, checked.sender_id, input_channel=self.name(),
                            metadata=checked.metadata)
            )

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return blueprint

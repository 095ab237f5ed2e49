"""Who holds a conversation: client session keys, identification bound to them, and personal answers.

A conversation id is chosen by the client, so it proves nothing. What the assistant says about an
identified person is said only to the client that identified, in the same conversation:

- **Web.** The widget's server (bot/widget/serve.py) issues each conversation a *client session key*,
  signed with HMAC-SHA256 (``BOT_SESSION_SECRET``): ``v1.<conversation id>.<nonce>.<issued at>.<sig>``.
  The widget keeps it with the conversation id and sends it with every message, in the metadata
  under `CLIENT_SESSION_KEY` (stored redacted as a credential, see bot/privacy.py). Another client
  can ask the widget's server for a key for the same id, but gets another nonce, so another binding.
- **Phone line.** The IVR gateway authenticates every request with ``BOT_IVR_TOKEN`` and the call id
  is the conversation id: a message on the ``ivr`` channel is bound to the call.

On identification (card digits and birth date or phone), the ``identified_file_id`` slot holds
``{"file_id": ..., "binding": ...}``, the binding being a keyed fingerprint of the client (letters
only, never a secret). `identified_file_id` gives the file back only when the current message comes
from the same client and the conversation was never idle for more than
``BOT_IDENTIFICATION_IDLE_MINUTES`` since the identification. "Recommencer" and "Terminer la session"
in the widget restart the conversation (the slot is gone) and throw the key away.

Answers that carry an identified person's data (names, amounts, activities, expiry dates) are sent
with `PERSONAL_ANSWER` (``dispatcher.utter_message(..., **PERSONAL_ANSWER)``): the tracker store
keeps them only as `PERSONAL_ANSWER_PLACEHOLDER` (`redact_personal_answer`, called by bot/privacy.py).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from bot.settings import get_settings

CLIENT_SESSION_KEY = "client_session"
IVR_CHANNEL = "ivr"
VERSION = "v1"
MAX_KEY_LENGTH = 400
# A key is accepted this long after it was issued (a conversation that lasts longer gets a new one).
KEY_MAX_AGE_SECONDS = 12 * 3600
KEY_CLOCK_SKEW_SECONDS = 300
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Fingerprints are written with these letters only, so no digit-run detector ever redacts them.
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")

IDENTIFIED_FILE_SLOT = "identified_file_id"
PERSONAL_ANSWER_FLAG = "personal_data"
PERSONAL_ANSWER: dict[str, bool] = {PERSONAL_ANSWER_FLAG: True}
PERSONAL_ANSWER_PLACEHOLDER = "[renseignements personnels masqués]"


def _secret() -> bytes:
    return get_settings().session_secret.encode()


def _sign(body: str) -> str:
    return hmac.new(_secret(), body.encode(), hashlib.sha256).hexdigest()


def issue_client_session(conversation_id: str, *, now: float | None = None) -> str:
    """A new signed client session key for this conversation id (what the widget's server hands out)."""
    if not conversation_id or "." in conversation_id or len(conversation_id) > 128:
        raise ValueError("conversation id must be 1 to 128 characters, without a dot")
    issued = int(time.time() if now is None else now)
    body = f"{VERSION}.{conversation_id}.{secrets.token_urlsafe(24)}.{issued}"
    return f"{body}.{_sign(body)}"


def verify_client_session(key: object, conversation_id: str, *, now: float | None = None) -> str | None:
    """The key's nonce when it is a key we signed for this very conversation and still valid, else None."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH:
        return None
    parts = key.split(".")
    if len(parts) != 5 or parts[0] != VERSION:
        return None
    _, sid, nonce, issued, signature = parts
    if not hmac.compare_digest(_sign(".".join(parts[:4])), signature):
        return None
    if not hmac.compare_digest(sid.encode(), conversation_id.encode()) or not _NONCE.fullmatch(nonce):
        return None
    if not issued.isdigit():
        return None
    current = time.time() if now is None else now
    age = current - int(issued)
    if age > KEY_MAX_AGE_SECONDS or age < -KEY_CLOCK_SKEW_SECONDS:
        return None
    return nonce


def _fingerprint(*parts: str) -> str:
    digest = hmac.new(_secret(), "\x1f".join(("binding", *parts)).encode(), hashlib.sha256).hexdigest()
    return digest[:32].translate(_LETTERS)


def client_binding(conversation_id: str, channel: str | None, metadata: Mapping | None) -> str | None:
    """What proves the current message comes from the conversation's legitimate client, as a fingerprint.

    On the phone line: the call (the gateway authenticates itself with ``BOT_IVR_TOKEN``). On the web:
    a valid client session key for this conversation in the message metadata. None: nothing proves it.
    """
    if channel == IVR_CHANNEL:
        return _fingerprint(IVR_CHANNEL, conversation_id)
    key = metadata.get(CLIENT_SESSION_KEY) if isinstance(metadata, Mapping) else None
    nonce = verify_client_session(key, conversation_id)
    return None if nonce is None else _fingerprint("web", conversation_id, nonce)


def _latest(tracker: Any) -> tuple[str | None, Mapping | None]:
    """The channel and metadata of the tracker's latest user message (a rasa_sdk Tracker)."""
    latest = tracker.latest_message or {}
    return tracker.get_latest_input_channel(), latest.get("metadata")


def identification_value(tracker: Any, file_id: int) -> dict[str, Any]:
    """The value of ``identified_file_id`` after identifying ``file_id`` in this turn, bound to its client.

    Without anything binding the client (a REST client with no session key), the binding is empty:
    the answer of this turn is given, and nothing personal afterwards.
    """
    channel, metadata = _latest(tracker)
    return {"file_id": int(file_id), "binding": client_binding(tracker.sender_id, channel, metadata)}


def _identification_time(events: Sequence[Mapping]) -> tuple[int, float] | None:
    """Index and time of the latest event that set the identification, if any."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "slot" and event.get("name") == IDENTIFIED_FILE_SLOT:
            if event.get("value") is None or not isinstance(event.get("timestamp"), int | float):
                return None
            return index, float(event["timestamp"])
    return None


def idle_expired(events: Sequence[Mapping], *, now: float | None = None, idle_seconds: float | None = None) -> bool:
    """Whether the conversation stayed silent longer than the idle limit since the identification.

    Gaps are measured between the identification, each user message after it and ``now``. No
    identification event (or one without a time) counts as expired.
    """
    found = _identification_time(events)
    if found is None:
        return True
    limit = idle_seconds if idle_seconds is not None else get_settings().identification_idle_minutes * 60
    index, previous = found
    times = [float(e["timestamp"]) for e in events[index + 1 :]
             if e.get("event") == "user" and isinstance(e.get("timestamp"), int | float)]
    for moment in [*times, time.time() if now is None else now]:
        if moment - previous > limit:
            return True
        previous = max(previous, moment)
    return False


def identified_file_id(tracker: Any, *, now: float | None = None) -> int | None:
    """The file identified in this conversation, if the current message comes from the client that identified
    it and the identification has not gone idle; else None (nothing personal may be said)."""
    value = tracker.get_slot(IDENTIFIED_FILE_SLOT)
    if not isinstance(value, Mapping) or not isinstance(value.get("binding"), str) or not value["binding"]:
        return None
    channel, metadata = _latest(tracker)
    binding = client_binding(tracker.sender_id, channel, metadata)
    if binding is None or not hmac.compare_digest(binding, value["binding"]):
        return None
    if idle_expired(tracker.events, now=now):
        return None
    file_id = value.get("file_id")
    return int(file_id) if isinstance(file_id, int) else None


# --- Personal answers in the tracker store ---


def is_personal_answer(event: Mapping) -> bool:
    """Whether a serialised bot event carries an identified person's data (sent with `PERSONAL_ANSWER`)."""
    metadata = event.get("metadata")
    return event.get("event") == "bot" and isinstance(metadata, Mapping) and metadata.get(PERSONAL_ANSWER_FLAG) is True


def redact_personal_answer(event: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a personal bot answer: the placeholder, no template variables, buttons kept."""
    metadata = event.get("metadata") or {}
    kept = {key: metadata[key] for key in ("utter_action",) if key in metadata}
    data = dict(event.get("data") or {})
    data["custom"] = None
    return {**event, "text": PERSONAL_ANSWER_PLACEHOLDER, "metadata": {**kept, PERSONAL_ANSWER_FLAG: True}, "data": data}


_masked_repr_installed = False


def install_personal_answer_log_masking() -> None:
    """Make Rasa's ``BotUttered`` events print a personal answer as its placeholder (idempotent).

    Rasa's processor logs every action's events at DEBUG with their ``repr``; log redaction only knows
    shapes (card numbers, dates...), not a person's name or amount, so a flagged answer must never be
    printed at all. Installed when the Rasa server registers bot/ops.py's channel.
    """
    global _masked_repr_installed
    if _masked_repr_installed:
        return
    from rasa.shared.core.events import BotUttered

    def masked(method: Any) -> Any:
        def wrapper(self: Any) -> str:
            metadata = self.metadata if isinstance(self.metadata, Mapping) else {}
            if metadata.get(PERSONAL_ANSWER_FLAG) is not True:
                return method(self)
            shown = BotUttered(PERSONAL_ANSWER_PLACEHOLDER, self.data, {PERSONAL_ANSWER_FLAG: True}, self.timestamp)
            return method(shown)

        return wrapper

    BotUttered.__repr__ = masked(BotUttered.__repr__)
    BotUttered.__str__ = masked(BotUttered.__str__)
    _masked_repr_installed = True

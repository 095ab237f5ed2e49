"""The conversation contract: names shared by the actions, the phone channel, the privacy layer and the report.

Every string that two parts of the project must spell the same way is declared here once: the handoff
record (its slots and reasons) and the keys of the custom payloads the actions send to the phone
channel. The guided flows' declarations join it (one record per flow).
"""
from __future__ import annotations

from enum import Enum

# --- The handoff record, written by the escalation and read by the help-desk report ---
HANDOFF_REASON_SLOT = "handoff_reason"
HANDOFF_TOPIC_SLOT = "handoff_topic"
HANDOFF_TRIED_SLOT = "handoff_tried"
HANDOFF_SLOTS = (HANDOFF_REASON_SLOT, HANDOFF_TOPIC_SLOT, HANDOFF_TRIED_SLOT)


class HandoffReason(str, Enum):
    """Why a conversation was handed to a person (the value of ``handoff_reason``)."""

    REQUEST_HUMAN = "request_human"
    REPEATED_FALLBACK = "repeated_fallback"
    LOCKED = "locked"
    REPEATED_INVALID_INPUT = "repeated_invalid_input"
    BACKEND_UNAVAILABLE = "backend_unavailable"
    # Asked for by the phone channel (bot/channels/ivr.py): a third unclear turn, a second silence.
    UNCLEAR_SPEECH = "unclear_speech"
    SILENCE = "silence"


# --- Custom payloads the actions send to the phone channel (bot/channels/ivr.py reads them) ---
IVR_TRANSFER_KEY = "transfer"  # {"transfer": {"number": ..., "extension": ...}}
IVR_COLLECT_DIGITS_KEY = "collect_digits"  # {"collect_digits": 6}: the caller may use the keypad

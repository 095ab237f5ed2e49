"""When a part fails during a turn, the citizen still gets an answer in that turn, with the call centre.

Rasa 3.6 logs a custom action it could not run (action server down, killed mid-request, or slower
than Rasa's own five-minute limit) and carries on without a word: the citizen's question gets no
answer. Two hooks close that gap, installed by `bot.rasa_compat.apply` on the supported Rasa only:

1. **A custom action that cannot run** (``RemoteAction.run``, and ``FormAction.run`` around the form's
   validation and ask actions). The action server gets ``BOT_ACTION_TIMEOUT_SECONDS`` (8 s) per call,
   not Rasa's 300 s. On any failure but a form's rejection (which Rasa needs), the action's events
   are replaced by `fallback_events`: the response ``utter_technical_problem`` (the call centre's
   number in it) and the handoff's reason ``technical_problem``; on the phone line, when the call
   centre is not known to be closed, ``utter_technical_problem_transfer`` and the transfer. The
   failure is counted in ``assistant_action_call_errors_total{action,kind}`` (`bot.metrics`) and
   logged in one line with the action and the kind, never the tracker nor a traceback. A form
   stays active with what it had: when the action server is back, the citizen's next answer goes on
   where the form was. Inside a form, only the outer form action answers (once), not each inner call.
2. **A turn that cannot run at all** (the lock store's Redis down, the tracker store raising past
   Rasa's fail-safe): the agent's ``handle_message`` wrapper of `bot.ops` catches the error and sends
   `fallback_messages` to the channel, so the REST, socket.io and phone channels still answer.

Each call to the action server carries the moment Rasa stops waiting for it (`bot.deadline.HEADER`),
so that the action server commits nothing the citizen was already told could not be done, even for a
request it read late (`bot.deadline`). The call's endpoint is a copy with that header: Rasa makes a new
``RemoteAction`` per call, so no other call sees it. The copy calls through the event loop's shared,
kept-alive session (`bot.action_calls`) instead of a new session and connection per call.

The account database is the action server's business: its ``BackendUnavailable`` already makes the
action escalate with ``utter_backend_unavailable`` (actions/escalation.py).

The tracker store's database down is handled by the store itself (`bot.tracker_store`): a conversation goes
on from the instance's memory. One it must start blank (unknown to this instance) is reported here with
`conversation_restarted`, and `restart_notice` makes the turn's first answer start with
``utter_conversation_restarted``.
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from bot import action_calls, deadline, metrics
from bot.channels.responses import Responses, fill, project_responses, response_text
from bot.contract import HANDOFF_REASON_SLOT, IVR_TRANSFER_KEY, HandoffReason
from bot.settings import get_settings

logger = logging.getLogger(__name__)

IVR_CHANNEL = "ivr"
TECHNICAL_PROBLEM = "utter_technical_problem"
TECHNICAL_PROBLEM_TRANSFER = "utter_technical_problem_transfer"
CONVERSATION_RESTARTED = "utter_conversation_restarted"

# How many guarded action runs enclose the current one (a form's validation runs inside the form).
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("assistant_action_depth", default=0)


class ActionUnavailable(Exception):
    """A custom action could not run; raised from an inner call to the outer guarded action."""

    def __init__(self, action: str, kind: str) -> None:
        super().__init__(f"custom action {action} could not run ({kind})")
        self.action = action
        self.kind = kind


def _text(responses: Responses, name: str, channel: str | None) -> str:
    variant = IVR_CHANNEL if channel == IVR_CHANNEL else None
    try:
        return response_text(responses, name, variant)
    except KeyError:  # a model trained before this response existed: the project's domain.yml has it
        return response_text(project_responses(), name, variant)


def fallback_messages(responses: Responses, channel: str | None) -> list[dict[str, Any]]:
    """What the citizen gets when a part failed: one message, and the transfer on the phone line.

    Each message is a dict as Rasa's output channels take it (``text``, ``custom``, ``utter_action``).
    """
    from bot.contact import get_directory
    from bot.handoff import phone_transfer

    directory = get_directory()
    variables = {"call_centre": directory.call_centre.spoken}
    on_the_phone = channel == IVR_CHANNEL
    transfer = phone_transfer(directory, directory.now()) if on_the_phone else None
    name = TECHNICAL_PROBLEM_TRANSFER if transfer else TECHNICAL_PROBLEM
    text = _text(responses, name, channel)
    message: dict[str, Any] = {
        "text": fill(text, variables),
        "utter_action": name,
    }
    if transfer:
        message["custom"] = {IVR_TRANSFER_KEY: transfer[IVR_TRANSFER_KEY]}
    return [message]


class _Turn:
    """The conversation of the turn being handled, and whether its tracker store started it blank."""

    def __init__(self, sender_id: str) -> None:
        self.sender_id = sender_id
        self.restarted = False
        self.told = False


_turn: contextvars.ContextVar[_Turn | None] = contextvars.ContextVar("assistant_turn", default=None)


def conversation_restarted(sender_id: str) -> None:
    """The tracker store could not read this conversation and this instance knew nothing of it: it starts
    blank (called by `bot.tracker_store`); the turn's first answer says so (`restart_notice`)."""
    turn = _turn.get()
    if turn is not None and turn.sender_id == sender_id:
        turn.restarted = True


@contextlib.contextmanager
def restart_notice(message: Any, responses: Callable[[], Responses]) -> Iterator[None]:
    """While a citizen message is handled: if its conversation starts blank because the tracker store failed,
    ``utter_conversation_restarted`` goes out right before the first answer, once.

    The message's output channel (one per message in every channel) gets its own ``send_response`` for the
    turn; Rasa sends every answer through it.
    """
    output = getattr(message, "output_channel", None)
    sender_id = getattr(message, "sender_id", None)
    if output is None or sender_id is None:
        yield
        return
    turn = _Turn(str(sender_id))
    token = _turn.set(turn)
    send = output.send_response

    async def send_response(recipient_id: str, reply: dict[str, Any]) -> None:
        if turn.restarted and not turn.told:
            turn.told = True
            text = _text(responses(), CONVERSATION_RESTARTED, getattr(message, "input_channel", None))
            await send(recipient_id, {"text": text, "utter_action": CONVERSATION_RESTARTED})
        await send(recipient_id, reply)

    own = vars(output).get("send_response") if hasattr(output, "__dict__") else None
    try:
        output.send_response = send_response
    except AttributeError:  # a channel object that takes no attribute: no notice
        _turn.reset(token)
        yield
        return
    try:
        yield
    finally:
        if own is None:
            del output.send_response  # the class's own again
        else:
            output.send_response = own
        _turn.reset(token)


def fallback_events(tracker: Any, domain: Any) -> list[Any]:
    """The events a failed custom action leaves: the message to the citizen and the handoff's reason."""
    from rasa.shared.core.events import BotUttered, SlotSet

    events: list[Any] = []
    for message in fallback_messages(domain.responses, tracker.get_latest_input_channel()):
        data = {"custom": message["custom"]} if "custom" in message else {}
        events.append(BotUttered(message["text"], data, {"utter_action": message["utter_action"]}))
    if any(slot.name == HANDOFF_REASON_SLOT for slot in domain.slots):
        events.append(SlotSet(HANDOFF_REASON_SLOT, HandoffReason.TECHNICAL_PROBLEM.value))
    return events


def action_timeout() -> float:
    """Seconds the action server gets for one custom action (``BOT_ACTION_TIMEOUT_SECONDS``)."""
    return get_settings().action_timeout_seconds


Run = Callable[..., Awaitable[list[Any]]]


def send_deadline(action: Any, seconds: float) -> None:
    """Give this call of ``action`` its own endpoint, whose requests say when Rasa stops waiting."""
    endpoint = getattr(action, "action_endpoint", None)
    if endpoint is None:
        return
    call_endpoint = action_calls.pooled(endpoint)
    call_endpoint.headers = {**(endpoint.headers or {}), deadline.HEADER: deadline.header_value(seconds)}
    action.action_endpoint = call_endpoint


def guarded(original: Run, *, timed: bool) -> Run:
    """``Action.run`` that answers the citizen instead of raising when the action cannot run.

    ``timed``: the call gets `action_timeout` seconds (a remote call); a form's own run is not timed,
    its inner remote calls are. Rasa's ``ActionExecutionRejection`` (a form's validation refusing
    the message) passes through untouched.
    """
    from rasa.core.actions.action import ActionExecutionRejection

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Any]:
        depth = _depth.get()
        token = _depth.set(depth + 1)
        try:
            if timed:
                send_deadline(self, action_timeout())
            call = original(self, output_channel, nlg, tracker, domain)
            return await (asyncio.wait_for(call, action_timeout()) if timed else call)
        except ActionExecutionRejection:
            raise
        except ActionUnavailable:
            if depth:
                raise
        except Exception as error:  # noqa: BLE001 - any failure: the citizen is answered, operators counted
            name = str(self.name())
            kind = metrics.action_call_error_kind(error)
            metrics.ACTION_CALL_ERRORS.labels(metrics.bounded("action", name), kind).inc()
            logger.warning("Custom action %s could not run (%s); the citizen was given the call centre.", name, kind)
            if depth:
                raise ActionUnavailable(name, kind) from None
        finally:
            _depth.reset(token)
        return fallback_events(tracker, domain)

    run._assistant_guarded = True  # type: ignore[attr-defined]
    return run


async def answer_failed_turn(agent: Any, message: Any, error: BaseException) -> None:
    """Send the citizen `fallback_messages` for a turn whose handling raised (logged by kind, no traceback)."""
    kind = type(error).__name__
    logger.warning("A citizen message could not be handled (%s); the citizen was given the call centre.", kind)
    logger.debug("The turn failed with", exc_info=error)
    output = getattr(message, "output_channel", None)
    if output is None:
        return
    domain = getattr(agent, "domain", None)
    responses = getattr(domain, "responses", None) or project_responses()
    for reply in fallback_messages(responses, getattr(message, "input_channel", None)):
        try:
            await output.send_response(message.sender_id, reply)
        except Exception as send_error:  # noqa: BLE001 - a client gone away: nothing more to do
            logger.warning("The technical-problem message could not be sent (%s).", type(send_error).__name__)


_ORIGINALS: dict[str, Run] = {}


def install() -> None:
    """Guard ``RemoteAction.run`` and ``FormAction.run`` (idempotent); call `bot.rasa_compat.apply` instead."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.actions.forms import FormAction

    if not getattr(RemoteAction.run, "_assistant_guarded", False):
        _ORIGINALS["remote"] = RemoteAction.run
        RemoteAction.run = guarded(RemoteAction.run, timed=True)
    if not getattr(FormAction.run, "_assistant_guarded", False):
        _ORIGINALS["form"] = FormAction.run
        FormAction.run = guarded(FormAction.run, timed=False)

"""A custom action that cannot run answers the citizen in the same turn (bot/faults.py), on real sockets.

The action server is played by small real TCP servers: none listening (down), one that never answers
(slow, past BOT_ACTION_TIMEOUT_SECONDS), one that closes the connection in the middle of the request
(killed mid-request). Rasa's own RemoteAction and FormAction run against them, with the guard installed.
"""
from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import action_calls, deadline, faults, rasa_compat
from bot.channels.ivr import reply_for
from bot.settings import PROJECT_ROOT, get_settings

CALL_CENTRE_DIGITS = "4509612001"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(autouse=True)
def guarded_rasa(monkeypatch):
    """Rasa's own runs, then the guard installed over them (as bot.rasa_compat.apply does)."""
    for cls, key in ((RemoteAction, "remote"), (FormAction, "form")):
        original = faults._ORIGINALS.get(key, cls.run)
        monkeypatch.setattr(cls, "run", original)
    assert rasa_compat.apply()
    assert getattr(RemoteAction.run, "_assistant_guarded", False) and getattr(FormAction.run, "_assistant_guarded", False)


@pytest_asyncio.fixture(autouse=True)
async def kept_alive_connections_closed() -> AsyncIterator[None]:
    """The event loop's shared session to the action server (bot/action_calls.py) closed with the test's loop."""
    yield
    await action_calls.close()


@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setenv("BOT_ACTION_TIMEOUT_SECONDS", "0.5")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest_asyncio.fixture
async def action_server() -> AsyncIterator[Callable[[str], Any]]:
    """Start a fake action server that behaves as asked: ``silent`` (never answers) or ``dies`` (hangs up)."""
    servers: list[asyncio.base_events.Server] = []

    async def start(behaviour: str) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            if behaviour == "silent":
                await asyncio.sleep(30)
            writer.close()  # "dies": the connection drops before any answer

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/webhook"

    yield start
    for server in servers:
        server.close()


def tracker_for(domain: Domain, channel: str, *extra: Any) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "faults-test",
        [ActionExecuted("action_listen"),
         UserUttered("c'est quand que ma carte expire", {"name": "ask_card_expiry", "confidence": 0.99},
                     input_channel=channel),
         *extra],
        slots=domain.slots,
    )


def errors(action: str, kind: str) -> float:
    return REGISTRY.get_sample_value("assistant_action_call_errors_total", {"action": action, "kind": kind}) or 0.0


async def run_remote(domain: Domain, url: str, channel: str = "rest") -> list:
    action = RemoteAction("action_card_expiry", EndpointConfig(url))
    return await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses),
                            tracker_for(domain, channel), domain)


def said(events: list) -> list[BotUttered]:
    return [event for event in events if isinstance(event, BotUttered)]


@pytest.mark.asyncio
async def test_action_server_down_the_citizen_reads_the_call_centre_in_the_same_turn(domain):
    before = errors("action_card_expiry", "unreachable")
    events = await run_remote(domain, f"http://127.0.0.1:{free_port()}/webhook")
    [message] = said(events)
    assert message.text.startswith("Désolé, un problème technique")
    assert "450 961-2001, poste 4000" in message.text
    assert "Traceback" not in message.text and "127.0.0.1" not in message.text
    assert SlotSet("handoff_reason", "technical_problem") in events
    assert errors("action_card_expiry", "unreachable") == before + 1


@pytest.mark.asyncio
async def test_a_slow_action_server_is_given_up_after_the_project_timeout_not_rasas_minutes(
        domain, action_server, short_timeout):
    before = errors("action_card_expiry", "timeout")
    url = await action_server("silent")
    started = asyncio.get_running_loop().time()
    events = await run_remote(domain, url)
    assert asyncio.get_running_loop().time() - started < 3
    assert said(events)[0].metadata["utter_action"] == "utter_technical_problem"
    assert errors("action_card_expiry", "timeout") == before + 1


@pytest.mark.asyncio
async def test_each_call_tells_the_action_server_when_rasa_stops_waiting(domain):
    """The deadline header (bot/deadline.py) on a per-call copy of the endpoint: the shared one is untouched."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        body = b'{"events": [], "responses": []}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                     % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    shared = EndpointConfig(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/webhook", headers={"X-City": "1"})
    try:
        sent_at = time.time()
        await RemoteAction("action_card_expiry", shared).run(
            CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses),
            tracker_for(domain, "rest"), domain)
    finally:
        server.close()
    headers = dict(line.split(": ", 1) for line in received[0].decode().split("\r\n")[1:] if ": " in line)
    gives_up_at = float(headers[deadline.HEADER])
    assert sent_at + faults.action_timeout() - 1 < gives_up_at <= time.time() + faults.action_timeout()
    assert headers["X-City"] == "1"
    assert shared.headers == {"X-City": "1"}  # other calls never see this call's deadline


@pytest.mark.asyncio
async def test_an_action_server_killed_mid_request_is_counted_apart(domain, action_server):
    before = errors("action_card_expiry", "disconnected")
    events = await run_remote(domain, await action_server("dies"))
    assert said(events)[0].metadata["utter_action"] == "utter_technical_problem"
    assert errors("action_card_expiry", "disconnected") == before + 1


@pytest.mark.asyncio
async def test_on_the_phone_the_caller_hears_it_and_is_transferred_while_the_call_centre_is_not_known_closed(
        domain):
    # The shipped contact file has no opening hours: the call centre is never known to be closed.
    events = await run_remote(domain, f"http://127.0.0.1:{free_port()}/webhook", channel="ivr")
    [message] = said(events)
    reply = reply_for([message.message()])
    assert reply["say"][0].startswith("Désolé, un problème technique")
    assert "Je vous transfère" in reply["say"][0] and "**" not in reply["say"][0]
    assert reply["actions"] == [{"type": "transfer", "number": CALL_CENTRE_DIGITS, "extension": "4000"}]


@pytest.mark.asyncio
async def test_a_form_whose_validation_cannot_run_answers_once_and_stays_where_it_was(domain):
    before = errors("validate_identify_form", "unreachable")
    form = FormAction("identify_form", EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook"))
    tracker = tracker_for(domain, "rest", ActiveLoop("identify_form"), SlotSet("requested_slot", "form_card_digits"))
    tracker.update(UserUttered("123456", {"name": "inform", "confidence": 0.99}, input_channel="rest"))
    events = await form.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses),
                            tracker, domain)
    assert len(said(events)) == 1, "one message, not one per inner call"
    assert not any(isinstance(event, ActiveLoop) for event in events), "the form is neither ended nor restarted"
    assert errors("validate_identify_form", "unreachable") == before + 1
    assert errors("identify_form", "unreachable") == 0


@pytest.mark.asyncio
async def test_a_form_rejecting_a_message_still_reaches_rasa_as_a_rejection(domain, monkeypatch):
    async def rejecting(self, *args: Any) -> list:
        raise ActionExecutionRejection(self.name())

    monkeypatch.setattr(RemoteAction, "run", faults.guarded(rejecting, timed=True))
    with pytest.raises(ActionExecutionRejection):
        await run_remote(domain, "http://127.0.0.1:1/webhook")


class FailingAgent:
    """An agent whose lock store is gone: ``handle_message`` raises, as Rasa's does with Redis down."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    async def handle_message(self, message: UserMessage) -> None:
        import redis

        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")


@pytest.mark.asyncio
async def test_a_turn_that_fails_whole_is_answered_on_the_web_and_counted(domain):
    from bot import ops

    agent = FailingAgent(domain)
    ops._meter_agent(agent)
    before = REGISTRY.get_sample_value("assistant_turn_errors_total", {"channel": "rest"}) or 0.0
    output = CollectingOutputChannel()
    await agent.handle_message(UserMessage("Bonjour", output, "faults-web", input_channel="rest"))
    [message] = output.messages
    assert message["text"].startswith("Désolé, un problème technique") and "6390" not in json.dumps(message)
    assert REGISTRY.get_sample_value("assistant_turn_errors_total", {"channel": "rest"}) == before + 1


def test_the_slot_vault_with_redis_down_forgets_instead_of_stopping_the_conversation():
    from bot.tracker_store import RedisSlotVault

    vault = RedisSlotVault(f"redis://127.0.0.1:{free_port()}/0", ttl_seconds=60)
    before = REGISTRY.get_sample_value("assistant_slot_vault_errors_total", {"operation": "read"}) or 0.0
    vault.put("faults-vault", "form_card_digits@1.0", "123456")
    assert vault.values("faults-vault") == {}
    vault.forget("faults-vault")
    assert REGISTRY.get_sample_value("assistant_slot_vault_errors_total", {"operation": "read"}) == before + 1
    assert REGISTRY.get_sample_value("assistant_slot_vault_errors_total", {"operation": "put"}) >= 1


def test_on_the_phone_when_the_call_centre_is_known_closed_the_caller_hears_the_number_and_no_transfer(
        domain, monkeypatch, tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.contact import ContactDirectory
    from tests.contact_files import configured_contact_file

    monkeypatch.setenv("BOT_CONTACT_CONFIG", str(configured_contact_file(tmp_path)))
    sunday_night = datetime(2026, 12, 6, 3, 0, tzinfo=ZoneInfo("America/Montreal"))
    monkeypatch.setattr(ContactDirectory, "now", lambda self: sunday_night)
    get_settings.cache_clear()
    try:
        [phone] = faults.fallback_messages(domain.responses, "ivr")
        [web] = faults.fallback_messages(domain.responses, "rest")
    finally:
        get_settings.cache_clear()
    assert "custom" not in phone and phone["utter_action"] == "utter_technical_problem"
    assert "450 961-2001" in reply_for([phone])["say"][0] and "**" not in phone["text"]
    assert reply_for([phone])["actions"] == []
    assert "**450 961-2001, poste 4000**" in web["text"]


@pytest.mark.parametrize("channel", ["rest", "ivr"])
async def test_a_conversation_started_blank_is_told_so_once_before_its_first_answer(domain, channel):
    from bot.channels.responses import response_text

    output = CollectingOutputChannel()
    message = UserMessage("bonjour", output, "conv-blank", input_channel=channel)
    with faults.restart_notice(message, lambda: domain.responses):
        faults.conversation_restarted("another-conversation")
        faults.conversation_restarted("conv-blank")  # what the tracker store says when it starts it blank
        await output.send_response("conv-blank", {"text": "Bonjour!"})
        await output.send_response("conv-blank", {"text": "Comment puis-je vous aider?"})
    notice = response_text(domain.responses, faults.CONVERSATION_RESTARTED, "ivr" if channel == "ivr" else None)
    assert [m["text"] for m in output.messages] == [notice, "Bonjour!", "Comment puis-je vous aider?"]
    assert "send_response" not in vars(output)


async def test_a_conversation_read_normally_gets_no_notice(domain):
    output = CollectingOutputChannel()
    with faults.restart_notice(UserMessage("bonjour", output, "conv-known"), lambda: domain.responses):
        faults.conversation_restarted("another-conversation")
        await output.send_response("conv-known", {"text": "Bonjour!"})
    faults.conversation_restarted("conv-known")  # outside a turn: nothing to tell
    assert [m["text"] for m in output.messages] == ["Bonjour!"]

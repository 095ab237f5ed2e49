"""Rasa's calls to the action server on kept-alive connections (bot/action_calls.py), against real local
HTTP servers: the same requests byte for byte, the same events, one connection for many calls, and
timeouts and dropped connections answered as before."""
from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from rasa.core.actions.action import RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import action_calls, deadline, faults, rasa_compat
from bot.settings import PROJECT_ROOT, get_settings

# What the project's card-expiry action answers (the Rasa SDK's JSON), with a response by name and a text.
ANSWER = {
    "events": [
        {"event": "slot", "timestamp": None, "name": "identification_offered", "value": True},
        {"event": "slot", "timestamp": None, "name": "form_card_digits", "value": None},
        {"event": "active_loop", "timestamp": None, "name": None},
    ],
    "responses": [
        {"text": None, "buttons": [], "elements": [], "custom": {}, "template": None,
         "response": "utter_greet", "image": None, "attachment": None},
        {"text": "Sophie : carte valide jusqu'au 31 janvier 2028.", "buttons": [], "elements": [],
         "custom": {}, "template": None, "response": None, "image": None, "attachment": None},
    ],
}


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest_asyncio.fixture(autouse=True)
async def guarded_rasa(monkeypatch) -> AsyncIterator[None]:
    for cls, key in ((RemoteAction, "remote"), (FormAction, "form")):
        monkeypatch.setattr(cls, "run", faults._ORIGINALS.get(key, cls.run))
    assert rasa_compat.apply()
    yield
    await action_calls.close()


@dataclass
class ActionServer:
    """An HTTP/1.1 server that keeps connections alive, as Sanic does, and records what it received."""

    behaviour: str = "answer"  # "answer", "silent" (never answers), "hang_up" (closes after each answer)
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/webhook"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
                self.requests.append(head + await reader.readexactly(length))
                if self.behaviour == "silent":
                    await asyncio.sleep(30)
                body = json.dumps(ANSWER).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                             b"Connection: keep-alive\r\n\r\n%s" % (len(body), body))
                await writer.drain()
                if self.behaviour == "hang_up":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self, port: int = 0) -> ActionServer:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", port)
        return self

    def stop(self) -> None:
        """As when the process dies: no more listening, its connections closed."""
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.close()


@pytest_asyncio.fixture
async def servers() -> AsyncIterator[Any]:
    started: list[ActionServer] = []

    async def start(behaviour: str = "answer") -> ActionServer:
        server = await ActionServer(behaviour).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def conversation(domain: Domain, turns: int = 4) -> DialogueStateTracker:
    events: list[Any] = []
    for turn in range(turns):
        events += [
            ActionExecuted("action_listen"),
            UserUttered(f"c'est quand que ma carte expire {turn}", {"name": "ask_card_expiry", "confidence": 0.99},
                        parse_data={"text": "c'est quand que ma carte expire",
                                    "intent": {"name": "ask_card_expiry", "confidence": 0.99}, "entities": [],
                                    "intent_ranking": [{"name": "ask_card_expiry", "confidence": 0.99}]},
                        input_channel="rest"),
            ActionExecuted("action_card_expiry"),
            BotUttered("Votre carte expire le 31 janvier 2028 é", {}),
            SlotSet("identification_offered", True),
        ]
    return DialogueStateTracker.from_events("calls-test", events, slots=domain.slots)


async def run(domain: Domain, endpoint: EndpointConfig, tracker: DialogueStateTracker | None = None) -> list:
    return await RemoteAction("action_card_expiry", endpoint).run(
        CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses),
        tracker or conversation(domain), domain)


def said(events: list) -> list[str]:
    return [event.text for event in events if isinstance(event, BotUttered)]


async def test_many_calls_share_one_kept_alive_connection_with_the_same_events_as_rasa_s_own(domain, servers):
    ours, rasas = await servers(), await servers()
    endpoint = EndpointConfig(ours.url)
    events = [await run(domain, endpoint) for _ in range(5)]
    own = faults._ORIGINALS["remote"]  # Rasa's own run, its own session per call
    expected = await own(RemoteAction("action_card_expiry", EndpointConfig(rasas.url)), CollectingOutputChannel(),
                         TemplatedNaturalLanguageGenerator(domain.responses), conversation(domain), domain)
    assert all(got == expected for got in events)
    assert said(expected) and SlotSet("identification_offered", True) in expected
    assert len(ours.requests) == 5 and ours.connections == 1
    await run(domain, EndpointConfig(rasas.url))  # Rasa's own: a connection per call
    assert rasas.connections == 2


async def test_the_action_server_receives_the_same_request_byte_for_byte(domain, servers):
    """Rasa's own ``EndpointConfig.request`` and ours, with the same headers (the deadline's included)."""
    tracker = conversation(domain, turns=9)
    body = RemoteAction("action_card_expiry", None)._action_call_format(tracker, domain)
    assert next(reversed(body)) == "domain" and "é" in json.dumps(body, ensure_ascii=False)
    received = []
    sent_deadline = deadline.header_value(60)  # the same header for both
    for pooled in (False, True):
        server = await servers()
        endpoint = EndpointConfig(server.url, headers={"X-City": "1", deadline.HEADER: sent_deadline})
        endpoint = action_calls.pooled(endpoint) if pooled else endpoint
        for _ in range(2):  # the second time with the domain's JSON remembered
            assert await endpoint.request(json=body, method="post", timeout=10, compress=False) == ANSWER
        received.append([re.sub(rb"Host: 127.0.0.1:\d+", b"Host: 127.0.0.1:PORT", r) for r in server.requests])
    assert isinstance(action_calls.pooled(EndpointConfig("http://x")), action_calls.PooledEndpoint)
    assert received[0] == received[1]


def test_the_body_is_json_dumps_with_the_domain_s_json_reused_only_for_the_same_domain(domain):
    body = RemoteAction("action_card_expiry", None)._action_call_format(conversation(domain), domain)
    assert action_calls.encode_body(body) == json.dumps(body).encode()
    other = {**body, "domain": {**body["domain"], "intents": ["greet"]}}  # another model's domain
    assert action_calls.encode_body(other) == json.dumps(other).encode()
    assert action_calls.encode_body(body) == json.dumps(body).encode()
    for odd in ({"domain": {}, "next_action": "x"}, {"domain": {"a": 1}}, [1, {"domain": 2}], {}):
        assert action_calls.encode_body(odd) == json.dumps(odd).encode()


async def test_a_timeout_on_a_kept_alive_connection_still_gives_the_call_centre_then_calls_go_on(
        domain, servers, monkeypatch):
    monkeypatch.setenv("BOT_ACTION_TIMEOUT_SECONDS", "0.5")
    get_settings.cache_clear()
    try:
        server = await servers()
        endpoint = EndpointConfig(server.url)
        assert SlotSet("identification_offered", True) in await run(domain, endpoint)
        server.behaviour = "silent"
        events = await run(domain, endpoint)
        assert events[0].metadata["utter_action"] == "utter_technical_problem"
        server.behaviour = "answer"
        assert SlotSet("identification_offered", True) in await run(domain, endpoint)
        assert server.connections == 2  # the cut connection was dropped, not reused
    finally:
        get_settings.cache_clear()


async def test_connections_the_server_closes_or_a_restarted_server_are_not_reused(domain, servers):
    hanging_up = await servers("hang_up")
    endpoint = EndpointConfig(hanging_up.url)
    for _ in range(3):
        assert SlotSet("identification_offered", True) in await run(domain, endpoint)
        await asyncio.sleep(0.05)  # the server's close reaches the client
    assert hanging_up.connections == 3

    server = await servers()
    endpoint = EndpointConfig(server.url)
    assert SlotSet("identification_offered", True) in await run(domain, endpoint)
    port = int(server.url.split(":")[2].split("/")[0])
    server.stop()  # the action server killed: its kept-alive connection is closed
    await asyncio.sleep(0.05)
    events = await run(domain, endpoint)
    assert events[0].metadata["utter_action"] == "utter_technical_problem"  # down: the call centre
    await server.start(port)  # back
    assert SlotSet("identification_offered", True) in await run(domain, endpoint)
    assert server.connections == 2


async def test_the_session_is_one_per_event_loop_closed_at_server_stop_and_made_again(domain, servers):
    server = await servers()
    await run(domain, EndpointConfig(server.url))
    session = action_calls.shared_session()
    assert action_calls.shared_session() is session
    await action_calls.close()
    assert session.closed
    assert SlotSet("identification_offered", True) in await run(domain, EndpointConfig(server.url))
    assert action_calls.shared_session() is not session


def test_an_endpoint_with_basic_authentication_keeps_rasa_s_session_per_call():
    endpoint = EndpointConfig("http://127.0.0.1:1/webhook", basic_auth={"username": "a", "password": "b"})
    copied = action_calls.pooled(endpoint)
    assert type(copied) is EndpointConfig and copied == endpoint


def action_classes() -> dict[str, type]:
    """Every custom action the action server runs (rasa_sdk registers each concrete ``Action`` subclass)."""
    import importlib
    import inspect
    import pkgutil

    from rasa_sdk import Action

    import actions

    for module in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{module.name}")
    found: dict[str, type] = {}
    pending = list(Action.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.startswith("actions.") and not inspect.isabstract(cls):
            found[cls().name()] = cls
    return found


def test_the_domain_goes_to_the_form_validations_only_which_read_it(domain):
    """`enable_selective_domain`: a form validation without the domain could not find its required slots."""
    from rasa.core.utils import AvailableEndpoints
    from rasa_sdk.forms import FormValidationAction

    endpoint = AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / "endpoints.yml")).action
    classes = action_classes()
    validations = {name for name, cls in classes.items() if issubclass(cls, FormValidationAction)}
    assert validations == {"validate_link_card_form", "validate_identify_form", "validate_email_form"}
    tracker = DialogueStateTracker.from_events("martin", [ActionExecuted("action_listen")], domain.slots)
    for name in classes:
        body = RemoteAction(name, endpoint)._action_call_format(tracker, domain)
        assert ("domain" in body) == (name in validations), name

"""The Redis lock store in two round trips (bot/lock_store.py) behaves as Rasa's `RedisLockStore`.

Every scenario runs on the real Redis of this machine (127.0.0.1:6379, db 12, a key prefix of its
own) with Rasa's store, with ours, and with one of each sharing the lock (two Rasa instances, one on
each store): the trace (who holds the lock when, the stored JSON byte for byte, the errors) must be
the same. The clock that judges the tickets' expiry is frozen and moved by the test.
"""
from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from prometheus_client import REGISTRY
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from bot import health, ops
from bot.lock_store import FINISH, ISSUE, POLL, RedisTicketLockStore
from bot.settings import PROJECT_ROOT

DB = 12
T0 = 1_800_000_000.25  # the frozen clock's start (epoch seconds)
WAIT_LIMIT = 5.0  # seconds: a message still waiting after this is a failure (a broken store would wait forever)
Make = Callable[[], LockStore]


@pytest.fixture(scope="module")
def server() -> redis.Redis:
    client = redis.Redis(host="127.0.0.1", port=6379, db=DB, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    return client


@pytest.fixture
def prefix(server: redis.Redis) -> Iterator[str]:
    name = "locktest" + uuid.uuid4().hex[:10]
    yield name
    for key in server.scan_iter(f"{name}*"):
        server.delete(key)


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """time.time() as both stores read it, frozen at ``clock[0]``."""
    now = [T0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def rasa_store(prefix: str, port: int = 6379, **kwargs: Any) -> RedisLockStore:
    return RedisLockStore(host="127.0.0.1", port=port, db=DB, key_prefix=prefix, **kwargs)


def our_store(prefix: str, port: int = 6379, **kwargs: Any) -> RedisTicketLockStore:
    return RedisTicketLockStore(host="127.0.0.1", port=port, db=DB, key_prefix=prefix, **kwargs)


STORES = {"rasa": rasa_store, "ours": our_store}
PAIRS = [("ours", "ours"), ("rasa", "ours"), ("ours", "rasa")]  # compared with ("rasa", "rasa")


def stored(server: redis.Redis, prefix: str, conversation: str) -> bytes | None:
    return server.get(f"{prefix}:lock:{conversation}")


async def one_message(make_a: Make, make_b: Make, server: redis.Redis, prefix: str, clock: list[float]) -> list:
    trace: list = []
    async with make_a().lock("marie") as held:
        trace += [held.dumps(), stored(server, prefix, "marie")]
    return trace + [stored(server, prefix, "marie"), server.exists(f"{prefix}:lock:marie")]


async def two_messages_in_order(make_a: Make, make_b: Make, server: redis.Redis, prefix: str,
                                clock: list[float]) -> list:
    """The second message of a conversation, on another instance, waits until the first is done."""
    trace: list = []

    async def second() -> None:
        async with make_b().lock("jean", wait_time_in_seconds=0.01) as held:
            trace.append(("second in", held.dumps(), stored(server, prefix, "jean")))
        trace.append(("second out", stored(server, prefix, "jean")))

    async with make_a().lock("jean", wait_time_in_seconds=0.01) as held:
        trace.append(("first in", held.dumps(), stored(server, prefix, "jean")))
        clock[0] += 1
        task = asyncio.create_task(second())
        await asyncio.sleep(0.1)
        clock[0] += 1
        await asyncio.sleep(0.1)
        trace.append(("first still in", stored(server, prefix, "jean")))
    trace.append(("first out", stored(server, prefix, "jean")))
    await asyncio.wait_for(task, WAIT_LIMIT)
    return trace


async def an_expired_ticket_does_not_block(make_a: Make, make_b: Make, server: redis.Redis, prefix: str,
                                           clock: list[float]) -> list:
    """A first message past its ticket's lifetime no longer holds back the second."""
    trace: list = []

    async def second() -> None:
        async with make_b().lock("lise", lock_lifetime=10, wait_time_in_seconds=0.01) as held:
            trace.append(("second in", held.dumps(), stored(server, prefix, "lise")))
        trace.append(("second out", stored(server, prefix, "lise")))

    async with make_a().lock("lise", lock_lifetime=10, wait_time_in_seconds=0.01):
        clock[0] += 1
        task = asyncio.create_task(second())
        await asyncio.sleep(0.1)
        trace.append(("waiting", stored(server, prefix, "lise")))
        clock[0] += 9.5  # the first ticket expired (T0 + 10), not the second (T0 + 11)
        await asyncio.wait_for(task, WAIT_LIMIT)
        trace.append(("first still in", stored(server, prefix, "lise")))
    trace.append(("first out", stored(server, prefix, "lise")))
    # A ticket left behind by a message that never finished (an instance killed): expired, it blocks nobody.
    clock[0] += 100
    make_a().issue_ticket("lise", 10)  # taken by an instance killed before it gave it back
    clock[0] += 11
    async with make_b().lock("lise", lock_lifetime=10, wait_time_in_seconds=0.01) as held:
        trace.append(("after a lost ticket", held.dumps(), stored(server, prefix, "lise")))
    return trace + [("end", stored(server, prefix, "lise"))]


async def a_wait_past_the_ticket_raises(make_a: Make, make_b: Make, server: redis.Redis, prefix: str,
                                        clock: list[float]) -> list:
    """A message whose ticket expired while it waited gets `LockError` once the lock is gone."""
    trace: list = []

    async def second() -> None:
        try:
            async with make_b().lock("paul", lock_lifetime=2, wait_time_in_seconds=0.01):
                trace.append("second in")
        except LockError as error:
            trace.append(("second refused", str(error), stored(server, prefix, "paul")))

    async with make_a().lock("paul", lock_lifetime=10, wait_time_in_seconds=0.01):
        clock[0] += 1
        task = asyncio.create_task(second())
        await asyncio.sleep(0.1)
        clock[0] += 4  # the second ticket expired (T0 + 3), not the first (T0 + 10)
        await asyncio.sleep(0.1)
        trace.append(("first still in", stored(server, prefix, "paul"), task.done()))
    trace.append(("first out", stored(server, prefix, "paul")))
    await asyncio.wait_for(task, WAIT_LIMIT)
    return trace


SCENARIOS = [one_message, two_messages_in_order, an_expired_ticket_does_not_block, a_wait_past_the_ticket_raises]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("pair", PAIRS, ids="-".join)
async def test_each_scenario_runs_as_with_rasas_store(scenario, pair, server, prefix, clock):
    reference = await scenario(lambda: rasa_store(prefix + "r"), lambda: rasa_store(prefix + "r"),
                               server, prefix + "r", clock)
    clock[0] = T0
    make_a, make_b = (lambda: STORES[pair[0]](prefix), lambda: STORES[pair[1]](prefix))
    assert await asyncio.wait_for(scenario(make_a, make_b, server, prefix, clock), 4 * WAIT_LIMIT) == reference


def ticket(number: int, expires: float) -> str:
    """A ticket as Rasa's `Ticket.dumps` writes it, inside the lock's JSON (its quotes escaped)."""
    return '{\\"number\\": ' + f"{number}" + ', \\"expires\\": ' + repr(expires) + "}"


def lock(*tickets: str) -> bytes:
    """Jean's lock as Rasa's `TicketLock.dumps` writes it."""
    return ('{"conversation_id": "jean", "tickets": [' + ", ".join(f'"{t}"' for t in tickets) + "]}").encode()


async def test_the_reference_traces_say_what_rasa_does(server, prefix, clock):
    """What the scenarios hold (so that the comparison above cannot pass on empty traces)."""
    for make in (lambda: rasa_store(prefix), lambda: our_store(prefix)):
        clock[0] = T0
        trace = await two_messages_in_order(make, make, server, prefix, clock)
        assert [step[0] for step in trace] == ["first in", "first still in", "first out", "second in", "second out"]
        assert trace[1][1] == lock(ticket(0, T0 + 60), ticket(1, T0 + 61))
        assert trace[2][1] == lock(ticket(1, T0 + 61))
        assert trace[4][1] is None  # the lock is deleted after its last ticket
        clock[0] = T0
        trace = await a_wait_past_the_ticket_raises(make, make, server, prefix, clock)
        assert trace[0][0] == "first still in" and trace[0][2] is False  # still waiting, its ticket expired
        assert trace[2] == ("second refused", "Could not acquire lock for conversation_id 'paul'.", None)
        clock[0] = T0
        trace = await an_expired_ticket_does_not_block(make, make, server, prefix, clock)
        assert [step[0] for step in trace] == ["waiting", "second in", "second out", "first still in", "first out",
                                               "after a lost ticket", "end"]
        assert ticket(0, T0 + 131.5) in trace[5][1]  # from 0 again: the lost ticket expired
        assert trace[6][1] is None


class CountingRedis:
    """Counts the commands a store's Redis client sends (each is one round trip)."""

    def __init__(self, store: RedisLockStore) -> None:
        self.commands: list[str] = []
        send = store.red.execute_command

        def execute_command(*args: Any, **options: Any) -> Any:
            self.commands.append(str(args[0]))
            return send(*args, **options)

        store.red.execute_command = execute_command  # type: ignore[method-assign]


@pytest.fixture
def scripts_loaded(server: redis.Redis) -> None:
    """The scripts in Redis's cache, as after a store's first message (counts below exclude that load)."""
    for script in (ISSUE, POLL, FINISH):
        server.script_load(script)


@pytest.mark.usefixtures("scripts_loaded")
async def test_a_message_costs_two_round_trips_instead_of_seven(prefix):
    rasa, ours = rasa_store(prefix), our_store(prefix)
    counted = {"rasa": CountingRedis(rasa), "ours": CountingRedis(ours)}
    for store in (rasa, ours):
        async with store.lock("sophie"):
            pass
    assert sorted(counted["rasa"].commands) == ["DEL", "GET", "GET", "GET", "GET", "SET", "SET"]
    assert counted["ours"].commands == ["EVALSHA", "EVALSHA"]


@pytest.mark.usefixtures("scripts_loaded")
async def test_a_waiting_message_polls_with_one_round_trip_instead_of_three(server, prefix):
    rasa, ours, holder = rasa_store(prefix), our_store(prefix), our_store(prefix)

    async def waiter(store: LockStore) -> str:
        async with store.lock("alain", wait_time_in_seconds=0.05) as lock:
            return str(lock.conversation_id)

    for store in (rasa, ours):
        async with holder.lock("alain"):
            counter = CountingRedis(store)
            task = asyncio.create_task(waiter(store))
            await asyncio.sleep(0.28)  # five or six polls
            commands = list(counter.commands)
        assert await asyncio.wait_for(task, WAIT_LIMIT) == "alain"
        polls = commands[1:] if store is ours else commands[3:]  # after taking the ticket (and Rasa's first look)
        per_poll = 1 if store is ours else 3
        assert len(polls) % per_poll == 0 and len(polls) // per_poll >= 4, commands
        assert set(polls) == ({"EVALSHA"} if store is ours else {"GET", "SET"})
    assert not server.exists(f"{prefix}:lock:alain")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_redis_unreachable_raises_the_lock_error_rasa_raises():
    port = closed_port()
    errors = []
    for make in (rasa_store, our_store):
        with pytest.raises(LockError) as raised:
            async with make("unreachable", port=port, socket_timeout=1).lock("marie"):
                raise AssertionError("locked without Redis")
        errors.append(str(raised.value))
    assert errors[0] == errors[1] and errors[0].startswith("Error while acquiring lock. Error:\nError 111")


def test_rasa_builds_it_from_endpoints_yml_as_it_builds_its_own(server):
    config = EndpointConfig(url="127.0.0.1", type="bot.lock_store.RedisTicketLockStore", port=6379, db=DB,
                            key_prefix="terrebonne", socket_timeout=3)
    store = LockStore.create(config)
    rasa = LockStore.create(EndpointConfig(url="127.0.0.1", type="redis", port=6379, db=DB,
                                           key_prefix="terrebonne", socket_timeout=3))
    assert isinstance(store, RedisTicketLockStore) and type(rasa) is RedisLockStore
    assert store.key_prefix == rasa.key_prefix == "terrebonne:lock:"
    assert store.red.connection_pool.connection_kwargs == rasa.red.connection_pool.connection_kwargs
    assert store.red.ping()


def test_the_projects_configurations_use_this_store():
    from bot.tools.bench import redis_lock_store

    assert "type: bot.lock_store.RedisTicketLockStore" in redis_lock_store(5, "bench")
    for path in ("scripts/run.sh", "tests/chaos/test_chaos.py", "docs/production.md"):
        text = (PROJECT_ROOT / path).read_text(encoding="utf-8")
        assert "type: bot.lock_store.RedisTicketLockStore" in text, path
        assert not re.search(r"type: redis(\n|\\n)", text), path


# A private Redis, stopped and started again: the turn fails whole while it is down, goes on after.

def start_redis(port: int) -> subprocess.Popen:
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_timeout=1)
    for _ in range(100):
        try:
            client.ping()
            return process
        except redis.RedisError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("private redis did not start")


def stop_redis(process: subprocess.Popen) -> None:
    process.kill()
    process.wait(10)


class Processor:
    def __init__(self) -> None:
        self.handled: list[str] = []

    async def handle_message(self, message: UserMessage) -> list:
        self.handled.append(message.text or "")
        return []


class LockedAgent:
    """Rasa's `Agent.handle_message` (the lock around the turn) with a processor that records the turn."""

    handle_message = Agent.handle_message
    _several_questions = True  # bot.several_questions: one question per message here, nothing to split

    def __init__(self, lock_store: LockStore) -> None:
        self.lock_store = lock_store
        self.processor = Processor()
        self.domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))

    def is_ready(self) -> bool:
        return True


@pytest.fixture
def private_redis() -> Iterator[tuple[int, list[subprocess.Popen]]]:
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode:
        pytest.skip("no redis-server")
    port = closed_port()
    running = [start_redis(port)]
    yield port, running
    for process in running:
        if process.poll() is None:
            stop_redis(process)


async def test_with_redis_down_the_turn_gets_the_technical_problem_message_and_goes_on_after(private_redis):
    port, running = private_redis
    store = RedisTicketLockStore(host="127.0.0.1", port=port, db=1, key_prefix="run", socket_timeout=1)
    agent = LockedAgent(store)
    ops._meter_agent(agent)

    async def say(text: str) -> list[dict]:
        output = CollectingOutputChannel()
        await agent.handle_message(UserMessage(text, output, "claire", input_channel="rest"))
        return output.messages

    assert await say("Bonjour") == [] and agent.processor.handled == ["Bonjour"]
    assert (await health.check_lock_store(agent, 2)).up
    stop_redis(running.pop())
    errors = REGISTRY.get_sample_value("assistant_turn_errors_total", {"channel": "rest"}) or 0.0
    [message] = await say("Ma carte")
    assert message["text"].startswith("Désolé, un problème technique")
    assert REGISTRY.get_sample_value("assistant_turn_errors_total", {"channel": "rest"}) == errors + 1
    assert agent.processor.handled == ["Bonjour"]
    check = await health.check_lock_store(agent, 2)
    assert not check.up and check.detail == "ConnectionError"
    running.append(start_redis(port))  # an empty Redis: no lock, no script loaded
    assert await say("Ma carte") == [] and agent.processor.handled == ["Bonjour", "Ma carte"]
    assert not redis.Redis(port=port, db=1).exists("run:lock:claire")


async def test_redis_lost_inside_the_lock_raises_on_leaving_as_rasas_store_does(private_redis):
    port, running = private_redis
    errors = []
    for make in (rasa_store, our_store):
        if not running:
            running.append(start_redis(port))
        with pytest.raises(redis.ConnectionError) as raised:
            async with make("lost", port=port, socket_timeout=1).lock("claire"):
                stop_redis(running.pop())
        errors.append(type(raised.value))
    assert errors[0] is errors[1]

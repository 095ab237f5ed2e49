"""Rasa's Redis lock store in two Redis round trips per message instead of seven.

Use it in endpoints.yml as ``type: bot.lock_store.RedisTicketLockStore`` with the same settings as
Rasa's ``type: redis`` (``url``, ``port``, ``db``, ``password``, ``key_prefix``, ...).

Rasa's `RedisLockStore` serialises the messages of one conversation with a ticket lock kept in one
Redis key (``<key_prefix>:lock:<conversation id>``, Rasa's `TicketLock` JSON): a message takes the
next ticket, waits until its ticket is the first one that has not expired, runs, then gives its
ticket back and deletes the key when no ticket is left. Rasa does it with the synchronous client on
the event loop: GET + SET to take a ticket, GET to see whether it is served, GET + SET to give it
back, GET to see whether anyone waits, DEL. Seven round trips, 5.9% of a Rasa instance's CPU under
the bench load (py-spy).

This store keeps the same key, the same stored JSON (byte for byte: an instance running Rasa's own
store reads and writes the same locks) and the same rules, with one Lua script per step, each run
atomically by Redis:

- **take a ticket** (`ISSUE`): drop the expired tickets, append the next number with its expiry,
  save. The ticket is served at once when no live ticket was before it (its number is then 0, as in
  Rasa's numbering);
- **wait** (`POLL`), only when it was not served: every ``wait_time_in_seconds``, as Rasa, drop the
  expired tickets and say whether this ticket is now the first live one; the lock gone (removed by
  another message once every ticket had expired) raises `LockError`, as Rasa's does;
- **give it back** (`FINISH`): drop the expired tickets and this one, save, or delete the key when
  none is left.

Expiry is judged with this process's clock (passed to the script), as Rasa judges it. Errors are
Rasa's: any failure to take a ticket (Redis down, timeout) raises `LockError`; a failure while
waiting or giving the ticket back raises the Redis client's error. Either makes the turn fail whole,
which `bot.ops` answers with the technical-problem message. ``red`` is Rasa's Redis client
(`bot.health` pings it). ``lock`` is copied from Rasa's `LockStore.lock` (`bot.rasa_compat.COPIED_NAMES`).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

# Shared by the scripts. KEYS[1] is the lock's key; ARGV[1] the time now (seconds since the epoch, as
# Python's time.time()). A ticket is kept as Rasa stores it: the JSON text of {"number", "expires"}
# inside the lock's JSON list "tickets"; `encode` writes the lock as Rasa's `TicketLock.dumps` does.
_LUA_COMMON = r"""
local function live_tickets(raw, now)
  local kept, dropped = {}, false
  local tickets = cjson.decode(raw)['tickets']
  if type(tickets) == 'table' then
    for _, text in ipairs(tickets) do
      local ticket = cjson.decode(text)
      if now > ticket['expires'] then
        dropped = true
      else
        kept[#kept + 1] = {text, ticket['number']}
      end
    end
  end
  return kept, dropped
end
local function encode(conversation_json, tickets)
  local texts = {}
  for i, ticket in ipairs(tickets) do
    texts[i] = '"' .. (string.gsub(ticket[1], '[\\"]', '\\%0')) .. '"'
  end
  return '{"conversation_id": ' .. conversation_json .. ', "tickets": [' .. table.concat(texts, ', ') .. ']}'
end
local now = tonumber(ARGV[1])
local raw = redis.call('GET', KEYS[1])
if raw == '' then raw = false end
"""

# ARGV[2]: the new ticket's expiry (Python's repr of the float), ARGV[3]: the conversation id as JSON.
# Returns {the new ticket's number, the number now served}; number 0 is served at once (no live ticket before it).
ISSUE = _LUA_COMMON + r"""
local tickets = {}
if raw then tickets = live_tickets(raw, now) end
local number = 0
if #tickets > 0 then number = tickets[#tickets][2] + 1 end
tickets[#tickets + 1] = {string.format('{"number": %d, "expires": %s}', number, ARGV[2]), number}
redis.call('SET', KEYS[1], encode(ARGV[3], tickets))
return {number, tickets[1][2]}
"""

# ARGV[2]: the ticket's number, ARGV[3]: the conversation id as JSON.
# Returns {0} when the lock is gone, {1, lock's JSON} when the ticket is served, {2, now serving} otherwise.
POLL = _LUA_COMMON + r"""
if not raw then return {0} end
local tickets, dropped = live_tickets(raw, now)
if dropped then
  raw = encode(ARGV[3], tickets)
  redis.call('SET', KEYS[1], raw)
end
local serving = 0
if #tickets > 0 then serving = tickets[1][2] end
if serving == tonumber(ARGV[2]) then return {1, raw} end
return {2, serving}
"""

# ARGV[2]: the ticket's number, ARGV[3]: the conversation id as JSON. Returns 1 when the lock was deleted.
FINISH = _LUA_COMMON + r"""
if not raw then return redis.call('DEL', KEYS[1]) end
local tickets = live_tickets(raw, now)
local number = tonumber(ARGV[2])
for i, ticket in ipairs(tickets) do
  if ticket[2] == number then
    table.remove(tickets, i)
    break
  end
end
if #tickets == 0 then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], encode(ARGV[3], tickets))
return 0
"""

_GONE, _SERVED = 0, 1


class RedisTicketLockStore(RedisLockStore):
    """Rasa's `RedisLockStore` (same key, value and rules) with one atomic script per step."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        """Rasa builds a custom lock store with ``endpoint_config``: read as Rasa reads ``type: redis``."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self.issue_script = self.red.register_script(ISSUE)
        self.poll_script = self.red.register_script(POLL)
        self.finish_script = self.red.register_script(FINISH)

    def take_ticket(self, conversation_id: str, expires: float) -> tuple[int, int]:
        """Issue a ticket expiring at ``expires`` (epoch seconds): its number and the number now served
        (equal, both 0, when it is served at once)."""
        logger.debug("Issuing ticket for conversation '%s'.", conversation_id)
        try:
            number, serving = self.issue_script(keys=[self.key_prefix + conversation_id],
                                                args=[repr(time.time()), repr(float(expires)),
                                                      json.dumps(conversation_id)])
        except Exception as e:  # as Rasa's `issue_ticket`: any failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e
        return int(number), int(serving)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issue a new ticket with ``lock_lifetime`` for the conversation's lock (created if none)."""
        return self.take_ticket(conversation_id, time.time() + lock_lifetime)[0]

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give ticket ``ticket_number`` back; delete the lock when no ticket is left."""
        deleted = self.finish_script(keys=[self.key_prefix + conversation_id],
                                     args=[repr(time.time()), ticket_number, json.dumps(conversation_id)])
        if deleted:
            logger.debug("Deleted lock for conversation '%s'.", conversation_id)

    async def wait_for_ticket(self, conversation_id: str, ticket: int, serving: int,
                              wait_time_in_seconds: float) -> TicketLock:
        """Poll every ``wait_time_in_seconds`` until ``ticket`` is served; `LockError` if the lock is gone."""
        key, conversation_json = self.key_prefix + conversation_id, json.dumps(conversation_id)
        while True:
            logger.debug("Failed to acquire lock for conversation ID '%s' because %s other item(s) for this "
                         "conversation ID have to be finished processing first. Retrying in %s seconds ...",
                         conversation_id, ticket - serving, wait_time_in_seconds)
            await asyncio.sleep(wait_time_in_seconds)
            answer = self.poll_script(keys=[key], args=[repr(time.time()), ticket, conversation_json])
            if answer[0] == _GONE:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if answer[0] == _SERVED:
                logger.debug("Acquired lock for conversation '%s'.", conversation_id)
                return TicketLock.from_dict(json.loads(answer[1]))
            serving = int(answer[1])

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        """Acquire the conversation's lock for ``lock_lifetime`` seconds (Rasa's `LockStore.lock`).

        A ticket not served at once is polled every ``wait_time_in_seconds``; `LockError` when the
        lock is gone before it is served.
        """
        expires = time.time() + lock_lifetime
        ticket, serving = self.take_ticket(conversation_id, expires)
        try:
            if ticket == serving:  # no live ticket before it: the lock is this ticket alone
                logger.debug("Acquired lock for conversation '%s'.", conversation_id)
                yield TicketLock(conversation_id, deque([Ticket(ticket, expires)]))
            else:
                yield await self.wait_for_ticket(conversation_id, ticket, serving, wait_time_in_seconds)
        finally:
            self.cleanup(conversation_id, ticket)

"""The time past which an action's work must not be committed: Rasa has stopped waiting for it.

Rasa gives the action server ``BOT_ACTION_TIMEOUT_SECONDS`` per call (`bot.faults`), then tells the
citizen the request could not be done, with the call centre. The action server keeps running the
action, so without a deadline a slow one (a database waiting on a lock, a request queued behind another
slow action) could still link a card, record a confirmation email or an attempt after the citizen was
told it failed.

Each ``POST /webhook`` of the action server gets a `Deadline` (`bot.action_server`, a request middleware):
the earlier of its arrival plus ``BOT_ACTION_TIMEOUT_SECONDS`` and the moment the Rasa server stops
waiting, which it sends in the `HEADER` (epoch seconds; it also counts the time the request waited
before the action server read it: a worker busy with another action, a stopped process), minus `margin`
(a quarter of the timeout, at most a second: the time to commit and answer). The header compares two
clocks: the machines of the Rasa server and the action server must agree (NTP). `AccountService` refuses
to commit a unit of work past the deadline (`bot.backend.service`): the session rolls back and
``BackendUnavailable(cause="deadline")`` is raised, so the action answers as for a database fault (an
answer nobody reads) and ``assistant_backend_errors_total{kind="deadline"}`` counts it.

How it reaches the code that commits: a context variable. Sanic runs the request middleware and the
handler in one task, and the actions call the backend synchronously in that task, so the backend sees
it. ``asyncio.to_thread`` copies the context to its thread; ``loop.run_in_executor`` does NOT: a backend
call moved to a thread must go through ``asyncio.to_thread``, or its writes are not checked.
"""
from __future__ import annotations

import contextvars
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

HEADER = "X-Assistant-Deadline"
MAX_MARGIN_SECONDS = 1.0
# A header further ahead than this is not a deadline of this call (a wrong clock): ignored.
_MAX_AHEAD_SECONDS = 3600.0


@dataclass
class Deadline:
    """``at`` on the monotonic clock; ``missed`` once a commit was refused past it."""

    at: float
    missed: bool = False

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.remaining() <= 0


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("assistant_deadline", default=None)


def margin(timeout: float) -> float:
    """What is kept back from the timeout for the commit and the answer's way back."""
    return min(MAX_MARGIN_SECONDS, timeout / 4)


def rasa_gives_up_at(header: str | None, now: float | None = None) -> float | None:
    """Seconds from now until the Rasa server stops waiting, from `HEADER` (None: absent or not a time)."""
    try:
        moment = float(header) if header else math.nan
    except ValueError:
        return None
    remaining = moment - (time.time() if now is None else now)
    return remaining if math.isfinite(remaining) and remaining < _MAX_AHEAD_SECONDS else None


def for_call(timeout: float, header: str | None = None) -> Deadline:
    """The deadline of an action call arriving now, with ``timeout`` seconds and Rasa's `HEADER`."""
    budget = timeout
    sent = rasa_gives_up_at(header)
    if sent is not None:
        budget = min(budget, sent)
    return Deadline(time.monotonic() + budget - margin(timeout))


def header_value(timeout: float) -> str:
    """What the Rasa server sends in `HEADER` for a call it waits ``timeout`` seconds for."""
    return f"{time.time() + timeout:.3f}"


def current() -> Deadline | None:
    """The deadline of the action call being handled, if any."""
    return _current.get()


def set_current(deadline: Deadline | None) -> None:
    """Make ``deadline`` the current one for the rest of this task (the request middleware)."""
    _current.set(deadline)


@contextmanager
def within(deadline: Deadline | None) -> Iterator[Deadline | None]:
    """Run a block under ``deadline``, then restore the previous one."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)

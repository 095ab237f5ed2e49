"""The deadline of an action call (bot/deadline.py): from Rasa's timeout and header, and how it reaches the backend."""
from __future__ import annotations

import asyncio
import time

import pytest

from bot import deadline


def test_the_margin_is_a_quarter_of_the_timeout_and_at_most_a_second():
    assert deadline.margin(8) == 1.0
    assert deadline.margin(2) == 0.5


def test_without_rasas_header_the_deadline_runs_from_the_arrival():
    assert 6.9 < deadline.for_call(8).remaining() <= 7.0


def test_rasas_header_wins_when_it_is_earlier():
    """A request read 5 s after Rasa sent it has 3 s left, not 8 (then the margin)."""
    late = deadline.for_call(8, f"{time.time() + 3:.3f}")
    assert 1.9 < late.remaining() < 2.01  # the header has milliseconds
    gone = deadline.for_call(8, f"{time.time() - 1:.3f}")
    assert gone.passed()
    later = deadline.for_call(8, f"{time.time() + 30:.3f}")  # never later than the action server's own
    assert later.remaining() <= 7.0


@pytest.mark.parametrize("header", ["", "soon", "nan", "inf", "-inf", f"{time.time() + 86_400:.0f}"])
def test_a_header_that_is_not_a_deadline_of_this_call_is_ignored(header):
    assert 6.9 < deadline.for_call(8, header).remaining() <= 7.0


def test_the_header_says_when_rasa_stops_waiting():
    assert abs(float(deadline.header_value(8)) - (time.time() + 8)) < 0.1


async def test_the_deadline_reaches_a_thread_through_to_thread_not_run_in_executor():
    """Why the actions call the backend in their own task (or asyncio.to_thread), never run_in_executor."""
    with deadline.within(deadline.Deadline(time.monotonic() + 5)) as current:
        assert await asyncio.to_thread(deadline.current) is current
        assert await asyncio.get_running_loop().run_in_executor(None, deadline.current) is None
    assert deadline.current() is None

"""The registration-night load of `make bench` against a small real HTTP server that slows down past a rate.

The server answers every turn of the citizen script with the phrase the bench expects, and takes
0.5 s per message once more than 30 messages arrived in the last second: the load must step up,
stop at the first step whose p95 passes 300 ms, and call the step before it the capacity. A server
that forgets Marie's expiry is an error at the first step.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque

from aiohttp import web

from bot.tools.bench import CITIZEN_SCRIPT, LoadSettings, RegistrationNight, compare


def make_app(slow_above_per_second: float, forget_expiry: bool = False) -> web.Application:
    arrivals: deque[float] = deque()
    answers = {turn.text: turn.expect or "D'accord." for turn in CITIZEN_SCRIPT}

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        now = time.monotonic()
        arrivals.append(now)
        while arrivals and arrivals[0] < now - 1:
            arrivals.popleft()
        await asyncio.sleep(0.5 if len(arrivals) > slow_above_per_second else 0.005)
        text = answers[body["message"]]
        if forget_expiry and "Marie" in text:
            text = "Je ne trouve pas votre dossier."
        return web.json_response([{"recipient_id": body["sender"], "text": text}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - aiohttp gives no public accessor
    return runner, f"http://127.0.0.1:{port}"


SETTINGS = LoadSettings(rates=[10, 20, 120, 200], step_seconds=2.0, think_seconds=(0.01, 0.05),
                        min_conversations=0, max_seconds=30, profile_rounds=0)


async def test_steps_up_until_the_p95_passes_300_ms_and_reports_the_step_before():
    runner, url = await serve(make_app(slow_above_per_second=30))
    try:
        result = await RegistrationNight(url, SETTINGS).run()
    finally:
        await runner.cleanup()
    steps = [step["step"] for step in result["steps"]]
    assert steps == ["10/s", "20/s", "120/s"], "stopped at the first step over 300 ms, never ran 200/s"
    assert result["steps"][-1]["latency_ms"]["p95"] > 300
    assert result["capacity_step"] == "20/s"
    assert 8 <= result["capacity_per_s"] <= 25
    assert result["errors"] == 0
    assert result["conversations_started"] > 0
    assert 0 <= result["generator_cpu_share_of_one_core"] < 1


async def test_a_reply_without_the_expected_phrase_is_an_error_and_no_capacity():
    runner, url = await serve(make_app(slow_above_per_second=1000, forget_expiry=True))
    try:
        result = await RegistrationNight(url, SETTINGS).run()
    finally:
        await runner.cleanup()
    assert len(result["steps"]) == 1
    assert result["steps"][0]["error_kinds"] == {"unexpected reply at turn 7": result["errors"]}
    assert result["errors"] > 0
    assert result["capacity_per_s"] == 0.0


def test_a_stock_set_up_that_misses_its_first_step_gives_a_lower_bound_of_the_ratio_not_nothing():
    ours = {"capacity_per_s": 86.4, "training_s": 77, "rss_mb_total": 1841.0, "rss_mb": {"rasa1": 836.0, "rasa2": 839.0}}
    stock = {"capacity_per_s": 0.0, "training_s": 1065, "rss_mb_total": 1699.0, "rss_mb": {"rasa": 1560.0},
             "steps": [{"achieved_per_s": 2.0}]}
    ratios = compare(ours, stock)
    assert ratios["capacity_ours_over_stock"] is None
    assert ratios["capacity_ours_over_stock_at_least"] == 43.2
    held = compare(ours, {**stock, "capacity_per_s": 3.5})
    assert held["capacity_ours_over_stock"] == 24.69 and held["capacity_ours_over_stock_at_least"] is None

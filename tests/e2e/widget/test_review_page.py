"""The review inbox page in the real Chromium: staff token, groups with counts, decisions by keyboard, axe-clean."""
from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser, expect
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.settings import get_settings
from bot.tracker_store import InMemorySlotVault, RedactingSQLTrackerStore
from bot.widget.serve import make_server, start_in_thread
from tests.e2e.widget.test_widget_access import _axe

STAFF_TOKEN = "jeton-du-personnel-de-test"
MESSAGES = [("c'est où le pickleball?", "nlu_fallback"), ("C'est où le pickleball", "nlu_fallback"),
            ("cest ou le pickleball", "nlu_fallback"), ("inscription piscine pour mon gars", "nlu_fallback")]


@pytest.fixture
def review_server(tmp_path, monkeypatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = RedactingSQLTrackerStore(domain=Domain.empty(), host=url, slot_vault=InMemorySlotVault(ttl_seconds=60))
    for number, (text, intent) in enumerate(MESSAGES):
        events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                  UserUttered(text, {"name": intent, "confidence": 0.3}, input_channel="rest")]
        tracker = DialogueStateTracker.from_events(f"citizen-{number}", events)
        with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
            pool.submit(asyncio.run, store.save(tracker)).result()
    store.engine.dispose()
    monkeypatch.setenv("BOT_TRACKER_STORE_URL", url)
    monkeypatch.setattr("bot.settings.VAR_DIR", tmp_path / "var")  # read once at import from BOT_VAR_DIR
    monkeypatch.setenv("BOT_STAFF_TOKEN", STAFF_TOKEN)
    get_settings.cache_clear()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    server = make_server(port=0, rasa_url=f"http://127.0.0.1:{closed}")
    start_in_thread(server)
    yield server.url
    server.shutdown()
    server.server_close()
    get_settings.cache_clear()


def test_staff_review_the_inbox_by_keyboard(browser: Browser, review_server: str, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-CA")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(review_server + "review")
    page.get_by_label("Jeton du personnel").fill("mauvais")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Jeton du personnel refusé.")

    page.get_by_label("Jeton du personnel").fill(STAFF_TOKEN)
    page.get_by_role("button", name="Ouvrir la boîte").click()
    groups = page.locator("#groups > li")
    expect(page.get_by_role("status")).to_have_text("2 groupe(s) à réviser.")
    expect(groups).to_have_count(2)
    expect(page.get_by_role("heading", name="3 × « c'est où le pickleball? »")).to_be_visible()
    expect(page.get_by_role("heading", name="1 × « inscription piscine pour mon gars »")).to_be_visible()
    blocking = [v for v in _axe(page) if v["impact"] in ("serious", "critical")]
    assert not blocking, blocking

    first = groups.first
    select = first.get_by_label("Intention")
    select.focus()
    select.select_option("ask_in_person")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Décision enregistrée pour « c'est où le pickleball? »")
    expect(groups).to_have_count(1)
    page.get_by_role("button", name="Hors sujet").click()
    expect(page.get_by_role("status")).to_contain_text("hors sujet")
    expect(page.get_by_text("Rien à réviser pour le moment.")).to_be_visible()

    decisions = json.loads((tmp_path / "var" / "review.json").read_text(encoding="utf-8"))
    assert sorted((d["intent"], len(d["examples"])) for d in decisions.values()) == [
        ("ask_in_person", 3), ("out_of_scope", 1)]
    page.reload()
    expect(page.get_by_text("Rien à réviser pour le moment.")).to_be_visible()  # the token kept for the tab
    context.close()
    assert not errors, errors

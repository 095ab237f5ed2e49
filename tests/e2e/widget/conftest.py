"""Browser fixtures of the widget tests: the widget's server, Debian's headless Chromium, a page driver."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from bot.settings import get_settings
from bot.widget.serve import WidgetServer, make_server, start_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
REPLY_TIMEOUT_MS = 20_000

# Lines printed at the end of the run: where the screenshots are, how long the widget takes.
REPORT: list[str] = []


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/widget/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("widget")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def report() -> list[str]:
    return REPORT


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    path = get_settings().var_dir / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def widget_server(rasa_server) -> Iterator[WidgetServer]:
    """The demo page and the widget, served on a free port, talking to the session's Rasa server."""
    server = make_server(
        port=0, rasa_url=rasa_server.url, api_token=rasa_server.api_token, demo_login=True,
        database_url=rasa_server.env["BOT_DATABASE_URL"],
    )
    start_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_browser.sh (make browser)")
    expect.set_options(timeout=REPLY_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class WidgetDriver:
    """What a citizen does with the widget on the demo page, in the words of the page."""

    def __init__(self, page: Page, base_url: str, rasa_url: str):
        self.page = page
        self.base_url = base_url
        self.rasa_url = rasa_url
        self.host = page.locator("#terrebonne-assistant")
        self.launcher = page.get_by_role("button", name="Clavarder avec l'assistant")
        self.panel = page.get_by_role("dialog", name="Assistant des inscriptions en ligne")
        self.input = page.get_by_label("Votre message")
        self.send_button = page.get_by_role("button", name="Envoyer")
        self.log = page.get_by_role("log")
        self.status = page.locator("#terrebonne-assistant .status")
        self.bot_messages = page.locator("#terrebonne-assistant .msg--bot:not(.msg--welcome)")
        self.user_messages = page.locator("#terrebonne-assistant .msg--user")
        self.suggestions = page.get_by_role("group", name="Réponses suggérées")

    def configure(self, **config) -> None:
        """Widget options set by the page before the widget loads (they win over the demo's)."""
        self.page.add_init_script(f"window.TerrebonneAssistantConfig = {json.dumps(config)};")

    def goto(self) -> None:
        self.page.goto(self.base_url)
        expect(self.launcher).to_be_visible()

    def open(self) -> None:
        """Open the panel and wait until it is connected."""
        self.launcher.click()
        expect(self.panel).to_be_visible()
        self.expect_connected()

    def expect_connected(self) -> None:
        expect(self.host).to_have_attribute("data-transport", re.compile(r"^(socket|rest)$"))

    def say(self, text: str) -> None:
        self.input.fill(text)
        self.send_button.click()

    def reply(self, text: str) -> Locator:
        """The newest bot message that contains this text, once it has arrived."""
        message = self.bot_messages.filter(has_text=text).last
        expect(message).to_be_visible()
        return message


@pytest.fixture
def widget(browser: Browser, widget_server: WidgetServer) -> Iterator[WidgetDriver]:
    """A fresh browser profile at desktop size on the demo page; fails on any JavaScript error."""
    context = browser.new_context(viewport=DESKTOP, locale="fr-CA")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield WidgetDriver(page, widget_server.url, widget_server.rasa_url)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"



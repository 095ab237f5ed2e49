"""The widget on the demo page, in a real Chromium, against the real Rasa and action servers."""
from __future__ import annotations

import re
import socket
import statistics

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, update

from bot.backend.db import make_engine
from bot.backend.factory import get_backend
from bot.backend.models import Account, Attempt

GREETING = "assistant virtuel des inscriptions en ligne"
PASSWORD_RULES = "un minimum de huit (8) lettres incluant une majuscule"
PASSWORD_REJECTED = "Si le site refuse votre mot de passe"
LINKED = "Votre dossier est maintenant lié à votre dossier à la Ville"

# Time from the click on "Envoyer" to the first reply on screen, measured in the page.
SEND_AND_TIME_REPLY = """async (text) => {
  const root = document.querySelector("#terrebonne-assistant").shadowRoot;
  const log = root.querySelector(".log");
  const before = log.querySelectorAll(".msg--bot").length;
  root.querySelector("input").value = text;
  const replied = new Promise((resolve) => {
    new MutationObserver((_, observer) => {
      if (log.querySelectorAll(".msg--bot").length > before) { observer.disconnect(); resolve(); }
    }).observe(log, { childList: true });
  });
  const start = performance.now();
  root.querySelector("button[type=submit]").click();
  await replied;
  return performance.now() - start;
}"""


def test_greet_ask_the_password_rules_and_pick_a_button(widget):
    widget.goto()
    widget.open()
    expect(widget.host).to_have_attribute("data-transport", "socket")

    widget.say("Bonjour")
    widget.reply(GREETING)
    expect(widget.suggestions.get_by_role("button", name="Créer un compte")).to_be_visible()

    widget.say("Quelles sont les règles pour le mot de passe?")
    rules = widget.reply(PASSWORD_RULES)
    expect(rules.locator("li")).to_have_count(3)
    expect(widget.suggestions.get_by_role("button")).to_have_count(2)

    widget.suggestions.get_by_role("button", name="Le site refuse mon mot de passe").click()
    expect(widget.user_messages.last).to_contain_text("Le site refuse mon mot de passe")
    widget.reply(PASSWORD_REJECTED)
    expect(widget.user_messages.filter(has_text="/password_rejected")).to_have_count(0)


def test_bold_and_links_that_open_in_a_new_tab(widget):
    widget.goto()
    widget.open()
    widget.say("Comment créer un compte?")
    reply = widget.reply("Pour créer votre compte")
    expect(reply.locator("strong", has_text="Créer un compte")).to_be_visible()
    portal = reply.get_by_role("link", name=re.compile("portail des inscriptions en ligne"))
    expect(portal).to_have_attribute("href", re.compile(r"^https://inscriptions\.ville\.terrebonne\.qc\.ca/"))
    expect(portal).to_have_attribute("target", "_blank")
    expect(portal).to_have_attribute("rel", "noopener noreferrer")
    expect(portal).to_contain_text("s'ouvre dans un nouvel onglet")


def test_the_conversation_survives_a_reload_and_a_new_tab_and_restarts_afresh(widget):
    widget.goto()
    widget.open()
    widget.say("Bonjour")
    widget.reply(GREETING)
    widget.say("Quelles sont les règles pour le mot de passe?")
    widget.reply(PASSWORD_RULES)
    session = widget.host.get_attribute("data-session")

    widget.page.reload()
    expect(widget.panel).to_be_visible()
    widget.reply(PASSWORD_RULES)
    expect(widget.user_messages).to_have_count(2)
    expect(widget.host).to_have_attribute("data-session", session)

    # A new tab has no sessionStorage: the history it shows comes from the server.
    other = widget.page.context.new_page()
    other.goto(widget.base_url)
    other.get_by_role("button", name="Clavarder avec l'assistant").click()
    expect(other.locator("#terrebonne-assistant .msg--bot", has_text=PASSWORD_RULES)).to_be_visible()
    expect(other.locator("#terrebonne-assistant .msg--user", has_text="Bonjour")).to_be_visible()
    other.close()

    widget.page.get_by_role("button", name="Recommencer une nouvelle conversation").click()
    expect(widget.status).to_contain_text("Nouvelle conversation commencée.")
    expect(widget.bot_messages).to_have_count(0)
    expect(widget.user_messages).to_have_count(0)
    expect(widget.host).not_to_have_attribute("data-session", session)
    expect(widget.input).to_be_focused()
    widget.expect_connected()
    widget.say("Bonjour")
    widget.reply(GREETING)


@pytest.fixture
def marie_not_linked(rasa_server):
    """Marie's online account, not yet linked to her city file (other tests of the session link it)."""
    backend = get_backend(rasa_server.env["BOT_DATABASE_URL"])
    marie = backend.account_status("marie.tremblay@example.com").account_id
    engine = make_engine(rasa_server.env["BOT_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(update(Account).where(Account.id == marie).values(citizen_file_id=None))
        connection.execute(delete(Attempt).where(Attempt.account_id == marie))
    engine.dispose()
    assert not backend.account_status("marie.tremblay@example.com").linked
    return backend


def test_marie_logged_in_on_the_portal_links_her_card(widget, marie_not_linked):
    widget.goto()
    widget.page.get_by_role("button", name="Se connecter en tant que Marie Tremblay (démo)").click()
    expect(widget.page.get_by_text("Vous êtes connectée en tant que Marie Tremblay (démo).")).to_be_visible()
    widget.open()
    widget.say("Je veux lier ma Carte Accès Terrebonne")
    widget.reply("Quels sont les six (6) derniers chiffres de votre Carte Accès Terrebonne?")
    widget.say("123456")
    widget.reply("Maintenant, au choix : votre date de naissance")
    widget.say("12 mars 1985")
    linked = widget.bot_messages.filter(has_text=LINKED).last
    expect(linked.locator("strong", has_text=LINKED)).to_be_visible()
    expect(linked).not_to_contain_text("Activer mon profil")
    assert marie_not_linked.account_status("marie.tremblay@example.com").linked

    widget.page.get_by_role("button", name="Mode anonyme").click()
    widget.launcher.click()
    expect(widget.bot_messages).to_have_count(0)  # someone else on this computer sees nothing of Marie's


def test_rest_is_used_where_sockets_are_blocked(widget):
    widget.page.route(re.compile(r"/socket\.io/"), lambda route: route.abort())
    widget.page.route_web_socket(re.compile(r"/socket\.io/"), lambda ws: ws.close())
    widget.goto()
    widget.open()
    expect(widget.host).to_have_attribute("data-transport", "rest")
    widget.say("Bonjour")
    widget.reply(GREETING)
    widget.suggestions.get_by_role("button", name="Créer un compte").click()
    widget.reply("Pour créer votre compte")


def test_server_down_messages_wait_and_leave_when_it_is_back(widget):
    down = True
    widget.configure(transport="rest")

    def rasa(route):
        if down:
            route.abort("connectionrefused")
        else:
            route.continue_()

    widget.page.route(re.compile("^" + re.escape(widget.rasa_url) + "/"), rasa)
    widget.goto()
    widget.launcher.click()
    expect(widget.status).to_contain_text("momentanément indisponible")
    retry = widget.page.get_by_role("button", name="Réessayer")
    expect(retry).to_be_visible()

    widget.say("Bonjour")
    expect(widget.user_messages.last).to_contain_text("En attente d'envoi")
    expect(widget.input).to_be_editable()

    widget.page.reload()
    expect(widget.user_messages.last).to_contain_text("En attente d'envoi")

    down = False
    widget.page.get_by_role("button", name="Réessayer").click()
    widget.reply(GREETING)
    expect(widget.user_messages.last).not_to_contain_text("En attente d'envoi")
    expect(widget.page.get_by_role("button", name="Réessayer")).to_be_hidden()


def test_a_socket_to_a_stopped_server_says_so_and_keeps_what_is_typed(widget):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        stopped = sock.getsockname()[1]
    widget.configure(serverUrl=f"http://127.0.0.1:{stopped}", transport="socket")
    widget.goto()
    widget.launcher.click()
    expect(widget.status).to_contain_text("momentanément indisponible")
    widget.say("Bonjour")
    expect(widget.user_messages.last).to_contain_text("En attente d'envoi")
    expect(widget.input).to_be_focused()


def test_a_slow_server_gets_a_message_and_a_retry(widget):
    held = []
    widget.configure(transport="rest", slowAfterMs=300)
    widget.page.route(re.compile(r"/webhooks/rest/webhook$"), lambda route: held.append(route))
    widget.goto()
    widget.open()
    widget.say("Bonjour")
    expect(widget.status).to_contain_text("La réponse prend plus de temps que d'habitude")
    expect(widget.page.get_by_role("button", name="Réessayer")).to_be_visible()
    expect(widget.input).to_be_editable()
    held[0].continue_()
    widget.reply(GREETING)
    expect(widget.status).not_to_contain_text("plus de temps")


def test_time_from_click_to_first_reply(widget, report):
    widget.goto()
    start = widget.page.evaluate("performance.now()")
    widget.launcher.click()
    widget.expect_connected()
    ready_ms = widget.page.evaluate("performance.now()") - start
    first = widget.page.evaluate(SEND_AND_TIME_REPLY, "Bonjour")
    then = [widget.page.evaluate(SEND_AND_TIME_REPLY, "Bonjour") for _ in range(5)]
    report.append(
        f"widget timing (socket.io): open and connect {ready_ms:.0f} ms; click on Envoyer to first reply "
        f"{first:.0f} ms the first time, median {statistics.median(then):.0f} ms over the next {len(then)}"
    )
    assert first < 5_000

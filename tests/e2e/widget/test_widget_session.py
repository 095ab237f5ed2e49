"""A shared computer: what the widget's identified citizen is told stays theirs, and "Terminer la session" ends it."""
from __future__ import annotations

import requests
from playwright.sync_api import expect

from bot.session import PERSONAL_ANSWER_PLACEHOLDER

AMOUNT = "Marie : 45,00 $"
ACTIVITY = "Soccer U12"


def rest(rasa_url: str, sender: str, text: str, metadata: dict | None = None) -> str:
    body = {"sender": sender, "message": text, "metadata": metadata or {}}
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json=body, timeout=30)
    response.raise_for_status()
    return "\n".join(m.get("text", "") for m in response.json())


def stored_session(widget) -> dict:
    return widget.page.evaluate("JSON.parse(localStorage.getItem('terrebonne-assistant:session'))")


def test_an_identification_serves_this_browser_only_and_ends_with_the_session(widget):
    widget.goto()
    widget.open()
    widget.say("Combien je dois?")
    widget.reply("Voulez-vous vous identifier?")
    widget.say("oui")
    widget.reply("six (6) derniers chiffres")
    widget.say("123456")
    widget.reply("date de naissance")
    widget.say("12 mars 1985")
    widget.reply(AMOUNT)
    widget.say("À quelles activités je suis inscrite?")
    widget.reply(ACTIVITY)  # a later turn: the browser's key keeps the identification
    session = stored_session(widget)
    assert session["key"].startswith("v1." + session["id"] + ".")

    # Another client that learned the conversation id gets no key for it, and with no key or with the key
    # of a conversation of its own, gets nothing.
    assert requests.post(widget.base_url + "session", json={"sessionId": session["id"]}, timeout=5).status_code == 403
    own_key = requests.post(widget.base_url + "session", json={}, timeout=5).json()["key"]
    for metadata in (None, {"client_session": own_key}):
        reply = rest(widget.rasa_url, session["id"], "À quelles activités je suis inscrite?", metadata)
        assert ACTIVITY not in reply and "Marie" not in reply
        # The identification is offered; asked again while the offer waits, it starts (issue 14).
        assert "Voulez-vous vous identifier?" in reply or "six (6) derniers chiffres" in reply
    assert requests.get(widget.base_url + f"history/{session['id']}", timeout=5).status_code == 403

    # The history replays what the assistant said about Marie only as a placeholder.
    widget.page.reload()
    expect(widget.panel).to_be_visible()
    widget.reply(PERSONAL_ANSWER_PLACEHOLDER)
    expect(widget.log).not_to_contain_text("45,00")
    expect(widget.log).not_to_contain_text(ACTIVITY)

    widget.page.get_by_role("button", name="Terminer la session : effacer la conversation et votre identification").click()
    expect(widget.status).to_contain_text("Session terminée.")
    expect(widget.bot_messages).to_have_count(0)
    expect(widget.host).not_to_have_attribute("data-session", session["id"])
    widget.expect_connected()

    # Even the old key of the ended conversation gets nothing now.
    reply = rest(widget.rasa_url, session["id"], "Combien je dois?", {"client_session": session["key"]})
    assert AMOUNT not in reply and "45,00" not in reply

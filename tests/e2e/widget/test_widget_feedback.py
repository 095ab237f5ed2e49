""""Est-ce que cela vous a aidé?" in the widget: by keyboard, named for screen readers, axe-clean, stored, reported."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from bot.analytics.figures import build_report
from bot.analytics.store import iter_sessions
from tests.e2e.widget.test_widget_access import RUN_AXE, _axe, _expect_visible_focus, _tab_to

PASSWORD_RULES = "un minimum de huit (8) lettres incluant une majuscule"
CREATE_ACCOUNT = "Pour créer votre compte"
TZ = ZoneInfo("America/Montreal")
QUESTION = "Est-ce que cela vous a aidé?"
WHY = "Qu'est-ce qui n'a pas fonctionné?"
THANKS = "Merci de votre réponse."
QUIET_MS = 2_500  # the widget asks its server 0.8 s after the last reply; a question would be there by then


def _focused_text(page) -> str:
    return page.evaluate("""() => {
      let element = document.activeElement;
      while (element && element.shadowRoot && element.shadowRoot.activeElement) {
        element = element.shadowRoot.activeElement;
      }
      return element.textContent || element.getAttribute("aria-label") || element.id;
    }""")


def _stored(rasa_server, session_id: str) -> list[tuple[str, object]]:
    events = rasa_server.tracker(session_id)["events"]
    return [(e["name"], e["value"]) for e in events if e["event"] == "slot" and e["name"].startswith("feedback")]


def test_a_non_with_its_reason_by_keyboard_alone_is_stored_and_reported(widget, rasa_server):
    page = widget.page
    widget.goto()
    widget.open()
    widget.say("Quelles sont les règles pour le mot de passe?")
    widget.reply(PASSWORD_RULES)
    group = page.get_by_role("group", name=QUESTION)
    expect(group).to_be_visible()
    expect(group.get_by_role("button")).to_have_count(2)
    blocking = [v for v in _axe(page) if v["impact"] in ("serious", "critical")]
    assert not blocking, blocking

    _tab_to(page, group.get_by_role("button", name="Non"))
    _expect_visible_focus(page)
    page.keyboard.press("Enter")
    reasons = page.get_by_role("group", name=WHY)
    expect(reasons.get_by_role("button")).to_have_count(3)
    assert _focused_text(page) == "Pas la bonne réponse", "focus moves to the first reason"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert _focused_text(page) == "Je dois quand même appeler"
    page.keyboard.press("Enter")
    expect(widget.log.get_by_text(THANKS)).to_be_visible()
    expect(widget.input).to_be_focused()
    assert not [v for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")]

    session_id = widget.host.get_attribute("data-session")
    assert _stored(rasa_server, session_id) == [
        ("feedback_asked", "ask_password_rules"),
        ("feedback", {"helpful": "non", "topic": "ask_password_rules"}),
        ("feedback_reason", "still_need_call"),
    ]
    report = build_report(iter_sessions(f"sqlite:///{rasa_server.tracker_db}", sender_prefix=session_id), TZ)
    assert [(r.topic, r.helpful, r.reason) for r in report.feedback] == [
        ("ask_password_rules", False, "still_need_call")]
    assert report.still_need_call_rate == 1.0


def test_never_twice_in_a_row_and_a_oui_by_click(widget, rasa_server):
    page = widget.page
    widget.goto()
    widget.open()
    widget.say("Quelles sont les règles pour le mot de passe?")
    widget.reply(PASSWORD_RULES)
    expect(page.get_by_role("group", name=QUESTION)).to_be_visible()
    widget.say("Comment créer un compte?")
    widget.reply(CREATE_ACCOUNT)
    page.wait_for_timeout(QUIET_MS)
    expect(page.get_by_role("group", name=QUESTION)).to_have_count(0)  # the answer just before was asked about
    widget.say("j'ai oublié mon mot de passe")
    widget.reply("Mot de passe oublié ?")
    group = page.get_by_role("group", name=QUESTION)
    expect(group).to_be_visible()
    group.get_by_role("button", name="Oui").click()
    expect(widget.log.get_by_text(THANKS)).to_be_visible()
    stored = _stored(rasa_server, widget.host.get_attribute("data-session"))
    assert stored == [("feedback_asked", "ask_password_rules"), ("feedback_asked", "forgot_password"),
                      ("feedback", {"helpful": "oui", "topic": "forgot_password"})]


def test_never_after_a_handoff(widget, rasa_server):
    page = widget.page
    widget.goto()
    widget.open()
    widget.say("je veux parler à un agent")
    expect(widget.bot_messages.last).to_be_visible()
    widget.say("Quelles sont les règles pour le mot de passe?")
    widget.reply(PASSWORD_RULES)
    page.wait_for_timeout(QUIET_MS)
    expect(page.get_by_role("group", name=QUESTION)).to_have_count(0)
    assert _stored(rasa_server, widget.host.get_attribute("data-session")) == []

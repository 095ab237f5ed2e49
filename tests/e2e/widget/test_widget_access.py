"""The widget is usable with the keyboard alone, passes axe-core, and fits a phone and 200 % zoom."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from bot.settings import PROJECT_ROOT

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}

GREETING = "assistant virtuel des inscriptions en ligne"
PASSWORD_RULES = "un minimum de huit (8) lettres incluant une majuscule"
ZOOM_200 = {"width": DESKTOP["width"] // 2, "height": DESKTOP["height"] // 2}

FOCUS_RING = """() => {
  let element = document.activeElement;
  while (element && element.shadowRoot && element.shadowRoot.activeElement) {
    element = element.shadowRoot.activeElement;
  }
  const style = getComputedStyle(element);
  return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
}"""

RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""

FITS = """() => {
  const root = document.querySelector("#terrebonne-assistant").shadowRoot;
  const inside = (selector) => {
    const box = root.querySelector(selector).getBoundingClientRect();
    return box.left >= 0 && box.top >= 0 && box.right <= innerWidth && box.bottom <= innerHeight && box.width > 0;
  };
  const log = root.querySelector(".log");
  return {
    panel: inside(".panel"), input: inside(".form__input"), send: inside(".form__send"),
    close: inside(".header__button--close"), noSideScroll: log.scrollWidth <= log.clientWidth,
    pageSideScroll: document.documentElement.scrollWidth > innerWidth,
  };
}"""


def _tab_to(page: Page, target, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("(el) => el.getRootNode().activeElement === el"):
            return
    raise AssertionError("the element cannot be reached with Tab")


def _expect_visible_focus(page: Page) -> None:
    ring = page.evaluate(FOCUS_RING)
    assert ring["style"] != "none" and ring["width"] >= 2, ring


def test_keyboard_only_open_type_send_pick_a_button_close(widget):
    page = widget.page
    widget.goto()
    _tab_to(page, widget.launcher)
    _expect_visible_focus(page)
    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    expect(widget.input).to_be_focused()
    widget.expect_connected()

    page.keyboard.type("Bonjour")
    page.keyboard.press("Enter")
    widget.reply(GREETING)
    expect(widget.input).to_be_focused()

    buttons = widget.suggestions.get_by_role("button")
    page.keyboard.press("Shift+Tab")
    expect(buttons.last).to_be_focused()
    _expect_visible_focus(page)
    for _ in range(buttons.count() - 1):
        page.keyboard.press("Shift+Tab")
    expect(buttons.first).to_have_text("Créer un compte")
    expect(buttons.first).to_be_focused()
    page.keyboard.press("Enter")
    widget.reply("Pour créer votre compte")
    expect(widget.user_messages.last).to_contain_text("Créer un compte")

    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_be_focused()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")
    expect(widget.input).to_be_focused()
    expect(widget.bot_messages.filter(has_text="Pour créer votre compte")).to_have_count(1)
    _tab_to(page, page.get_by_role("button", name="Fermer l'assistant"))
    page.keyboard.press("Enter")
    expect(widget.panel).to_be_hidden()


def test_the_widget_has_labels_and_a_live_region(widget):
    widget.goto()
    widget.open()
    expect(widget.log).to_have_attribute("aria-live", "polite")
    expect(widget.page.get_by_role("status")).to_have_count(2)  # the widget's and the demo portal's
    expect(widget.input).to_have_attribute("type", "text")
    expect(widget.page.get_by_role("button", name="Recommencer une nouvelle conversation")).to_be_visible()
    widget.say("Bonjour")
    reply = widget.reply(GREETING)
    expect(reply).to_contain_text("L'assistant :")
    expect(widget.user_messages.last).to_contain_text("Vous :")


def _axe(page: Page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE)


def test_axe_core_finds_no_serious_or_critical_violation(widget, report):
    page = widget.page
    widget.goto()
    states = {"closed": _axe(page)}
    widget.open()
    widget.say("Bonjour")
    widget.reply(GREETING)
    widget.say("Quelles sont les règles pour le mot de passe?")
    widget.reply(PASSWORD_RULES)
    states["conversation"] = _axe(page)
    page.set_viewport_size(PHONE)
    states["phone"] = _axe(page)

    blocking = {
        state: [v for v in violations if v["impact"] in ("serious", "critical")]
        for state, violations in states.items()
    }
    minor = sorted({f"{v['id']} ({v['impact']})" for violations in states.values() for v in violations})
    report.append(f"axe-core: no serious or critical violation; others: {', '.join(minor) or 'none'}")
    assert not any(blocking.values()), blocking


def test_screenshots_desktop_phone_and_200_percent_zoom(widget, screenshot_dir, report):
    page = widget.page
    widget.goto()
    widget.open()
    widget.say("Bonjour")
    widget.reply(GREETING)
    widget.say("Quelles sont les règles pour le mot de passe?")
    widget.reply(PASSWORD_RULES)

    shots = []
    for name, size in [("desktop-1280x800", DESKTOP), ("phone-360x740", PHONE), ("zoom200-1280x800", ZOOM_200)]:
        page.set_viewport_size(size)
        fits = page.evaluate(FITS)
        assert all(fits[key] for key in ("panel", "input", "send", "close", "noSideScroll")), (name, fits)
        assert not fits["pageSideScroll"], name
        path = screenshot_dir / f"widget-{name}.png"
        page.screenshot(path=path)
        shots.append(path)

    page.set_viewport_size(PHONE)
    widget.page.get_by_role("button", name="Fermer l'assistant").click()
    closed = screenshot_dir / "widget-phone-360x740-closed.png"
    page.screenshot(path=closed)
    shots.append(closed)
    report.append(f"widget screenshots: {', '.join(str(p) for p in shots)}")

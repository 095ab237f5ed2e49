"""The domain's content: the intent contract, speakable IVR variants, contact facts from the guide only.

Every sentence a citizen reads or hears is a response here (tests/test_no_french_sentences_in_python.py
keeps them out of Python), so these checks cover all of them. Responses said by custom actions carry
their contact facts as variables (``{call_centre}``, ``{evening_line}``, ...) filled from
config/contact.yml: the checks read each response as said, filled with those facts (spelled for speech
on the phone line), and a number is never written in such a response.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.backend.api import RegistrationStatus
from bot.contact import load_directory

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
CONTACT = yaml.safe_load((ROOT / "config" / "contact.yml").read_text(encoding="utf-8"))
RESPONSES = DOMAIN["responses"]
FACTS = load_directory(ROOT / "config" / "contact.yml").facts()
SPOKEN_FACTS = load_directory(ROOT / "config" / "contact.yml").facts(spoken=True)
# Responses a rule or story of data/ names: Rasa says them as they are, without variables.
SAID_BY_RULES = set(re.findall(r"\butter_[a-z_]+", "".join(p.read_text(encoding="utf-8") for p in (ROOT / "data").rglob("*.yml"))))

DESIGN_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "out_of_scope", "inform",
    "ask_create_account", "ask_password_rules", "password_rejected", "email_confirmation_missing",
    "forgot_password", "login_problem", "link_card", "no_card", "ask_card_expiry", "ask_card_renewal",
    "ask_family_file", "ask_profile", "ask_amount_due", "ask_registrations", "request_human",
    "ask_contact", "ask_hours", "ask_in_person",
}  # fmt: skip

NEEDS_SPEAKABLE = re.compile(r"\*\*|\[[^\]]+\]\(|https?://|\n\s*(?:-|\d+\.)\s")
PHONE = re.compile(r"\b\d{3} \d{3}-\d{4}\b")
TIME = re.compile(r"\b\d{1,2} ?h(?: ?\d{2})?\b")


def web_text(name: str) -> str:
    return next(v["text"] for v in RESPONSES[name] if "channel" not in v)


def ivr_text(name: str) -> str | None:
    return next((v["text"] for v in RESPONSES[name] if v.get("channel") == "ivr"), None)


def filled(text: str, spoken: bool = False) -> str:
    """A response's text with the contact facts of config/contact.yml (other variables stay ``{name}``)."""
    facts = SPOKEN_FACTS if spoken else FACTS
    return re.sub(r"\{(\w+)\}", lambda m: facts.get(m.group(1), m.group(0)), text)


def all_texts() -> list[tuple[str, str]]:
    """Every variant of every response as said: filled with the contact facts, spelled on the phone line."""
    return [
        (name, filled(v["text"], spoken=v.get("channel") == "ivr"))
        for name, variants in RESPONSES.items()
        for v in variants
        if "text" in v
    ]


def phone_text(name: str) -> str:
    """What the phone line says for a response: its `channel: ivr` variant, else its text, with spoken facts."""
    return filled(ivr_text(name) or web_text(name), spoken=True)


def test_every_intent_of_the_design_is_declared():
    assert DESIGN_INTENTS <= set(DOMAIN["intents"])


def test_entities_of_the_design_are_declared():
    assert {"card_digits", "birth_date", "phone_number", "email"} <= set(DOMAIN["entities"])


@pytest.mark.parametrize("name", [n for n in RESPONSES if NEEDS_SPEAKABLE.search(web_text(n) or "")])
def test_response_with_link_markdown_or_list_has_a_speakable_ivr_variant(name):
    spoken = ivr_text(name)
    assert spoken, f"{name} needs a `channel: ivr` variant"
    assert not NEEDS_SPEAKABLE.search(spoken)
    assert "http" not in spoken and "www" not in spoken and "@" not in spoken


# Said only on the web: the password check (actions/password.py) says nothing on the phone line.
WEB_ONLY = {name for name in RESPONSES if name.startswith("utter_password_") and name not in SAID_BY_RULES}


@pytest.mark.parametrize("name", sorted(set(RESPONSES) - WEB_ONLY))
def test_what_the_phone_line_says_is_speakable(name):
    spoken = phone_text(name)
    if NEEDS_SPEAKABLE.search(web_text(name) or "") or "**" in (web_text(name) or ""):
        assert ivr_text(name), f"{name} needs a `channel: ivr` variant"
    assert "**" not in spoken and not re.search(r"\[[^\]]+\]\(", spoken), name
    assert "http" not in spoken and "www" not in spoken and "@" not in spoken, name


@pytest.mark.parametrize("name", sorted(set(RESPONSES) - SAID_BY_RULES))
def test_responses_said_by_actions_take_numbers_and_hours_from_variables(name):
    for variant in RESPONSES[name]:
        text = variant["text"].replace(EXAMPLE_PHONE, "") if FORM_EXAMPLES.match(name) else variant["text"]
        assert not PHONE.findall(text), f"{name}: write {{call_centre}} or {{evening_line}}"
        assert not TIME.findall(variant["text"]), f"{name}: write {{evening_start}}, {{closes_at}}..."


def test_every_response_the_code_names_exists():
    sources = "".join(p.read_text(encoding="utf-8") for top in ("actions", "bot") for p in (ROOT / top).rglob("*.py"))
    named = set(re.findall(r"[\"'](utter_[a-z_]+)[\"']", sources))
    dossier = (ROOT / "bot" / "citizen_file.py").read_text(encoding="utf-8")
    named |= {f"utter_dossier_{code}" for code in re.findall(r"Part\(\s*\"([a-z_]+)\"", dossier)}
    named |= {f"utter_dossier_registration_{status.value}" for status in RegistrationStatus}
    named = {name for name in named if not name.endswith("_")}  # prefixes of f-strings, checked below
    named.discard("utter_action")  # the key of a bot message that names its response, not a response
    assert named - set(RESPONSES) == set()


def test_ivr_variant_comes_right_after_the_web_text_it_mirrors():
    for name, variants in RESPONSES.items():
        channels = [v.get("channel") for v in variants]
        if "ivr" in channels:
            assert channels.index("ivr") == 1 and channels[0] is None, name


# The guided forms' example of a home phone, in their asks and hints (555-01xx is reserved for fiction).
EXAMPLE_PHONE = "450 555-0100"
FORM_EXAMPLES = re.compile(r"utter_(?:ask|hint)_")


def test_phone_numbers_said_are_the_configured_ones():
    known = {CONTACT["call_centre"]["phone"], CONTACT["registration_evening_line"]["phone"]}
    for name, text in all_texts():
        allowed = known | {EXAMPLE_PHONE} if FORM_EXAMPLES.match(name) else known
        assert set(PHONE.findall(text)) <= allowed, name


def test_call_centre_number_comes_with_its_extension():
    phone, extension = CONTACT["call_centre"]["phone"], CONTACT["call_centre"]["extension"]
    for name, text in all_texts():
        if phone in text:
            assert f"{phone}, poste {extension}" in text.replace("**", ""), name


def test_no_opening_hours_are_invented():
    allowed = {"19 h", "20 h 30"}
    for name, text in all_texts():
        assert set(TIME.findall(text)) <= allowed, name


def test_password_rules_are_the_guides_words():
    text = web_text("utter_password_rules")
    for rule in (
        "un minimum de huit (8) lettres incluant une majuscule ;",
        "plus un chiffre ;",
        "plus un symbole.",
    ):
        assert rule in text


def test_linking_and_no_card_answers_follow_the_guide():
    link = web_text("utter_link_card")
    assert "six (6) derniers chiffres sans espace" in link
    assert "Votre dossier est maintenant lié à votre dossier à la Ville" in link
    assert "pas celle de l'un de vos enfants" in link
    no_card = web_text("utter_no_card")
    assert (
        "**Annuler**" in no_card and "preuves de résidence pour tous les membres de votre famille" in no_card
    )


def test_portal_address_is_the_configured_one():
    assert CONTACT["portal_url"] in web_text("utter_create_account")


def test_answers_say_vous_not_tu():
    for name, text in all_texts():
        assert not re.search(r"\b(tu|ton|ta|tes|toi)\b", text, re.IGNORECASE), name

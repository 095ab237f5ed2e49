"""What a dossier answer says: money, expiries, registrations, on the web and spoken (rendered from domain.yml)."""
from datetime import date
from decimal import Decimal

import pytest

from bot.backend.api import (
    AmountDue,
    CardExpiry,
    ExpiryStatus,
    FamilyMember,
    Profile,
    Registration,
    RegistrationStatus,
)
from bot.citizen_file import Part, amounts_due, card_expiries, money, profile, registrations
from tests.responses import PHONE, WEB, render


def said(parts: list[Part], spoken: bool = False) -> str:
    """The answer as the action says it: one response per part, on the web (one a line) or the phone line."""
    channel = PHONE if spoken else WEB
    return (" " if spoken else "\n").join(render(f"utter_dossier_{p.code}", channel, **p.values) for p in parts)


def card_expiries_text(expiries, soon_before, spoken=False):
    return said(card_expiries(expiries, soon_before), spoken)


def amounts_due_text(amounts):
    return said(amounts_due(amounts))


def registrations_text(entries):
    return said(registrations(entries))


@pytest.mark.parametrize(
    ("amount", "text"), [(Decimal("45"), "45,00 $"), (Decimal("1234.5"), "1 234,50 $"), (Decimal("0.05"), "0,05 $")]
)
def test_money_as_written_in_quebec(amount, text):
    assert money(amount) == text


EXPIRIES = [
    CardExpiry(1, "Marie", date(2027, 3, 31), ExpiryStatus.VALID),
    CardExpiry(2, "Léa", date(2026, 9, 30), ExpiryStatus.EXPIRED),
    CardExpiry(3, "Jean", date(2026, 12, 15), ExpiryStatus.EXPIRES_SOON),
]


def test_expiries_on_the_web_and_spoken():
    web = card_expiries_text(EXPIRIES, date(2027, 1, 12))
    assert web.splitlines()[1] == "- Marie : carte valide jusqu'au 31 mars 2027."
    assert "- Léa : carte expirée depuis le 30 septembre 2026." in web
    assert "(le 12 janvier 2027)" in web
    spoken = card_expiries_text(EXPIRIES, None, spoken=True)
    assert "\n" not in spoken and "- " not in spoken
    assert "prochaine période d'inscriptions." in spoken


def test_all_valid_cards_need_no_renewal_notice():
    assert "renouvel" not in card_expiries_text(EXPIRIES[:1], None)


def test_amounts_total_and_none():
    text = amounts_due_text([AmountDue(1, "Marie", Decimal("45.00")), AmountDue(2, "Léa", Decimal("10.50"))])
    assert "Total : 55,50 $." in text
    assert amounts_due_text([]) == "Aucun montant n'est dû à votre dossier."


def test_registrations_with_status():
    text = registrations_text([Registration(2, "Léa", "Soccer U12", "Automne 2026", RegistrationStatus.PENDING_PAYMENT)])
    assert "- Léa : Soccer U12, Automne 2026 (en attente de paiement)." in text


def test_parts_name_each_line_kind_with_its_values():
    parts = card_expiries(EXPIRIES, date(2027, 1, 12))
    assert [p.code for p in parts] == [
        "expiries_family", "expiry_valid", "expiry_expired", "expiry_soon_dated", "no_renewal_notice", "how_to_renew",
    ]
    assert parts[3].values == {"first_name": "Jean", "expires_on": "15 décembre 2026", "registrations_start": "12 janvier 2027"}
    assert [p.code for p in card_expiries([], None)] == ["expiries_none"]


@pytest.mark.parametrize(("status", "words"), [
    (RegistrationStatus.CONFIRMED, "(confirmée)."),
    (RegistrationStatus.PENDING_PAYMENT, "(en attente de paiement)."),
    (RegistrationStatus.CANCELLED, "(annulée)."),
])
def test_every_registration_status_is_said(status, words):
    text = registrations_text([Registration(1, "Marie", "Natation", None, status)])
    assert f"- Marie : Natation {words}" in text


def test_profile_on_the_phone_line():
    family = (FamilyMember(1, "Marie", "Tremblay", True), FamilyMember(2, "Léa", "Tremblay", False))
    person = Profile(1, "Marie", "Tremblay", date(1985, 3, 12), "4505550123", None, date(2027, 3, 31), True, family)
    spoken = said(profile(person), spoken=True)
    assert spoken.startswith("Votre dossier à la Ville est celui de Marie Tremblay. ")
    assert "Carte Accès Terrebonne valide jusqu'au 31 mars 2027. Membres de votre famille : Léa." in spoken
    assert "- " not in spoken

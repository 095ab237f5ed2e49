"""French wording of a dossier: money, expiries, registrations, on the web and spoken."""
from datetime import date
from decimal import Decimal

import pytest

from bot.backend.api import AmountDue, CardExpiry, ExpiryStatus, Registration, RegistrationStatus
from bot.policy.dossier import amounts_due_text, card_expiries_text, money, registrations_text


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

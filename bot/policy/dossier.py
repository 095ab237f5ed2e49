"""French wording of an identified citizen's dossier: card expiries, amounts due, registrations, profile.

Each function returns the text to show (markdown list on the web) or to say (plain sentences on the
phone line, ``spoken=True``). Only call them for a person who has been identified.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from bot.backend.api import (
    AmountDue,
    CardExpiry,
    ExpiryStatus,
    Profile,
    Registration,
    RegistrationStatus,
)
from bot.policy.dates import french_date

NO_RENEWAL_NOTICE = "Aucun avis de renouvellement ne sera envoyé."
HOW_TO_RENEW = (
    "Pour renouveler une carte, consultez la section Carte Accès Terrebonne au bas de la page d'accueil "
    "du portail, ou joignez le centre d'appels."
)
REGISTRATION_STATUS = {
    RegistrationStatus.CONFIRMED: "confirmée",
    RegistrationStatus.PENDING_PAYMENT: "en attente de paiement",
    RegistrationStatus.CANCELLED: "annulée",
}


def _render(intro: str, items: Sequence[str], outro: Sequence[str], spoken: bool) -> str:
    """An introduction, a list and closing sentences: a markdown list on the web, sentences on the phone."""
    if spoken:
        return " ".join([intro, *items, *outro])
    return "\n".join([intro, *(f"- {item}" for item in items), *outro])


def money(amount: Decimal) -> str:
    """An amount as written in Quebec: "45,00 $", "1 234,50 $"."""
    whole, cents = f"{amount:,.2f}".split(".")
    return f"{whole.replace(',', ' ')},{cents} $"


def expiry_line(expiry: CardExpiry, soon_before: date | None) -> str:
    """One member's card: valid until, expiring before the registrations, or expired."""
    when = french_date(expiry.expires_on)
    if expiry.status is ExpiryStatus.EXPIRED:
        return f"{expiry.first_name} : carte expirée depuis le {when}. Elle doit être renouvelée avant les inscriptions."
    if expiry.status is ExpiryStatus.EXPIRES_SOON:
        period = f" (le {french_date(soon_before)})" if soon_before else ""
        return (
            f"{expiry.first_name} : carte valide jusqu'au {when} seulement, soit avant le début "
            f"de la prochaine période d'inscriptions{period}. Pensez à la renouveler."
        )
    return f"{expiry.first_name} : carte valide jusqu'au {when}."


def card_expiries_text(expiries: Sequence[CardExpiry], soon_before: date | None, spoken: bool = False) -> str:
    """Every family member's card expiry and, when one needs renewing, the reminder and how to renew."""
    if not expiries:
        return (
            "Je ne trouve pas de date d'expiration de carte à votre dossier. Le centre d'appels peut vérifier "
            "avec vous. " + NO_RENEWAL_NOTICE
        )
    needs_renewal = any(e.status is not ExpiryStatus.VALID for e in expiries)
    outro = [NO_RENEWAL_NOTICE, HOW_TO_RENEW] if needs_renewal else []
    intro = (
        "Voici la date d'expiration de la Carte Accès Terrebonne de chaque membre de votre dossier :"
        if len(expiries) > 1
        else "Voici la date d'expiration de votre Carte Accès Terrebonne :"
    )
    return _render(intro, [expiry_line(e, soon_before) for e in expiries], outro, spoken)


def amounts_due_text(amounts: Sequence[AmountDue], spoken: bool = False) -> str:
    """Amounts owed per member, with the total when there are several."""
    owed = [a for a in amounts if a.amount > 0]
    if not owed:
        return "Aucun montant n'est dû à votre dossier."
    items = [f"{a.first_name} : {money(a.amount)}" for a in owed]
    outro = [f"Total : {money(sum((a.amount for a in owed), Decimal('0')))}."] if len(owed) > 1 else []
    outro.append("Vous trouvez le détail dans Mon profil.")
    return _render("Montants dus à votre dossier :", items, outro, spoken)


def registrations_text(registrations: Sequence[Registration], spoken: bool = False) -> str:
    """Registrations per member with their status."""
    if not registrations:
        return "Je ne trouve aucune inscription à votre dossier."
    items = []
    for registration in registrations:
        session = f", {registration.session}" if registration.session else ""
        status = REGISTRATION_STATUS[registration.status]
        items.append(f"{registration.first_name} : {registration.activity}{session} ({status}).")
    outro = ["Le détail de chaque inscription est dans Mon profil."]
    return _render("Inscriptions à votre dossier :", items, outro, spoken)


def profile_text(profile: Profile, spoken: bool = False) -> str:
    """A short summary of the dossier: name, card expiry, family members; the rest is in Mon profil."""
    intro = f"Votre dossier à la Ville est celui de {profile.first_name} {profile.last_name}."
    items = []
    if profile.card_expires_on:
        items.append(f"Carte Accès Terrebonne valide jusqu'au {french_date(profile.card_expires_on)}.")
    others = [m.first_name for m in profile.family if m.file_id != profile.file_id]
    if others:
        items.append("Membres de votre famille : " + ", ".join(others) + ".")
    outro = [
        "Votre adresse, votre numéro de téléphone, votre date de naissance, vos inscriptions et les "
        "montants dus sont dans Mon profil : cliquez sur votre nom, puis sur Mon profil."
    ]
    return _render(intro, items, outro, spoken)

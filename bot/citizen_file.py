"""What to tell an identified citizen of their dossier: card expiries, amounts due, registrations, profile.

Each function returns the parts of the answer in order, each a `Part`: a code naming what the part says
and the values that fill it (dates and amounts already written the Quebec way). The sentences are
responses of domain.yml, ``utter_dossier_<code>``, said by `actions.citizen_file`. Only call them for a
person who has been identified.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from bot.backend.api import AmountDue, CardExpiry, ExpiryStatus, Profile, Registration
from bot.policy.dates import french_date


@dataclass(frozen=True)
class Part:
    """One part of an answer: what it says (``code``) and the values that fill it."""

    code: str
    values: dict[str, str] = field(default_factory=dict)


def money(amount: Decimal) -> str:
    """An amount as written in Quebec: "45,00 $", "1 234,50 $"."""
    whole, cents = f"{amount:,.2f}".split(".")
    return f"{whole.replace(',', ' ')},{cents} $"


def expiry_part(expiry: CardExpiry, soon_before: date | None) -> Part:
    """One member's card: valid until, expiring before the registrations, or expired."""
    values = {"first_name": expiry.first_name, "expires_on": french_date(expiry.expires_on)}
    if expiry.status is ExpiryStatus.EXPIRED:
        return Part("expiry_expired", values)
    if expiry.status is ExpiryStatus.EXPIRES_SOON:
        if soon_before is None:
            return Part("expiry_soon", values)
        return Part("expiry_soon_dated", {**values, "registrations_start": french_date(soon_before)})
    return Part("expiry_valid", values)


def card_expiries(expiries: Sequence[CardExpiry], soon_before: date | None) -> list[Part]:
    """Every family member's card expiry and, when one needs renewing, the reminder and how to renew."""
    if not expiries:
        return [Part("expiries_none")]
    intro = Part("expiries_family" if len(expiries) > 1 else "expiries_own")
    needs_renewal = any(e.status is not ExpiryStatus.VALID for e in expiries)
    outro = [Part("no_renewal_notice"), Part("how_to_renew")] if needs_renewal else []
    return [intro, *(expiry_part(e, soon_before) for e in expiries), *outro]


def amounts_due(amounts: Sequence[AmountDue]) -> list[Part]:
    """Amounts owed per member, with the total when there are several."""
    owed = [a for a in amounts if a.amount > 0]
    if not owed:
        return [Part("amounts_none")]
    items = [Part("amount", {"first_name": a.first_name, "amount": money(a.amount)}) for a in owed]
    total = [Part("amounts_total", {"amount": money(sum((a.amount for a in owed), Decimal("0")))})]
    return [Part("amounts"), *items, *(total if len(owed) > 1 else []), Part("amounts_details")]


def registrations(entries: Sequence[Registration]) -> list[Part]:
    """Registrations per member with their status (``registration_<status>``)."""
    if not entries:
        return [Part("registrations_none")]
    items = [
        Part(
            f"registration_{entry.status.value}",
            {"first_name": entry.first_name, "activity": ", ".join(filter(None, [entry.activity, entry.session]))},
        )
        for entry in entries
    ]
    return [Part("registrations"), *items, Part("registrations_details")]


def profile(person: Profile) -> list[Part]:
    """A short summary of the dossier: name, card expiry, family members; the rest is in Mon profil."""
    parts = [Part("profile", {"first_name": person.first_name, "last_name": person.last_name})]
    if person.card_expires_on:
        parts.append(Part("profile_card", {"expires_on": french_date(person.card_expires_on)}))
    others = [m.first_name for m in person.family if m.file_id != person.file_id]
    if others:
        parts.append(Part("profile_family", {"members": ", ".join(others)}))
    return [*parts, Part("profile_details")]

"""The demo data of DESIGN.md, seeded idempotently (keyed by name and birth date, and by email)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.backend import inputs
from bot.backend.models import (
    Account,
    AmountDueRecord,
    Attempt,
    CitizenFile,
    ConfirmationRequest,
    Family,
    RegistrationRecord,
)


@dataclass(frozen=True)
class DemoCitizen:
    first_name: str
    last_name: str
    birth_date: date
    card_last6: str
    card_expires_on: date
    home_phone: str | None = None
    adult_in_charge: bool = True
    email: str | None = None
    email_confirmed: bool = False
    amounts_cents: tuple[int, ...] = ()
    registrations: tuple[tuple[str, str], ...] = ()


MARIE = DemoCitizen(
    "Marie", "Tremblay", date(1985, 3, 12), "123456", date(2027, 3, 31), "450 555-0123",
    email="marie.tremblay@example.com", email_confirmed=True,
    amounts_cents=(4500,), registrations=(("Natation – Niveau 3", "confirmed"),),
)
LEA = DemoCitizen(
    "Léa", "Tremblay", date(2015, 6, 1), "987123", date(2026, 9, 30),
    adult_in_charge=False, registrations=(("Soccer U12", "pending_payment"),),
)
JEAN = DemoCitizen(
    "Jean", "Gagnon", date(1979, 11, 2), "654321", date(2026, 12, 15), "450 555-0188",
    email="jean.gagnon@example.com",
)
SOPHIE = DemoCitizen("Sophie", "Roy", date(1990, 7, 21), "246810", date(2028, 1, 31), "450 555-0142")

DEMO_FAMILIES: tuple[tuple[DemoCitizen, ...], ...] = ((MARIE, LEA), (JEAN,), (SOPHIE,))
"""Each family: the adult in charge first. Accounts are seeded unlinked: linking is part of the demo."""


def _citizen_file(session: Session, person: DemoCitizen) -> CitizenFile | None:
    return session.execute(
        select(CitizenFile).where(
            CitizenFile.first_name == person.first_name,
            CitizenFile.last_name == person.last_name,
            CitizenFile.birth_date == person.birth_date,
        )
    ).scalar_one_or_none()


def _seed_person(session: Session, person: DemoCitizen, family: Family, card_secret: str, now: datetime):
    citizen = _citizen_file(session, person)
    if citizen is None:
        citizen = CitizenFile(
            family=family,
            first_name=person.first_name,
            last_name=person.last_name,
            birth_date=person.birth_date,
        )
        session.add(citizen)
        session.flush()
        for cents in person.amounts_cents:
            session.add(AmountDueRecord(citizen_file_id=citizen.id, amount_cents=cents))
        for activity, status in person.registrations:
            session.add(RegistrationRecord(citizen_file_id=citizen.id, activity=activity, status=status))
    citizen.adult_in_charge = person.adult_in_charge
    citizen.home_phone = inputs.normalize_phone(person.home_phone) if person.home_phone else None
    citizen.card_digest = inputs.keyed_digest(card_secret, "card", person.card_last6)
    citizen.card_expires_on = person.card_expires_on
    if person.email is None:
        return
    key = inputs.email_key(person.email)
    if session.execute(select(Account.id).where(Account.email_key == key)).first() is None:
        session.add(
            Account(
                email=person.email,
                email_key=key,
                first_name=person.first_name,
                last_name=person.last_name,
                created_at=now,
                email_confirmed_at=now if person.email_confirmed else None,
            )
        )


def seed(engine: Engine, card_secret: str) -> None:
    """Insert the demo data that is missing; refresh the card digests (the key may have changed)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with Session(engine, future=True) as session, session.begin():
        for members in DEMO_FAMILIES:
            existing = _citizen_file(session, members[0])
            family = existing.family if existing is not None else Family()
            for person in members:
                _seed_person(session, person, family, card_secret, now)
                session.flush()


def clear(engine: Engine) -> None:
    """Delete every row of the backend's tables (the schema stays)."""
    with engine.begin() as connection:
        for model in (
            Attempt,
            ConfirmationRequest,
            Account,
            AmountDueRecord,
            RegistrationRecord,
            CitizenFile,
            Family,
        ):
            connection.execute(delete(model))

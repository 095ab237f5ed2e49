"""SQLAlchemy models of the account system; the schema itself is created by the Alembic migrations."""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
)
from sqlalchemy.orm import registry, relationship
from sqlalchemy.orm.decl_api import DeclarativeMeta

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

mapper_registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class Base(metaclass=DeclarativeMeta):
    """The declarative base of the backend's models (a class, so that type checkers see it as one)."""

    __abstract__ = True
    registry = mapper_registry
    metadata = mapper_registry.metadata
    __init__ = mapper_registry.constructor


class Family(Base):
    """A family file ("dossier famille"): the adult in charge and the other members."""

    __tablename__ = "families"

    id = Column(Integer, primary_key=True)
    members = relationship("CitizenFile", back_populates="family", order_by="CitizenFile.id")


class CitizenFile(Base):
    """The city's record of one citizen. The card number is kept only as a keyed hash of its last six."""

    __tablename__ = "citizen_files"

    id = Column(Integer, primary_key=True)
    family_id = Column(Integer, ForeignKey("families.id"), nullable=False, index=True)
    adult_in_charge = Column(Boolean, nullable=False, default=False)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False)
    birth_date = Column(Date, nullable=False)
    home_phone = Column(String(20))
    address = Column(String(300))
    card_digest = Column(String(64), index=True)
    card_expires_on = Column(Date)

    family = relationship("Family", back_populates="members")


class Account(Base):
    """An online account of the portal. The backend never stores nor checks a password."""

    __tablename__ = "accounts"

    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False)
    email_key = Column(String(254), nullable=False, unique=True)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False)
    created_at = Column(DateTime, nullable=False)
    email_confirmed_at = Column(DateTime)
    citizen_file_id = Column(Integer, ForeignKey("citizen_files.id"), unique=True)


class ConfirmationRequest(Base):
    """A request to (re-)send the confirmation email of an account."""

    __tablename__ = "confirmation_requests"
    __table_args__ = (Index("ix_confirmation_requests_account_at", "account_id", "requested_at"),)

    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False)
    requested_at = Column(DateTime, nullable=False)


class Attempt(Base):
    """One identification or linking attempt: who (hashed keys), when, outcome; drives the lock-out."""

    __tablename__ = "attempts"
    __table_args__ = (
        Index("ix_attempts_account_at", "account_id", "at"),
        Index("ix_attempts_card_at", "card_key", "at"),
        Index("ix_attempts_conversation_at", "conversation_key", "at"),
    )

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False)
    operation = Column(String(16), nullable=False)
    outcome = Column(String(16), nullable=False)
    account_id = Column(Integer, ForeignKey("accounts.id"))
    card_key = Column(String(64))
    conversation_key = Column(String(64))


class RegistrationRecord(Base):
    """A registration of a family member to an activity."""

    __tablename__ = "registrations"

    id = Column(Integer, primary_key=True)
    citizen_file_id = Column(Integer, ForeignKey("citizen_files.id"), nullable=False, index=True)
    activity = Column(String(200), nullable=False)
    session = Column(String(100))
    status = Column(String(20), nullable=False)


class AmountDueRecord(Base):
    """An amount owed by a family member, in cents."""

    __tablename__ = "amounts_due"

    id = Column(Integer, primary_key=True)
    citizen_file_id = Column(Integer, ForeignKey("citizen_files.id"), nullable=False, index=True)
    amount_cents = Column(Integer, nullable=False)

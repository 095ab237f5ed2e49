"""Migrations and the demo seed: the schema comes from Alembic, the demo data is DESIGN.md's, idempotently."""
from __future__ import annotations

from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.backend.api import AccountState, ExpiryStatus, IdentifyOutcome
from bot.backend.db import make_engine
from bot.backend.factory import get_backend
from bot.backend.models import Base
from bot.backend.seed import clear, seed
from bot.backend.setup import downgrade, migrate, prepare_database
from bot.settings import get_settings

DEMO_COUNTS = {
    "families": 3,
    "citizen_files": 4,
    "accounts": 2,
    "confirmation_requests": 0,
    "attempts": 0,
    "registrations": 2,
    "amounts_due": 1,
}


def test_the_migrated_schema_matches_the_models(database_engine):
    with database_engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_seeding_twice_changes_nothing(database_engine, count_rows):
    clear(database_engine)
    seed(database_engine, get_settings().card_hash_secret)
    seed(database_engine, get_settings().card_hash_secret)
    assert count_rows(database_engine) == DEMO_COUNTS


def test_prepare_database_creates_migrates_and_seeds_a_new_sqlite_file(tmp_path, count_rows):
    url = f"sqlite:///{tmp_path / 'new' / 'var' / 'accounts.db'}"
    prepare_database(url)
    prepare_database(url)
    engine = make_engine(url)
    try:
        assert count_rows(engine) == DEMO_COUNTS
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0001"
    finally:
        engine.dispose()


def test_the_demo_data_is_design_md(tmp_path):
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    prepare_database(url)
    backend = get_backend(url)
    marie = backend.account_status("marie.tremblay@example.com")
    assert marie.state is AccountState.CONFIRMED and not marie.linked
    assert backend.account_status("jean.gagnon@example.com").state is AccountState.UNCONFIRMED
    assert backend.account_status("sophie.roy@example.com").state is AccountState.NONE
    sophie = backend.identify("246810", home_phone="450 555-0142")
    assert sophie.outcome is IdentifyOutcome.IDENTIFIED
    assert backend.profile(sophie.file_id).card_expires_on == date(2028, 1, 31)
    jean = backend.identify("654321", birth_date="1979-11-02")
    assert backend.profile(jean.file_id).home_phone == "450 555-0188"
    marie_file = backend.identify("123456", birth_date="1985-03-12").file_id
    expiries = backend.card_expiries(marie_file, date(2026, 11, 26), soon_before=date(2026, 12, 1))
    assert [(e.first_name, e.expires_on, e.status) for e in expiries] == [
        ("Marie", date(2027, 3, 31), ExpiryStatus.VALID),
        ("Léa", date(2026, 9, 30), ExpiryStatus.EXPIRED),
    ]
    assert str(backend.amounts_due(marie_file)[0].amount) == "45.00"
    assert get_backend(url) is backend


def test_reset_restores_the_demo_state(tmp_path):
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    prepare_database(url)
    backend = get_backend(url)
    marie = backend.account_status("marie.tremblay@example.com").account_id
    backend.link_card(marie, "123456", birth_date="1985-03-12")
    prepare_database(url)
    assert backend.account(marie).linked
    prepare_database(url, reset=True)
    assert not backend.account_status("marie.tremblay@example.com").linked


def test_downgrade_and_upgrade_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'accounts.db'}")
    try:
        migrate(engine)
        downgrade(engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate(engine)
        assert "citizen_files" in inspect(engine).get_table_names()
    finally:
        engine.dispose()

"""The operator commands `python -m bot backend ...` and `python -m bot token EMAIL`."""
from __future__ import annotations

import pytest

from bot.cli import main
from bot.identity import verify_token
from bot.settings import get_settings


@pytest.fixture
def database(tmp_path, monkeypatch):
    """Settings pointing at a new SQLite file in a folder that does not exist yet."""
    monkeypatch.setenv("BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'accounts.db'}")
    get_settings.cache_clear()
    yield tmp_path / "var" / "accounts.db"
    get_settings.cache_clear()


def test_seed_then_status_and_expiries(database, capsys):
    assert main(["backend", "seed"]) == 0
    assert main(["backend", "seed"]) == 0
    assert database.exists()
    assert main(["backend", "status", "Marie.Tremblay@example.com"]) == 0
    assert "confirmed, non lié" in capsys.readouterr().out
    assert main(["backend", "status", "sophie.roy@example.com"]) == 1
    assert main(["backend", "expiries", "marie.tremblay@example.com"]) == 1
    assert "Aucun dossier lié" in capsys.readouterr().err


def test_migrate_creates_the_schema_without_demo_data(database, capsys):
    from bot.backend.api import AccountState
    from bot.backend.factory import get_backend

    assert main(["backend", "migrate"]) == 0
    assert main(["backend", "migrate"]) == 0
    assert get_backend().account_status("marie.tremblay@example.com").state is AccountState.NONE


def test_expiries_of_a_linked_account(database, capsys):
    from bot.backend.factory import get_backend

    main(["backend", "seed"])
    backend = get_backend()
    account = backend.account_status("marie.tremblay@example.com").account_id
    backend.link_card(account, "123456", birth_date="1985-03-12")
    capsys.readouterr()
    assert main(["backend", "expiries", "marie.tremblay@example.com", "--today", "2026-11-26"]) == 0
    assert capsys.readouterr().out.splitlines() == ["Marie : 2027-03-31 (valid)", "Léa : 2026-09-30 (expired)"]
    assert main(["backend", "seed", "--reset"]) == 0
    assert not backend.account(account).linked


def test_token_for_a_demo_account(database, capsys):
    main(["backend", "seed"])
    capsys.readouterr()
    assert main(["token", "marie.tremblay@example.com", "--minutes", "5"]) == 0
    token = capsys.readouterr().out.strip()
    identity = verify_token(token)
    assert identity is not None
    assert main(["token", "sophie.roy@example.com"]) == 1
    assert "Aucun compte" in capsys.readouterr().err

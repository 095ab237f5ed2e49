"""`BOT_BACKEND` chooses the storage adapter; every adapter gets the rules of `AccountService`."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from bot.backend.api import AccountState, LinkResult
from bot.backend.factory import BackendConfigurationError, check_backend, get_backend, load_store_class
from bot.backend.service import AccountService
from bot.backend.setup import prepare_database
from bot.backend.sql_store import SqlAlchemyStore
from bot.settings import PROJECT_ROOT, get_settings
from tests.bot.backend.memory_store import InMemoryStore

MEMORY = "tests.bot.backend.memory_store:InMemoryStore"


@pytest.fixture
def setting(monkeypatch):
    """`setting(value)` sets BOT_BACKEND (None: unset) for this test only."""

    def set_backend(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("BOT_BACKEND", raising=False)
        else:
            monkeypatch.setenv("BOT_BACKEND", value)
        get_settings.cache_clear()

    yield set_backend
    get_settings.cache_clear()


def test_the_default_is_the_sqlalchemy_adapter(setting, tmp_path):
    setting(None)
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    prepare_database(url)
    backend = get_backend(url)
    assert isinstance(backend, AccountService) and isinstance(backend.store, SqlAlchemyStore)
    assert backend.account_status("marie.tremblay@example.com").state is AccountState.CONFIRMED


@pytest.mark.parametrize("spec", [MEMORY, "tests.bot.backend.memory_store.InMemoryStore"])
def test_a_dotted_path_chooses_another_adapter_which_inherits_the_lock_out(setting, spec):
    setting(spec)
    backend = get_backend()
    assert isinstance(backend.store, InMemoryStore)
    marie = backend.account_status("marie.tremblay@example.com").account_id
    for _ in range(5):
        assert backend.link_card(marie, "123456", birth_date="1999-01-01") is LinkResult.MISMATCH
    assert backend.link_card(marie, "123456", birth_date="1985-03-12") is LinkResult.LOCKED
    assert not backend.account(marie).linked
    assert get_backend() is backend


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("oracle", "neither one of ['sqlalchemy'] nor a dotted path"),
        ("bot.backend.nowhere:Store", "cannot import module 'bot.backend.nowhere'"),
        ("bot.backend.sql_store:NoSuchStore", "has no class 'NoSuchStore'"),
        ("bot.backend.service:AccountService", "is not an account store"),
        ("bot.backend.sql_store:logger", "has no class 'logger'"),
    ],
)
def test_a_wrong_setting_is_a_clear_error_naming_it(setting, caplog, spec, reason):
    setting(spec)
    with pytest.raises(BackendConfigurationError, match="BOT_BACKEND") as raised:
        check_backend()
    assert reason in str(raised.value)
    assert f"BOT_BACKEND={spec!r}" in caplog.text
    assert any(record.levelno == logging.ERROR for record in caplog.records)
    with pytest.raises(BackendConfigurationError):
        get_backend()


def test_the_built_in_name_ignores_case():
    assert load_store_class(" SQLAlchemy ") is SqlAlchemyStore


def test_the_action_server_refuses_to_start_with_a_wrong_setting():
    env = {**os.environ, "BOT_BACKEND": "bot.backend.nowhere:Store"}
    started = subprocess.run(
        [sys.executable, "-c", "import actions"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert started.returncode != 0
    assert "BOT_BACKEND='bot.backend.nowhere:Store': cannot import module 'bot.backend.nowhere'" in started.stderr

"""Action tests: real Tracker, CollectingDispatcher and Domain objects against the SQLite demo backend."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from freezegun import freeze_time
from rasa.shared.core.domain import Domain
from rasa_sdk.executor import CollectingDispatcher

from bot.backend.setup import prepare_database
from bot.identity import make_demo_token
from bot.settings import PROJECT_ROOT, get_settings

# Thursday 26 November 2026, 10:00 in Montreal.
NOW = "2026-11-26 15:00:00"


@pytest.fixture(scope="session")
def domain() -> dict:
    """The assistant's domain, as the action server receives it."""
    return Domain.load(str(PROJECT_ROOT / "domain.yml")).as_dict()


@pytest.fixture
def demo_db(tmp_path, monkeypatch) -> Iterator[str]:
    """A fresh SQLite account database with the demo data of DESIGN.md, used by the actions."""
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    monkeypatch.setenv("BOT_DATABASE_URL", url)
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    prepare_database(url)
    yield url
    get_settings.cache_clear()


@pytest.fixture
def frozen() -> Iterator[None]:
    with freeze_time(NOW):
        yield


@pytest.fixture
def contact_file(tmp_path, monkeypatch):
    """Write a contact file with the given changes and point the settings to it."""

    def write(**changes) -> Path:
        raw = yaml.safe_load((PROJECT_ROOT / "config" / "contact.yml").read_text(encoding="utf-8"))
        raw.update(changes)
        path = tmp_path / "contact.yml"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv("BOT_CONTACT_CONFIG", str(path))
        get_settings.cache_clear()
        return path

    return write


@pytest.fixture
def token(demo_db):
    """A valid portal token for a demo account's email."""
    return lambda email: make_demo_token(email, database_url=demo_db)


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()

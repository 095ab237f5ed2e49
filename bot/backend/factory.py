"""`get_backend()`: the account backend the `BOT_BACKEND` setting chooses, behind the rules of `AccountService`.

`BOT_BACKEND` is `sqlalchemy` (the default: `bot.backend.sql_store.SqlAlchemyStore` on `BOT_DATABASE_URL`)
or the dotted path of a storage adapter class, `package.module:Class` or `package.module.Class`. The class
implements `bot.backend.storage.AccountStore` and has `from_settings(settings)`; it is wrapped in
`AccountService`, so the lock-out, rate limits and expiry statuses hold whatever stores the data.
"""
from __future__ import annotations

import dataclasses
import importlib
import logging
import re
from functools import cache
from typing import Protocol, cast

from bot.backend.api import AccountBackend
from bot.backend.service import AccountService
from bot.backend.storage import AccountStore
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)

BUILT_IN_BACKENDS = {"sqlalchemy": "bot.backend.sql_store:SqlAlchemyStore"}
"""Short names of `BOT_BACKEND` and the adapter class each one stands for."""

_DOTTED_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*([:.][A-Za-z_]\w*)")


class StoreClass(Protocol):
    """What `BOT_BACKEND` names: a class (or factory) whose `from_settings` builds an `AccountStore`."""

    def from_settings(self, settings: Settings) -> AccountStore: ...


class BackendConfigurationError(RuntimeError):
    """`BOT_BACKEND` names no usable adapter class; the message says what is wrong (for operators)."""


def load_store_class(spec: str) -> StoreClass:
    """The adapter class `spec` names (a short name of BUILT_IN_BACKENDS or a dotted path).

    Raises BackendConfigurationError when it cannot be imported or does not look like an adapter.
    """
    path = BUILT_IN_BACKENDS.get(spec.strip().lower(), spec.strip())
    if not _DOTTED_PATH.fullmatch(path):
        raise BackendConfigurationError(
            f"BOT_BACKEND={spec!r} is neither one of {sorted(BUILT_IN_BACKENDS)} nor a dotted path "
            "'package.module:Class' or 'package.module.Class'"
        )
    module_name, _, class_name = path.rpartition(":") if ":" in path else path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise BackendConfigurationError(
            f"BOT_BACKEND={spec!r}: cannot import module {module_name!r} ({error})"
        ) from error
    store_class = getattr(module, class_name, None)
    if not isinstance(store_class, type):
        raise BackendConfigurationError(f"BOT_BACKEND={spec!r}: module {module_name!r} has no class {class_name!r}")
    missing = [name for name in ("from_settings", "session") if not callable(getattr(store_class, name, None))]
    if missing:
        raise BackendConfigurationError(
            f"BOT_BACKEND={spec!r}: {path} is not an account store (bot.backend.storage.AccountStore); "
            f"it lacks {', '.join(missing)}"
        )
    return cast(StoreClass, store_class)


def check_backend(settings: Settings | None = None) -> StoreClass:
    """Resolve `BOT_BACKEND` once at start: logs and raises BackendConfigurationError when it is wrong."""
    settings = settings or get_settings()
    try:
        return load_store_class(settings.backend)
    except BackendConfigurationError as error:
        logger.error("%s", error)
        raise


def build_backend(settings: Settings) -> AccountService:
    """A new `AccountService` on the adapter of `settings.backend`, keyed with the settings' card key."""
    store = load_store_class(settings.backend).from_settings(settings)
    if not isinstance(store, AccountStore):
        raise BackendConfigurationError(
            f"BOT_BACKEND={settings.backend!r}: from_settings() returned {type(store).__name__}, "
            "which has no session()"
        )
    return AccountService(store, settings.card_hash_secret)


@cache
def _backend_for(settings: Settings) -> AccountService:
    return build_backend(settings)


def get_backend(database_url: str | None = None) -> AccountBackend:
    """The backend of the settings (`BOT_BACKEND`), built once per settings and `database_url`.

    `database_url` replaces `BOT_DATABASE_URL` (tests and tools that hold several databases). With the
    SQLAlchemy adapter the database must have been prepared (`python -m bot backend seed`).
    """
    settings = get_settings()
    if database_url:
        settings = dataclasses.replace(settings, database_url=database_url)
    return _backend_for(settings)

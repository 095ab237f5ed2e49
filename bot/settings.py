"""The one place that reads the environment: every setting, with its default."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BOT_VAR_DIR", PROJECT_ROOT / "var"))

# A development-only secret; production sets BOT_TOKEN_SECRET.
DEV_TOKEN_SECRET = "dev-only-secret-change-me-in-production-0123456789"
# A development-only key for the keyed hash of card digits; production sets BOT_CARD_HASH_SECRET.
DEV_CARD_HASH_SECRET = "dev-only-card-hash-key-change-me-in-production"
# A development-only token of the Rasa HTTP API (`rasa run --auth-token`); production sets BOT_RASA_API_TOKEN.
DEV_RASA_API_TOKEN = "dev-only-rasa-api-token-change-me"
# A development-only key that signs the widget's client session keys (bot/session.py); production sets BOT_SESSION_SECRET.
DEV_SESSION_SECRET = "dev-only-session-secret-change-me-in-production"


@dataclass(frozen=True)
class Settings:
    """Runtime settings; see README.md for each environment variable."""

    database_url: str
    tracker_store_url: str
    token_secret: str
    token_issuer: str
    token_audience: str
    contact_config: Path
    timezone: str
    var_dir: Path
    card_hash_secret: str = DEV_CARD_HASH_SECRET
    rasa_api_token: str = DEV_RASA_API_TOKEN
    cors_origins: tuple[str, ...] = ()
    slot_vault_url: str = ""
    personal_slot_ttl_seconds: int = 900
    retention_days: int = 90
    form_max_failures: int = 3
    action_server_host: str = "127.0.0.1"
    max_message_chars: int = 2000
    ivr_confidence_threshold: float = 0.5
    ivr_token: str = ""
    staff_token: str = ""  # the review inbox (bot/widget/serve.py, /review): empty = the inbox is off
    backend: str = "sqlalchemy"
    session_secret: str = DEV_SESSION_SECRET
    identification_idle_minutes: float = 10.0
    readiness_timeout_seconds: float = 2.0
    action_timeout_seconds: float = 8.0
    tracker_memory_conversations: int = 2000
    tracker_memory_idle_minutes: float = 60.0
    environment: str = "production"

    @property
    def development(self) -> bool:
        """Whether this is a developer's machine or a test set-up (``BOT_ENVIRONMENT=development``)."""
        return self.environment == "development"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings once from the environment."""
    var_dir = VAR_DIR
    return Settings(
        database_url=_env("BOT_DATABASE_URL", f"sqlite:///{var_dir / 'accounts.db'}"),
        tracker_store_url=_env("BOT_TRACKER_STORE_URL", f"sqlite:///{var_dir / 'tracker.db'}"),
        token_secret=_env("BOT_TOKEN_SECRET", DEV_TOKEN_SECRET),
        token_issuer=_env("BOT_TOKEN_ISSUER", "inscriptions.ville.terrebonne.qc.ca"),
        token_audience=_env("BOT_TOKEN_AUDIENCE", "assistant-inscriptions"),
        contact_config=Path(_env("BOT_CONTACT_CONFIG", str(PROJECT_ROOT / "config" / "contact.yml"))),
        timezone=_env("BOT_TIMEZONE", "America/Montreal"),
        var_dir=var_dir,
        card_hash_secret=_env("BOT_CARD_HASH_SECRET", DEV_CARD_HASH_SECRET),
        rasa_api_token=_env("BOT_RASA_API_TOKEN", DEV_RASA_API_TOKEN),
        cors_origins=tuple(o for o in _env("BOT_CORS_ORIGINS", "").split() if o),
        slot_vault_url=_env("BOT_SLOT_VAULT_URL", ""),
        personal_slot_ttl_seconds=int(_env("BOT_PERSONAL_SLOT_TTL_SECONDS", "900")),
        retention_days=int(_env("BOT_RETENTION_DAYS", "90")),
        form_max_failures=int(_env("BOT_FORM_MAX_FAILURES", "3")),
        action_server_host=_env("BOT_ACTION_SERVER_HOST", "127.0.0.1"),
        max_message_chars=int(_env("BOT_MAX_MESSAGE_CHARS", "2000")),
        ivr_confidence_threshold=float(_env("BOT_IVR_CONFIDENCE_THRESHOLD", "0.5")),
        ivr_token=_env("BOT_IVR_TOKEN", ""),
        staff_token=_env("BOT_STAFF_TOKEN", ""),
        backend=_env("BOT_BACKEND", "sqlalchemy"),
        session_secret=_env("BOT_SESSION_SECRET", DEV_SESSION_SECRET),
        identification_idle_minutes=float(_env("BOT_IDENTIFICATION_IDLE_MINUTES", "10")),
        readiness_timeout_seconds=float(_env("BOT_READINESS_TIMEOUT_SECONDS", "2")),
        action_timeout_seconds=float(_env("BOT_ACTION_TIMEOUT_SECONDS", "8")),
        tracker_memory_conversations=int(_env("BOT_TRACKER_MEMORY_CONVERSATIONS", "2000")),
        tracker_memory_idle_minutes=float(_env("BOT_TRACKER_MEMORY_IDLE_MINUTES", "60")),
        environment=_env("BOT_ENVIRONMENT", "production").lower(),
    )


def city_today() -> date:
    """Today's date in the city's time zone (``BOT_TIMEZONE``): what birth dates are checked against."""
    return datetime.now(ZoneInfo(get_settings().timezone)).date()

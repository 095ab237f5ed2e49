"""Backend settings the city edits in config/contact.yml: the first day of the next registration period."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import yaml


def next_registration_date(path: Path | None = None) -> date | None:
    """`next_registration_date` of the contact configuration; None when empty or the file is missing."""
    if path is None:
        from bot.settings import get_settings

        path = get_settings().contact_config
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return None
    value = data.get("next_registration_date") if isinstance(data, dict) else None
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(
            f"{path}: next_registration_date must be an ISO date (YYYY-MM-DD), not {value!r}"
        ) from None

"""Backend settings the city edits in config/contact.yml: the first day of the next registration period."""
from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

# Per file: its (mtime_ns, size, inode) when read, and the raw `next_registration_date` value it held.
# The action server asks on every card-expiry answer; the YAML parse cost more than the rest of the call.
_read: dict[str, tuple[tuple[int, int, int], Any]] = {}


def _raw_value(path: Path) -> Any:
    """The file's raw ``next_registration_date``, parsed again only when the file changed (the city edits it
    while the servers run); FileNotFoundError when it is missing."""
    key = os.fspath(path)
    info = os.stat(key)
    stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
    cached = _read.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    value = data.get("next_registration_date") if isinstance(data, dict) else None
    _read[key] = (stamp, value)
    return value


def next_registration_date(path: Path | None = None) -> date | None:
    """`next_registration_date` of the contact configuration; None when empty or the file is missing."""
    if path is None:
        from bot.settings import get_settings

        path = get_settings().contact_config
    try:
        value = _raw_value(Path(path))
    except FileNotFoundError:
        return None
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

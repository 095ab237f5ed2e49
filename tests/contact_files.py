"""Contact files for tests: the shipped one, and the same with the facts a city fills in."""
from __future__ import annotations

from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "config" / "contact.yml"


def configured_contact_file(folder: Path) -> Path:
    """The shipped file with hours, a holiday, registration evenings and the next registration date filled in."""
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    weekday = [["08:30", "12:00"], ["13:00", "16:30"]]
    raw["opening_hours"] = {day: weekday for day in ["monday", "tuesday", "wednesday", "thursday", "friday"]}
    raw["holidays"] = ["2026-12-25", "2027-01-01"]
    raw["registration_evening_line"]["dates"] = ["2027-01-12", "2027-03-14"]
    raw["next_registration_date"] = "2027-01-12"
    path = folder / "contact.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path

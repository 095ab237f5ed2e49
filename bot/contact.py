"""The call-centre directory, opening hours and registration evenings, read from config/contact.yml.

Every fact comes from the city's guide or from the YAML file the city edits (path: setting
``contact_config``, environment ``BOT_CONTACT_CONFIG``). While opening hours are not configured,
nothing is claimed about open or closed (the responses say "pendant nos heures d'ouverture").

The directory returns facts and states (`HoursNow`, `EveningNow`, `ContactWay`, `facts`); the sentences
are responses of domain.yml, chosen and filled by `actions.contact_hours`.

The IVR transfer instruction is a Rasa custom payload (``json_message``) of this shape, read by
the ``ivr`` channel: ``{"transfer": {"number": "4509612001", "extension": "4000"}}``; the number is
ten digits, and ``extension`` is absent when the line has none (the registration-evening line).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bot.policy.dates import MONTHS
from bot.policy.phones import spoken_phone
from bot.settings import get_settings

TRANSFER_KEY = "transfer"
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
FRENCH_WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
_SEARCH_DAYS = 400


class HoursState(str, Enum):
    """What is known of the call centre's opening at a moment."""

    UNKNOWN = "unknown"  # the city gave no opening hours: nothing is claimed
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class HoursNow:
    """The call centre at a moment: open until ``closes_at``, or closed (``holiday``?) until ``opens_day`` ``opens_at``.

    Times are written as said ("16 h 30"), the day as "aujourd'hui", "demain" or "lundi 30 novembre".
    """

    state: HoursState
    closes_at: str | None = None
    holiday: bool = False
    opens_day: str | None = None
    opens_at: str | None = None


class EveningState(str, Enum):
    """What to say of the registration-evening line."""

    TONIGHT = "tonight"  # a registration evening is under way
    UPCOMING = "upcoming"  # configured dates are ahead: name them
    FIRST_EVENINGS = "first_evenings"  # the guide's general wording


@dataclass(frozen=True)
class EveningNow:
    """The registration-evening line at a moment; ``days`` names the upcoming evenings ("mardi 12 janvier")."""

    state: EveningState
    days: str | None = None


class ContactWay(str, Enum):
    """A way to reach a person."""

    CALL_CENTRE = "call_centre"
    EVENING_LINE = "evening_line"
    EMAIL = "email"
    IN_PERSON = "in_person"


class ContactConfigError(ValueError):
    """The contact file is malformed; the message says where."""


@dataclass(frozen=True)
class Line:
    """A phone line: the number as written ("450 961-2001") and its extension, if any."""

    phone: str
    extension: str | None = None

    @property
    def digits(self) -> str:
        """The number's ten digits."""
        return re.sub(r"\D", "", self.phone)[-10:]

    @property
    def spoken(self) -> str:
        """"450 961-2001, poste 4000"."""
        return spoken_phone(self.digits, self.extension)

    def transfer(self) -> dict:
        """The IVR transfer instruction for this line."""
        target = {"number": self.digits}
        if self.extension:
            target["extension"] = self.extension
        return {TRANSFER_KEY: target}


@dataclass(frozen=True)
class ContactDirectory:
    """Where and when citizens reach a person, with the logic of hours, holidays and evenings."""

    timezone: ZoneInfo
    call_centre_name: str
    call_centre: Line
    evening_line: Line
    evening_start: time
    evening_end: time
    evening_dates: tuple[date, ...]
    email: str
    in_person: tuple[str, ...]
    portal_url: str
    opening_hours: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    next_registration_date: date | None = None

    @property
    def hours_configured(self) -> bool:
        """Whether the city gave opening hours (otherwise nothing is claimed about open or closed)."""
        return any(self.opening_hours.values())

    def local(self, now: datetime) -> datetime:
        """``now`` in the city's time zone; a naive datetime is taken as UTC."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=ZoneInfo("UTC"))
        return now.astimezone(self.timezone)

    def now(self) -> datetime:
        """The current time in the city's time zone."""
        return datetime.now(self.timezone)

    def is_registration_evening_now(self, now: datetime) -> bool:
        """Whether ``now`` is on a configured registration evening, between its start and end."""
        local = self.local(now)
        return local.date() in self.evening_dates and self.evening_start <= local.time() < self.evening_end

    def is_holiday(self, day: date) -> bool:
        """Whether the call centre is closed all day on ``day``."""
        return day in self.holidays

    def _periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening periods of ``day`` as aware datetimes."""
        if self.is_holiday(day):
            return []
        return [
            (datetime.combine(day, start, self.timezone), datetime.combine(day, end, self.timezone))
            for start, end in self.opening_hours.get(day.weekday(), ())
        ]

    def open_now(self, now: datetime) -> bool | None:
        """Whether the call centre is open at ``now``; None when hours are not configured."""
        return None if not self.hours_configured else self.closing_time(now) is not None

    def closing_time(self, now: datetime) -> datetime | None:
        """When the current opening period ends, or None when closed or not configured."""
        local = self.local(now)
        for start, end in self._periods(local.date()):
            if start <= local < end:
                return end
        return None

    def next_opening(self, now: datetime) -> datetime | None:
        """The start of the next opening period after ``now``; None when hours are not configured."""
        if not self.hours_configured:
            return None
        local = self.local(now)
        for offset in range(_SEARCH_DAYS):
            for start, _ in self._periods(local.date() + timedelta(days=offset)):
                if start > local:
                    return start
        return None

    def hours_now(self, now: datetime) -> HoursNow:
        """Whether the call centre is open at ``now``, until when, or when it opens next."""
        if not self.hours_configured:
            return HoursNow(HoursState.UNKNOWN)
        local = self.local(now)
        closing = self.closing_time(local)
        if closing:
            return HoursNow(HoursState.OPEN, closes_at=french_time(closing.time()))
        opening = self.next_opening(local)
        return HoursNow(
            HoursState.CLOSED,
            holiday=self.is_holiday(local.date()),
            opens_day=_when(opening, local.date()) if opening else None,
            opens_at=french_time(opening.time()) if opening else None,
        )

    def upcoming_evenings(self, now: datetime) -> list[date]:
        """The configured registration evenings from today on."""
        today = self.local(now).date()
        return sorted(day for day in self.evening_dates if day >= today)

    def evening_now(self, now: datetime) -> EveningNow:
        """The registration-evening line: tonight's, the upcoming dates, or the guide's general wording."""
        if self.is_registration_evening_now(now):
            return EveningNow(EveningState.TONIGHT)
        upcoming = self.upcoming_evenings(now)
        if upcoming:
            return EveningNow(EveningState.UPCOMING, days=_join([_french_day(day) for day in upcoming]))
        return EveningNow(EveningState.FIRST_EVENINGS)

    def reach_order(self, now: datetime) -> list[ContactWay]:
        """Every way to reach a person, in the order to say them; tonight's evening line first."""
        first = [ContactWay.CALL_CENTRE, ContactWay.EVENING_LINE]
        if self.is_registration_evening_now(now):
            first.reverse()
        return [*first, ContactWay.EMAIL, ContactWay.IN_PERSON]

    def facts(self, spoken: bool = False) -> dict[str, str]:
        """The contact facts as values to put in a sentence, written to be read or (``spoken``) said."""
        return {
            "call_centre_name": self.call_centre_name,
            "call_centre": self.call_centre.spoken,
            "evening_line": self.evening_line.spoken,
            "evening_start": french_time(self.evening_start),
            "evening_end": french_time(self.evening_end),
            "city_email": spoken_email(self.email) if spoken else self.email,
            "in_person": " ou ".join(self.in_person),
        }

    def transfer_instruction(self, now: datetime) -> dict:
        """The IVR transfer: the evening line during a registration evening, else the call centre."""
        line = self.evening_line if self.is_registration_evening_now(now) else self.call_centre
        return line.transfer()


def french_time(value: time) -> str:
    """A time as written and said in Quebec French: "8 h 30", "19 h"."""
    return f"{value.hour} h {value.minute:02d}" if value.minute else f"{value.hour} h"


def spoken_email(email: str) -> str:
    """An email address as said aloud: "loisirs arobase ville point terrebonne point qc point ca"."""
    return email.replace("@", " arobase ").replace(".", " point ").replace("  ", " ").strip()


def _french_day(day: date) -> str:
    """"mardi 12 janvier"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{FRENCH_WEEKDAYS[day.weekday()]} {number} {MONTHS[day.month - 1]}"


def _when(moment: datetime, today: date) -> str:
    """"aujourd'hui", "demain" or "lundi 30 novembre"."""
    if moment.date() == today:
        return "aujourd'hui"
    if moment.date() == today + timedelta(days=1):
        return "demain"
    return _french_day(moment.date())


def _join(items: list[str]) -> str:
    """"a", "a et b", "a, b et c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]


def _time(value: object, where: str) -> time:
    """A "HH:MM" value of the file."""
    try:
        return time.fromisoformat(str(value))
    except ValueError as error:
        raise ContactConfigError(f"{where}: heure invalide {value!r} (attendu HH:MM)") from error


def _date(value: object, where: str) -> date:
    """An ISO date of the file (YAML may already have parsed it)."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise ContactConfigError(f"{where}: date invalide {value!r} (attendu AAAA-MM-JJ)") from error


def _opening_hours(raw: object) -> dict[int, tuple[tuple[time, time], ...]]:
    """Opening hours per weekday number (0 = Monday)."""
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise ContactConfigError("opening_hours: attendu un dictionnaire jour -> liste de [début, fin]")
    hours = {}
    for name, periods in raw.items():
        if name not in WEEKDAYS:
            raise ContactConfigError(f"opening_hours: jour inconnu {name!r} (attendu {', '.join(WEEKDAYS)})")
        parsed = []
        for period in periods or []:
            if not isinstance(period, (list, tuple)) or len(period) != 2:
                raise ContactConfigError(f"opening_hours.{name}: attendu [début, fin], reçu {period!r}")
            start, end = _time(period[0], f"opening_hours.{name}"), _time(period[1], f"opening_hours.{name}")
            if end <= start:
                raise ContactConfigError(f"opening_hours.{name}: la fin doit suivre le début")
            parsed.append((start, end))
        hours[WEEKDAYS.index(name)] = tuple(sorted(parsed))
    return hours


def load_directory(path: Path) -> ContactDirectory:
    """Read the contact file at ``path``."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    try:
        centre = raw["call_centre"]
        evening = raw["registration_evening_line"]
        return ContactDirectory(
            timezone=ZoneInfo(raw.get("timezone") or get_settings().timezone),
            call_centre_name=centre["name"],
            call_centre=Line(str(centre["phone"]), str(centre["extension"]) if centre.get("extension") else None),
            evening_line=Line(str(evening["phone"])),
            evening_start=_time(evening.get("start", "19:00"), "registration_evening_line.start"),
            evening_end=_time(evening.get("end", "20:30"), "registration_evening_line.end"),
            evening_dates=tuple(
                sorted(_date(d, "registration_evening_line.dates") for d in evening.get("dates") or [])
            ),
            email=raw["email"],
            in_person=tuple(raw.get("in_person") or []),
            portal_url=raw["portal_url"],
            opening_hours=_opening_hours(raw.get("opening_hours")),
            holidays=frozenset(_date(d, "holidays") for d in raw.get("holidays") or []),
            next_registration_date=(
                _date(raw["next_registration_date"], "next_registration_date")
                if raw.get("next_registration_date")
                else None
            ),
        )
    except KeyError as error:
        raise ContactConfigError(f"{path}: champ obligatoire manquant {error}") from error


_cache: dict[Path, tuple[float, ContactDirectory]] = {}


def get_directory() -> ContactDirectory:
    """The directory from the configured file, re-read when the city edits it."""
    path = get_settings().contact_config
    mtime = path.stat().st_mtime
    cached = _cache.get(path)
    if cached is None or cached[0] != mtime:
        _cache[path] = (mtime, load_directory(path))
    return _cache[path][1]

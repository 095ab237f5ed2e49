"""Redaction of personal data in text, tracker events and log records, with typed placeholders.

What is redacted, and by what:

- card numbers and card digits (5 digits or more, grouped or not, or spelled out) -> ``[carte]``
- dates (numeric, "12 mars 1985", spoken "douze mars mille neuf cent ...") -> ``[date]``
- phone numbers (North American shapes, with or without area code) -> ``[téléphone]``
- email addresses (also spoken: "... arobase ... point com") -> ``[courriel]``
- passwords (`bot.policy.password.password_spans`) -> ``[mot de passe]``: strictly (any token mixing
  letters with digits or symbols) where a password is expected — a message that speaks of a password
  or whose intent is one of `PASSWORD_INTENTS` (the password check), the message that answers one of
  the assistant's password answers, log lines, and the bot's own texts; in other messages only a token
  that still looks like a password once ordinary punctuation and numbers with units are read as such,
  so that "ok,merci", "bon/mauvais", "(soccer)" or "9h-12h" stay readable in the help desk's report
- a value under a password key of a payload or of metadata (`PASSWORD_KEYS`), whatever it looks like
- signed tokens (JWT) in message metadata -> ``[jeton]``

The city's own public numbers and email (config/contact.yml) are not personal and stay.

Contract with the rest of the assistant (see also `bot.tracker_store`):

- The tracker store keeps every event redacted: user texts, ``parse_data``, entity values, message
  metadata, bot texts and the values of slots. Analytics and history only ever see placeholders.
- Within one turn, actions see the real user message, entities and slots (the in-memory tracker).
- Across turns, a slot whose value was redacted is given back its real value for
  ``personal_slot_ttl_seconds`` (a short-lived side store keyed by conversation, in process or in
  Redis); after that the slot reads ``None`` and a form asks again. Past user *texts* come back
  redacted: an action reads personal data from slots or from the latest message, never from old
  events.
- A slot is personal, and stored only as its placeholder, when the conversation contract declares
  its kind (`bot.contract.personal_slot_kinds`: each guided flow's slots, and the slots of the personal
  entities), whatever its name. As a second net, an undeclared slot whose name contains one of the
  fragments of `PERSONAL_SLOT_FRAGMENTS` (``card_digits``, ``birth``, ``phone``, ``email``,
  ``password``, ...) is treated the same. Other slots are pattern-redacted.
- Log records of both servers go through `install_log_redaction()` (installed on import of
  `bot.tracker_store` in the Rasa server and of the ``actions`` package in the action server).
"""
from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from bot.contract import PERSONAL_ENTITIES, Kind, personal_slot_kinds
from bot.policy.emails import EMAIL_PATTERN
from bot.policy.password import looks_like_password, password_spans
from bot.session import is_personal_answer, redact_personal_answer
from bot.settings import get_settings

PLACEHOLDERS = tuple(kind.value for kind in Kind)
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))

# An undeclared slot whose name holds one of these fragments also stores only its placeholder.
PERSONAL_SLOT_FRAGMENTS: tuple[tuple[str, Kind], ...] = (
    ("card_digits", Kind.CARD),
    ("card_number", Kind.CARD),
    ("birth", Kind.DATE),
    ("phone", Kind.PHONE),
    ("email", Kind.EMAIL),
    ("courriel", Kind.EMAIL),
    ("password", Kind.PASSWORD),
    ("token", Kind.TOKEN),
)

# Keys of message metadata whose value is a credential, whatever it looks like.
SECRET_KEYS = {"token", "jwt", "authorization", "access_token", "id_token", "client_session"}
# Keys (in metadata or a payload's JSON) whose value is a password, whatever it looks like.
PASSWORD_KEYS = {"password", "passwd", "mot_de_passe", "motdepasse", "mdp"}

MIN_CARD_DIGITS = 5

# Intents of messages about a password (the password check reads the password typed in them).
PASSWORD_INTENTS = frozenset({"ask_password_rules", "password_rejected", "forgot_password", "login_problem"})
# A message that speaks of a password: its password-like tokens are read strictly.
_SPEAKS_OF_PASSWORD = re.compile(r"mots?\s*de\s*passe|\bmdp\b|pass\s*word|\bpasswd\b|\bpassword", re.IGNORECASE)


def expects_password(action_name: str | None) -> bool:
    """Whether the citizen's next message may hold a password: the assistant's last action spoke of one."""
    return bool(action_name) and "password" in str(action_name)

_SPOKEN_EMAIL = re.compile(
    r"[\w.\-]+(?:\s+(?:point|tiret)\s+[\w\-]+)*\s+(?:arobase|at)\s+[\w\-]+(?:\s+point\s+[\w\-]+)+",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_PAREN_PHONE = re.compile(r"(?:\+?1[\s.\-]?)?\(\d{3}\)\s?\d{3}[\s.\-]?\d{4}(?!\d)")
_DIGIT_RUN = re.compile(r"(?<![\w])\+?\d+(?:(?:[ \-./]|, )\d+)*(?![\w])")
_NUMERIC_DATE = re.compile(
    r"(?:19|20)\d{2}[\-./ ](?:0?[1-9]|1[0-2])[\-./ ](?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])[\-./ ](?:0?[1-9]|1[0-2])[\-./ ](?:(?:19|20)\d{2}|\d{2})"
    r"|(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
)
# "é" and "û" also as JSON escapes, the way structured log lines write them.
_E, _U = r"(?:[ée]|\\u00e9)", r"(?:[uû]|\\u00fb)"
_MONTHS = (
    rf"janvier|janv\.?|f{_E}vrier|f{_E}vr?\.?|mars|avril|avr\.?|mai|juin|juillet|juil\.?|ao{_U}t"
    rf"|septembre|sept\.?|octobre|oct\.?|novembre|nov\.?|d{_E}cembre|d{_E}c\.?"
)
_NUMBER_WORDS = (
    r"z[ée]ro|une?|premier|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze"
    r"|quinze|seize|vingts?|trente|quarante|cinquante|soixante|cents?|mille|et"
)
_NUMBER_PHRASE = rf"(?:{_NUMBER_WORDS})(?:[\s\-]+(?:{_NUMBER_WORDS}))*"
_DAY = rf"(?:1er|\d{{1,2}}|{_NUMBER_PHRASE})"
_YEAR = rf"(?:\d{{4}}|'?\d{{2}}|{_NUMBER_PHRASE})"
_TEXT_DATE = re.compile(
    rf"\b(?:{_DAY}\s+(?:{_MONTHS})(?:\s+{_YEAR})?|(?:{_MONTHS})\s+(?:\d{{4}}|{_NUMBER_PHRASE}))(?![\w])",
    re.IGNORECASE,
)
_SPOKEN_DIGITS = re.compile(
    r"\b(?:z[ée]ro|un|deux|trois|quatre|cinq|six|sept|huit|neuf)"
    r"(?:[\s,\-]+(?:z[ée]ro|un|deux|trois|quatre|cinq|six|sept|huit|neuf)){4,}\b",
    re.IGNORECASE,
)
_PASSWORD_CONTEXT = re.compile(
    r"\b(?:password\w*|mot de passe)\s*[:=]\s*[«\"'“]?\s*(?P<value>[^\s,;}«»\"'“”]+)", re.IGNORECASE
)
_WRAPPERS = "'\"()[]{}<>,;:«»“”"
# Words of log lines that are code, not typed text: snake_case and dotted names without digits, addresses, paths.
_LOG_CODE_TOKEN = re.compile(
    r"^(?:(?=.*[_.\-])[A-Za-z_.\-]+|0x[0-9a-fA-F]+|[0-9a-f]{16,}"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\S*/\S*)$"
)
# In log lines: timestamps, network addresses and ports, versions, line numbers and process ids.
_LOG_NOT_PERSONAL = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?: [+-]\d{4})?"
    r"|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?|(?<=localhost:)\d{1,5}|(?<=\d:)\d{2,5}(?=/)"
    r"|(?<=versions/)\d+(?:\.\d+)+|(?<=python)\d+\.\d+|(?<=\bline )\d+|(?<=\] \[)\d{1,7}(?=\] \[)"
)

_JSON_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}|\\.")
_PASSWORD_WORDS = re.compile(
    r"(?:mot\s+de\s+passe|password)\s*(?:est|c'est|serait|était|[:=])?\s*[«\"'“]?\s*$", re.IGNORECASE
)
_LOG_WORD = re.compile(r"[^\s'\"()\[\]{}<>,;:=]+")
# Markdown bold in the bot's own texts (``**Créer un compte**``): a word boundary, not a symbol.
_MARKDOWN_BOLD = re.compile(r"\*\*")
Span = tuple[int, int, Kind]


@lru_cache(maxsize=1)
def public_contacts() -> frozenset[str]:
    """The city's public phone numbers (digits only) and emails (lower case), read from the contact file."""
    path = get_settings().contact_config
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return frozenset()
    found = {m.group().lower() for m in EMAIL_PATTERN.finditer(text)}
    for match in _DIGIT_RUN.finditer(text):
        digits = _digits(match.group())
        if len(digits) in (7, 10, 11):
            found.add(digits[-10:])
    return frozenset(found)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _is_public(text: str, kind: Kind) -> bool:
    public = public_contacts()
    if kind is Kind.EMAIL:
        return text.lower() in public
    if kind is Kind.PHONE:
        return _digits(text)[-10:] in public
    return False


def _classify_digit_run(run: str) -> Kind | None:
    """What a run of grouped digits is, or None when it is too short to be personal."""
    digits = _digits(run)
    bare = run.lstrip("+")
    if _NUMERIC_DATE.fullmatch(bare):
        return Kind.DATE
    groups = re.split(r"[ \-./]|, ", bare)
    if len(digits) == 10 or (len(digits) == 11 and digits.startswith("1")):
        if len(groups) == 1 or [len(g) for g in groups[-3:]] == [3, 3, 4] or run.startswith("+"):
            return Kind.PHONE
    if len(digits) == 7 and [len(g) for g in groups] == [3, 4]:
        return Kind.PHONE
    if len(digits) >= MIN_CARD_DIGITS:
        return Kind.CARD
    return None


def find_spans(
    text: str, *, passwords: bool = True, log_line: bool = False, password_expected: bool = False
) -> list[Span]:
    """The personal spans of ``text``, without overlaps, in order.

    ``passwords``: also look for password-like tokens (texts people typed).
    ``log_line``: a log line; code-like tokens (snake_case names, paths) are not passwords.
    ``password_expected``: a password may be in ``text``: password-like tokens are read strictly (a
    text that speaks of a password, and a log line, always are).
    """
    taken: list[Span] = [(m.start(), m.end(), Kind.PASSWORD) for m in _PLACEHOLDER.finditer(text)]
    if log_line:
        taken += [(m.start(), m.end(), Kind.PASSWORD) for m in _LOG_NOT_PERSONAL.finditer(text)]
    protected = len(taken)

    def add(start: int, end: int, kind: Kind) -> None:
        if all(end <= s or start >= e for s, e, _ in taken):
            taken.append((start, end, kind))

    for pattern, kind in ((_TOKEN, Kind.TOKEN), (EMAIL_PATTERN, Kind.EMAIL), (_SPOKEN_EMAIL, Kind.EMAIL)):
        for match in pattern.finditer(text):
            if not _is_public(match.group(), kind):
                add(match.start(), match.end(), kind)
    for match in _PAREN_PHONE.finditer(text):
        if not _is_public(match.group(), Kind.PHONE):
            add(match.start(), match.end(), Kind.PHONE)
    for match in _TEXT_DATE.finditer(text):
        add(match.start(), match.end(), Kind.DATE)
    # Digit runs are read around what is already taken: in "123 456 12 mars 1985" the card's digits
    # end where the date begins (read together, the run would overlap the date and be left in clear).
    around_taken = text
    for start, end, _ in taken[protected:]:
        around_taken = around_taken[:start] + "#" * (end - start) + around_taken[end:]
    for match in _DIGIT_RUN.finditer(around_taken):
        run_kind = _classify_digit_run(match.group())
        if run_kind is not None and not _is_public(match.group(), run_kind):
            add(match.start(), match.end(), run_kind)
    for match in _SPOKEN_DIGITS.finditer(text):
        add(match.start(), match.end(), Kind.CARD)
    for match in _PASSWORD_CONTEXT.finditer(text):
        add(match.start("value"), match.end("value"), Kind.PASSWORD)
    if passwords:
        strict = password_expected or bool(_SPEAKS_OF_PASSWORD.search(text))
        spans = _log_password_spans(text) if log_line else password_spans(text, strict=strict)
        for start, end in spans:
            token = text[start:end]
            core = token.strip(_WRAPPERS)
            if core:
                start += token.index(core)
                add(start, start + len(core), Kind.PASSWORD)
    return sorted(taken[protected:])


def _log_password_spans(text: str) -> list[tuple[int, int]]:
    """Password-like spans of a log line, where quotes, brackets and JSON escapes separate words.

    Log lines are Python reprs and JSON: ``{\\"text\\": \\"D\\u00e9sol\\u00e9\\"}``. A copy of the line of
    the same length, with each ``\\uXXXX`` as six letters, each other escape and each markdown ``**``
    as two spaces, is cut into words; a word is a password when the password check sees one and it is not code.
    """
    masked = _JSON_ESCAPE.sub(lambda m: "x" * 6 if m.group().startswith("\\u") else "  ", text)
    masked = _MARKDOWN_BOLD.sub("  ", masked)
    spans = []
    for match in _LOG_WORD.finditer(masked):
        word = match.group()
        if _LOG_CODE_TOKEN.match(word) or not looks_like_password(word):
            continue
        spans.append((match.start(), match.end()))
    for start, end in password_spans(masked):
        if _PASSWORD_WORDS.search(masked[max(0, start - 40) : start]):
            spans.append((start, end))
    return spans


def redact_text(text: str, *, passwords: bool = True, log_line: bool = False, password_expected: bool = False) -> str:
    """``text`` with every personal span replaced by its placeholder (``password_expected``: see `find_spans`)."""
    if not text:
        return text
    spans = find_spans(text, passwords=passwords, log_line=log_line, password_expected=password_expected)
    for start, end, kind in reversed(spans):
        text = text[:start] + kind.value + text[end:]
    return text


def _deep(value: Any, redact: Callable[[str], str]) -> Any:
    """``value`` with every string inside redacted (dict keys kept)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _deep(item, redact) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_deep(item, redact) for item in value]
    return value


def _typed_text(text: str, password_expected: bool = False) -> str:
    """A text a person typed or said: every detector, passwords included."""
    return redact_text(text, password_expected=password_expected)


_INTENT_PAYLOAD = re.compile(r"/(?P<intent>[a-z_]+)(?P<rest>.*)", re.DOTALL)
_JSON_PAIR = re.compile(r'"(?P<key>[^"\\]{1,64})"(?P<sep>\s*:\s*)(?:"(?:[^"\\]|\\.)*"|-?\d[\d.]*)')


def _key_kind(key: Any) -> Kind | None:
    """What a value is by its key alone: a credential, a password or a personal entity, or None."""
    key = str(key).lower()
    if key in SECRET_KEYS:
        return Kind.TOKEN
    if key in PASSWORD_KEYS:
        return Kind.PASSWORD
    return PERSONAL_ENTITIES.get(key)


def _payload_entities(rest: str) -> str:
    """The JSON after a payload's intent, as sent: each value placed by its key, then every detector."""
    def pair(match: re.Match[str]) -> str:
        kind = _key_kind(match.group("key"))
        return match.group() if kind is None else f'"{match.group("key")}"{match.group("sep")}"{kind.value}"'

    return _structured_text(_JSON_PAIR.sub(pair, rest))


def _user_text(text: str, intent: Any, password_expected: bool = False) -> str:
    """A user message: a button's payload (``/link_card``), which Rasa recognised as that intent of the
    domain, keeps its intent name and its entity names; any other message is typed text, read strictly
    for passwords when one is expected or when its intent is about a password."""
    match = _INTENT_PAYLOAD.fullmatch(text)
    name = intent.get("name") if isinstance(intent, dict) else None
    if match and name == match.group("intent"):
        return "/" + match.group("intent") + _payload_entities(match.group("rest"))
    return _typed_text(text, password_expected or name in PASSWORD_INTENTS)


# Strings of structured data found to hold nothing personal. Bot answers, button titles and payloads
# repeat on every turn; remembering that they are clean saves re-scanning them (about a third of the
# tracker store's time per turn). A string with something personal in it is never kept here.
_KNOWN_CLEAN: set[str] = set()
_KNOWN_CLEAN_MAX = 4_096
_KNOWN_CLEAN_MAX_CHARS = 2_000


def _structured_text(text: str) -> str:
    """A string inside structured data (payloads, metadata, bot texts): identifiers are not passwords."""
    if text in _KNOWN_CLEAN:
        return text
    redacted = redact_text(text, passwords=True, log_line=True)
    if redacted == text and len(text) <= _KNOWN_CLEAN_MAX_CHARS:
        if len(_KNOWN_CLEAN) >= _KNOWN_CLEAN_MAX:
            _KNOWN_CLEAN.clear()
        _KNOWN_CLEAN.add(text)
    return redacted


def slot_kind(name: str) -> Kind | None:
    """The kind of personal data a slot holds: as the contract declares it, else guessed from its name, or None."""
    declared = personal_slot_kinds().get(name)
    if declared is not None:
        return declared
    lowered = name.lower()
    for fragment, kind in PERSONAL_SLOT_FRAGMENTS:
        if fragment in lowered:
            return kind
    return None


def redact_slot_value(name: str, value: Any) -> Any:
    """The value a slot is stored with: its placeholder when personal, else pattern-redacted."""
    if value is None or isinstance(value, bool):
        return value
    kind = slot_kind(name)
    if kind is not None:
        return kind.value
    return _redact_metadata(value)


def _redact_entities(entities: Iterable[Any], password_expected: bool = False) -> list[Any]:
    redacted = []
    for entity in entities:
        if not isinstance(entity, dict):
            redacted.append(_deep(entity, lambda text: _typed_text(text, password_expected)))
            continue
        entity = dict(entity)
        kind = PERSONAL_ENTITIES.get(str(entity.get("entity")))
        for key in ("value", "text"):
            if key in entity and entity[key] is not None:
                entity[key] = kind.value if kind else _deep(entity[key], lambda t: _typed_text(t, password_expected))
        redacted.append(entity)
    return redacted


def _redact_metadata(metadata: Any) -> Any:
    """Metadata with the values of credential, password and personal keys (``token``, ``password``,
    ``email``...) replaced whatever their shape, and the rest pattern-redacted."""
    if isinstance(metadata, dict):
        return {
            key: kind.value if (kind := _key_kind(key)) is not None and value else _redact_metadata(value)
            for key, value in metadata.items()
        }
    return _deep(metadata, _structured_text)


def redact_event(event: dict[str, Any], *, password_expected: bool = False) -> dict[str, Any]:
    """A copy of a serialised Rasa event with its personal data replaced by placeholders.

    ``password_expected``: a user event answering the assistant's words about a password
    (`expects_password` of the last action); its text is then read strictly for passwords.
    """
    event = copy.deepcopy(event)
    kind = event.get("event")
    parse_data: dict[str, Any] = event["parse_data"] if isinstance(event.get("parse_data"), dict) else {}
    if kind == "user":
        intent = parse_data.get("intent")
        password_expected = (
            password_expected
            or (isinstance(intent, dict) and intent.get("name") in PASSWORD_INTENTS)
            or bool(_SPEAKS_OF_PASSWORD.search(str(event.get("text") or "")))
        )
    if isinstance(event.get("text"), str):
        event["text"] = (_user_text(event["text"], parse_data.get("intent"), password_expected) if kind == "user"
                         else _structured_text(event["text"]))
    if kind == "user" and parse_data:
        if isinstance(parse_data.get("text"), str):
            parse_data["text"] = _user_text(parse_data["text"], parse_data.get("intent"), password_expected)
        if isinstance(parse_data.get("entities"), list):
            parse_data["entities"] = _redact_entities(parse_data["entities"], password_expected)
        if parse_data.get("metadata"):
            parse_data["metadata"] = _redact_metadata(parse_data["metadata"])
    if isinstance(event.get("entities"), list):
        event["entities"] = _redact_entities(event["entities"], password_expected)
    if kind == "slot" and "value" in event:
        event["value"] = redact_slot_value(str(event.get("name", "")), event["value"])
    for key in ("metadata", "data"):
        if event.get(key):
            event[key] = _redact_metadata(event[key])
    if is_personal_answer(event):  # an identified person's data, said by the bot (bot/session.py)
        event = redact_personal_answer(event)
    return event


# --- Logs ---


def redact_log_message(message: str) -> str:
    """A log line with its personal data replaced (code-like tokens are left readable)."""
    return redact_text(message, log_line=True)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the message and the traceback of every record it sees.

    Usable in a ``logging.config.dictConfig`` file as ``{"()": "bot.privacy.RedactingFilter"}``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def _redact_record(record: logging.LogRecord) -> None:
    if getattr(record, "_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a malformed log call must not hide the record
        message = str(record.msg)
    record.msg = redact_log_message(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact_log_message(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact_log_message(record.stack_info)
    record._redacted = True


_installed_factory: Callable[..., logging.LogRecord] | None = None


def install_log_redaction() -> None:
    """Redact every log record of this process at its creation, whatever logger or handler emits it.

    Idempotent. Installed as a log-record factory, so it also covers handlers configured later
    (Sanic's, Rasa's file and console handlers).
    """
    global _installed_factory
    current = logging.getLogRecordFactory()
    if current is _installed_factory:
        return
    previous = current

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    _installed_factory = factory
    logging.setLogRecordFactory(factory)

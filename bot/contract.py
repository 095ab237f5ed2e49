"""The conversation contract: names shared by the actions, the phone channel, the privacy layer and the report.

Every string that two parts of the project must spell the same way is declared here once: the handoff
record (its slots and reasons), the keys of the custom payloads the actions send to the phone
channel, the kinds of personal data, one record per guided flow (`Flow`), and one per flow that a
second value given right after its end starts again (`AnotherTry`).

Adding a guided flow: one `Flow` record in `FLOWS` (its slots, each with its kind of personal data
and its parser), its responses in domain.yml (``utter_ask_<slot>`` and the ``utter_hint_<code>`` of
its parsers' codes), its form in domain.yml, and its rules in data/rules_flows.yml. The actions
(`actions/forms.py`), the privacy layer and the report read the rest from here;
tests/bot/test_contract.py fails when the record, domain.yml and the rules disagree.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from bot.policy.card import CardNote, CardProblem, parse_card_digits
from bot.policy.date_or_phone import DateOrPhoneProblem, parse_date_or_phone
from bot.policy.dates import MAX_AGE_YEARS, DateProblem
from bot.policy.details import Details
from bot.policy.emails import EmailProblem, parse_email
from bot.policy.parsed import Parsed, hint_response
from bot.policy.phones import PhoneProblem

# --- The handoff record, written by the escalation and read by the help-desk report ---
HANDOFF_REASON_SLOT = "handoff_reason"
HANDOFF_TOPIC_SLOT = "handoff_topic"
HANDOFF_TRIED_SLOT = "handoff_tried"
HANDOFF_SLOTS = (HANDOFF_REASON_SLOT, HANDOFF_TOPIC_SLOT, HANDOFF_TRIED_SLOT)


class HandoffReason(str, Enum):
    """Why a conversation was handed to a person (the value of ``handoff_reason``)."""

    REQUEST_HUMAN = "request_human"
    REPEATED_FALLBACK = "repeated_fallback"
    LOCKED = "locked"
    REPEATED_INVALID_INPUT = "repeated_invalid_input"
    BACKEND_UNAVAILABLE = "backend_unavailable"
    # Asked for by the phone channel (bot/channels/ivr.py): a third unclear turn, a second silence.
    UNCLEAR_SPEECH = "unclear_speech"
    SILENCE = "silence"
    # Said by the Rasa server itself (bot/faults.py): a part it needs failed during the turn.
    TECHNICAL_PROBLEM = "technical_problem"


# --- Custom payloads the actions send to the phone channel (bot/channels/ivr.py reads them) ---
IVR_TRANSFER_KEY = "transfer"  # {"transfer": {"number": ..., "extension": ...}}
IVR_COLLECT_DIGITS_KEY = "collect_digits"  # {"collect_digits": 6}: the caller may use the keypad


# --- Kinds of personal data, with the placeholder that replaces them in the tracker store and logs ---
class Kind(str, Enum):
    """A kind of personal data and its placeholder."""

    CARD = "[carte]"
    DATE = "[date]"
    PHONE = "[téléphone]"
    EMAIL = "[courriel]"
    PASSWORD = "[mot de passe]"
    TOKEN = "[jeton]"


# Entities whose value is personal whatever it looks like; a slot filled from one holds the same kind.
PERSONAL_ENTITIES = {"card_digits": Kind.CARD, "birth_date": Kind.DATE, "phone_number": Kind.PHONE, "email": Kind.EMAIL}


# --- Guided flows ---
Reader = Callable[[str, date], Parsed[Any]]

FORM_FAILURES_SLOT = "form_failures"  # {slot: invalid answers so far}, cleared with the flow's slots
# True when the validation already said what to ask (a hint that asks again, a change of choice): the
# ask action then says nothing more, so one turn never says the same thing twice.
FORM_PROMPTED_SLOT = "form_prompted"
FORM_CORRECTED_RESPONSE = "utter_form_corrected"  # a value given earlier was replaced
FORM_NOTED_RESPONSE = "utter_form_noted"  # a value not asked yet was kept
FORM_ASK_AGAIN_RESPONSE = "utter_form_ask_again"  # "je me suis trompé": the last value is asked again
FORM_RESUME_RESPONSE = "utter_form_resume"  # "Reprenons :" before the question, after another topic
# The names (never the values) of the flow slots the citizen gave, kept in clear: a name whose slot reads
# empty is a value the slot vault lost or let expire (bot/forgotten.py).
FORM_GIVEN_SLOT = "form_given"
FORM_VALUES_LOST_RESPONSE = "utter_form_values_lost"  # the vault lost it: Redis restarted, unreachable...
FORM_VALUES_EXPIRED_RESPONSE = "utter_form_values_expired"  # kept longer than BOT_PERSONAL_SLOT_TTL_SECONDS
# Details given in any message (bot.nlu.components.PersonalDetailsExtractor fills these slots).
DETAIL_SLOTS = tuple(PERSONAL_ENTITIES)
FORM_STOPPED_RESPONSE = "utter_form_stopped"  # the person asked to stop ("laisse faire", "annuler")
FORM_TOO_MANY_FAILURES_RESPONSE = "utter_form_too_many_failures"  # before the handoff to a person
ASK_PREFIX = "utter_ask_"
# Variables every hint may use in its text.
HINT_VARIABLES: dict[str, Any] = {"max_age_years": MAX_AGE_YEARS}


@dataclass(frozen=True)
class FormSlot:
    """A value a guided flow asks for.

    ``personal``: the kind of personal data it holds (None: nothing personal); the tracker store keeps
    only its placeholder, whatever the slot's name. ``read``: its parser, given the text and today's
    date. ``codes``: every problem and note code ``read`` may return (each has its ``utter_hint_<code>``).
    ``keypad_digits``: on the phone line, the caller may type this many digits instead. ``detail``: the
    attribute of `bot.policy.details.Details` that gives it from any message. ``choices``: (pattern,
    response) pairs: a person who says they would rather give the value another way ("plutôt mon
    téléphone") gets that response, which asks for it.
    """

    name: str
    personal: Kind | None
    read: Reader
    codes: tuple[str, ...]
    detail: str
    keypad_digits: int = 0
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def prompts(self) -> tuple[str, ...]:
        """Every response that asks for it: its ask, its hints and its choices."""
        return (self.ask, *self.hints, *(response for _, response in self.choices))

    def given(self, details: Details) -> str | None:
        """Its value among ``details``, if any."""
        value = getattr(details, self.detail)
        return str(value) if value else None

    @property
    def ask(self) -> str:
        """The response that asks for it: ``utter_ask_<slot>``."""
        return ASK_PREFIX + self.name

    @property
    def hints(self) -> tuple[str, ...]:
        """The responses of its parser's problem and note codes."""
        return tuple(hint_response(code) for code in self.codes)


@dataclass(frozen=True)
class Flow:
    """One guided flow: a form, the values it asks, what the report calls it, who handles what is left.

    ``topic``: the handoff topic when it hands over to a person. ``submit``: the action run when the
    form is done (it clears the flow's slots). ``needs_unlinked_web_account``: the form asks nothing
    unless the person is logged in to the portal with an account not linked yet.
    """

    form: str
    slots: tuple[FormSlot, ...]
    label: str
    topic: str
    submit: str
    needs_unlinked_web_account: bool = False

    @property
    def validation(self) -> str:
        """The name of its validation action, ``validate_<form>``."""
        return f"validate_{self.form}"

    def slot(self, name: str) -> FormSlot | None:
        """Its slot of that name, or None."""
        return next((slot for slot in self.slots if slot.name == name), None)


def _read_card(text: str, today: date) -> Parsed[str]:
    return parse_card_digits(text)


def _read_email(text: str, today: date) -> Parsed[str]:
    return parse_email(text)


CARD_DIGITS = FormSlot(
    "form_card_digits", Kind.CARD, _read_card, (*CardProblem, *CardNote), detail="card", keypad_digits=6
)
BIRTH_DATE_OR_PHONE = FormSlot(
    "form_birth_date_or_phone",
    Kind.DATE,  # a birth date or a home phone: stored as "[date]" either way
    parse_date_or_phone,
    (*DateProblem, *PhoneProblem, *DateOrPhoneProblem),
    detail="date_or_phone",
    choices=(
        (r"t[ée]l[ée]phone|num[ée]ro de (la )?maison|\bt[ée]l\b", "utter_ask_home_phone_instead"),
        (r"\bdate\b|naissance", "utter_ask_birth_date_instead"),
    ),
)
EMAIL = FormSlot("form_email", Kind.EMAIL, _read_email, tuple(EmailProblem), detail="email")

LINK_CARD = Flow(
    form="link_card_form",
    slots=(CARD_DIGITS, BIRTH_DATE_OR_PHONE),
    label="Liaison de la Carte Accès Terrebonne",
    topic="link_card",
    submit="action_link_card_submit",
    needs_unlinked_web_account=True,
)
IDENTIFY = Flow(
    form="identify_form",
    slots=(CARD_DIGITS, BIRTH_DATE_OR_PHONE),
    label="Identification",
    topic="identify",
    submit="action_identify_submit",
)
EMAIL_CHECK = Flow(
    form="email_form",
    slots=(EMAIL,),
    label="Courriel de confirmation",
    topic="email_confirmation_missing",
    submit="action_email_confirmation_submit",
)
FLOWS: tuple[Flow, ...] = (LINK_CARD, IDENTIFY, EMAIL_CHECK)


def flow(form: str) -> Flow | None:
    """The flow of that form, or None."""
    return next((item for item in FLOWS if item.form == form), None)


def form_slots() -> tuple[str, ...]:
    """Every slot a guided flow fills, the details remembered for it and the flow's own state: what a
    flow's end clears."""
    names = dict.fromkeys(slot.name for item in FLOWS for slot in item.slots)
    return (*names, *DETAIL_SLOTS, FORM_FAILURES_SLOT, FORM_PROMPTED_SLOT, FORM_GIVEN_SLOT)


def remembered_details(get_slot: Callable[[str], Any]) -> Details:
    """The details given earlier in the conversation, from the slots that remember them."""
    born = get_slot("birth_date")
    try:
        birth_date = date.fromisoformat(born) if born else None
    except (TypeError, ValueError):  # a placeholder, should a value ever be missing from the vault
        birth_date = None
    card = get_slot("card_digits")
    return Details(
        card=card if card and str(card).isdigit() else None,
        birth_date=birth_date,
        phone=get_slot("phone_number") if str(get_slot("phone_number") or "").isdigit() else None,
        email=get_slot("email") if "@" in str(get_slot("email") or "") else None,
    )


def personal_slot_kinds() -> dict[str, Kind]:
    """Slot name -> kind of personal data, as declared: the flows' slots and the personal entities' slots."""
    kinds = dict(PERSONAL_ENTITIES)
    kinds.update({slot.name: slot.personal for item in FLOWS for slot in item.slots if slot.personal})
    return kinds


# --- Reading an intent: a clear question of the guide, or an answer ---
# Intents that answer or talk rather than ask something of the guide; a message read as any other
# intent with at least TOPIC_CONFIDENCE clearly asks that question (bot/several_questions.py,
# bot/another_try.py).
NOT_TOPICS = frozenset({
    "greet", "goodbye", "thank", "affirm", "deny", "inform", "out_of_scope", "nlu_fallback", "bot_challenge",
    "phone_handoff",
})
TOPIC_CONFIDENCE = 0.6


# --- Another try: a second value of the same kind right after a flow ended ---
# Set by a flow's end when its result may change with another value of the kind it took (no account for
# this address, a password that misses a rule, a child's card); holds for the next message only
# (bot/another_try_policy.py clears it). Its value is the `AnotherTry.restart` of the flow.
ANOTHER_TRY_SLOT = "another_try"
PASSWORD_CHECK_ACTION = "action_check_password"
# The policy that starts the flow again (bot/another_try_policy.py), as Rasa names it on the action it
# predicted: the report and the review inbox read it there (bot/analytics).
ANOTHER_TRY_POLICY = "AnotherTryPolicy"


@dataclass(frozen=True)
class AnotherTry:
    """A flow that a second value of the same kind starts again, right after it ended.

    ``restart``: the action that starts the flow again and reads the value from the message itself (a
    form at its activation, the password check); it is also the value of `ANOTHER_TRY_SLOT` that the
    flow's end sets. ``kind``: the kind of value it takes (`bot.another_try.value_of` reads it).
    ``intents``: the flow's own intents: a message read as one of them, with a value, starts it again
    too, without the guide's answer that opened it the first time.
    """

    restart: str
    kind: Kind
    intents: frozenset[str]


EMAIL_TRY = AnotherTry(EMAIL_CHECK.form, Kind.EMAIL, frozenset({"email_confirmation_missing"}))
CARD_TRY = AnotherTry(LINK_CARD.form, Kind.CARD, frozenset({"link_card"}))
PASSWORD_TRY = AnotherTry(PASSWORD_CHECK_ACTION, Kind.PASSWORD, frozenset({"password_rejected"}))
ANOTHER_TRIES: tuple[AnotherTry, ...] = (EMAIL_TRY, CARD_TRY, PASSWORD_TRY)


def another_try(restart: Any) -> AnotherTry | None:
    """The flow that ``restart`` (a value of `ANOTHER_TRY_SLOT`) starts again, or None."""
    return next((item for item in ANOTHER_TRIES if item.restart == restart), None)

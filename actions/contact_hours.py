"""How to reach a person, said with the responses of domain.yml: hours now, the evening line, email, in person.

`bot.contact` knows the facts and the states (open, closed, tonight's registration evening); this module
picks the response for each and fills it with the facts of config/contact.yml. The escalation action says
the same lines (`escalation_lines`, `hours_line`, ...) as one message with `say_list`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Line, directory, is_phone, now, respond_together
from bot.contact import ContactDirectory, ContactWay, EveningState, HoursNow, HoursState


def hours_line(contacts: ContactDirectory, moment: datetime) -> Line:
    """Whether the call centre is open now and when it opens next (the guide's wording when unknown)."""
    return hours_response(contacts.hours_now(moment))


def hours_response(hours: HoursNow) -> Line:
    """The response that says ``hours``."""
    if hours.state is HoursState.UNKNOWN:
        return Line("utter_hours_unknown", {})
    if hours.state is HoursState.OPEN:
        return Line("utter_hours_open_now", {"closes_at": hours.closes_at})
    holiday = "_holiday" if hours.holiday else ""
    if hours.opens_day is None:
        return Line(f"utter_hours_closed{holiday}", {})
    return Line(f"utter_hours_closed{holiday}_until", {"opens_day": hours.opens_day, "opens_at": hours.opens_at})


def evening_line(contacts: ContactDirectory, moment: datetime, spoken: bool = False) -> Line:
    """The registration-evening line: tonight's, the upcoming dates, or the guide's general wording."""
    evening = contacts.evening_now(moment)
    facts = contacts.facts(spoken)
    if evening.state is EveningState.TONIGHT:
        return Line("utter_evening_line_tonight", facts)
    if evening.state is EveningState.UPCOMING:
        return Line("utter_evening_line_upcoming", {**facts, "evening_days": evening.days})
    return Line("utter_evening_line_first_evenings", facts)


def call_centre_lines(contacts: ContactDirectory, moment: datetime, spoken: bool = False) -> list[Line]:
    """The call centre's number and extension, with what is known of its hours."""
    facts = contacts.facts(spoken)
    if not contacts.hours_configured:
        return [Line("utter_call_centre_line", facts)]
    return [Line("utter_call_centre_line_configured", facts), hours_line(contacts, moment)]


def email_line(contacts: ContactDirectory, spoken: bool = False) -> Line:
    """The email address, written, or spelled for speech on the phone line."""
    return Line("utter_contact_email", contacts.facts(spoken))


def in_person_line(contacts: ContactDirectory) -> Line:
    """Where to go in person."""
    return Line("utter_contact_in_person", contacts.facts())


def escalation_lines(contacts: ContactDirectory, moment: datetime, spoken: bool = False) -> list[Line]:
    """Every way to reach a person, in the order to say them; tonight's evening line first."""
    ways = {
        ContactWay.CALL_CENTRE: lambda: call_centre_lines(contacts, moment, spoken),
        ContactWay.EVENING_LINE: lambda: [evening_line(contacts, moment, spoken)],
        ContactWay.EMAIL: lambda: [email_line(contacts, spoken)],
        ContactWay.IN_PERSON: lambda: [in_person_line(contacts)],
    }
    return [line for way in contacts.reach_order(moment) for line in ways[way]()]


def say_list(dispatcher: CollectingDispatcher, tracker: Tracker, lines: list[Line]) -> None:
    """Every way to reach a person as one message: a list on the web, sentences on the phone line."""
    respond_together(dispatcher, tracker, [Line(line.response, line.variables, bullet=True) for line in lines])


class ActionHoursNow(Action):
    """Say whether the call centre is open now and when it opens next, and tonight's registration line.

    Says nothing while opening hours are not configured (the guide's "pendant nos heures d'ouverture"
    was already said) and no registration evening is under way.
    """

    def name(self) -> str:
        return "action_hours_now"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        contacts = directory()
        moment = now()
        lines = []
        if contacts.is_registration_evening_now(moment):
            lines.append(evening_line(contacts, moment, is_phone(tracker)))
        if contacts.hours_configured:
            lines.append(hours_line(contacts, moment))
        respond_together(dispatcher, tracker, lines, separator=" ")
        return []

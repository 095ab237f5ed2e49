"""After the guide's answer on hours or contact: whether the call centre is open now, once hours are configured."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import directory, now


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
            lines.append(contacts.evening_phrase(moment))
        if contacts.hours_configured:
            lines.append(contacts.hours_phrase(moment))
        if lines:
            dispatcher.utter_message(text=" ".join(lines))
        return []

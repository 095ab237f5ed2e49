"""The password check: which of the guide's rules a typed password misses, never repeating it."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import is_phone
from actions.messages import NEVER_SHARE
from bot.policy.password import GUIDE_RULES, extract_candidate


class ActionCheckPassword(Action):
    """After the guide's rules: when a password was typed, say exactly which rules it misses."""

    def name(self) -> str:
        return "action_check_password"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if is_phone(tracker):
            return []
        candidate = extract_candidate(tracker.latest_message.get("text") or "")
        if candidate is None:
            return []
        missed = GUIDE_RULES.explain_all(candidate)
        if missed:
            lines = ["Le mot de passe que vous avez écrit ne respecte pas ces règles :"]
            lines += [f"- {explanation}" for explanation in missed]
        else:
            lines = [
                "Le mot de passe que vous avez écrit respecte les règles du guide. "
                "Si le site le refuse quand même, le centre d'appels peut vous aider."
            ]
        lines.append(NEVER_SHARE)
        dispatcher.utter_message(text="\n".join(lines))
        return []

"""The password check: which of the guide's rules a typed password misses, never repeating it."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Line, is_phone, respond_together
from bot.contract import ANOTHER_TRY_SLOT, PASSWORD_CHECK_ACTION, PASSWORD_TRY
from bot.policy.password import GUIDE_RULES, LengthUnit, PasswordRules, Rule, count_words, extract_candidate


def missed_rule_response(rules: PasswordRules, rule: Rule) -> tuple[str, dict[str, Any]]:
    """The response (and its variables) that explains one missed rule, without the password."""
    if rule is not Rule.LENGTH:
        return f"utter_password_rule_{rule.value}", {}
    variables = {"count": count_words(rules.min_length)}
    if rules.length_unit is LengthUnit.CHARACTERS:
        return "utter_password_rule_length_characters", variables
    not_counted = "".join(f"_{other.value}" for other in rules.not_counted_in_length())
    return f"utter_password_rule_length_letters{not_counted}", variables


def explain(
    dispatcher: CollectingDispatcher, tracker: Tracker, candidate: str, rules: PasswordRules = GUIDE_RULES
) -> None:
    """Say, in one message, which rules ``candidate`` misses (or that it meets them), then never to share it."""
    missed = rules.check(candidate)
    if missed:
        lines = [Line("utter_password_misses_rules", {})]
        lines += [Line(*missed_rule_response(rules, rule), bullet=True) for rule in missed]
    else:
        lines = [Line("utter_password_meets_rules", {})]
    respond_together(dispatcher, tracker, [*lines, Line("utter_password_never_share", {})])


class ActionCheckPassword(Action):
    """After the guide's rules: when a password was typed, say exactly which rules it misses.

    A password typed in the next message is checked too, whatever the model reads it as (one tries
    candidates until one meets the rules; bot/another_try.py).
    """

    def name(self) -> str:
        return PASSWORD_CHECK_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if is_phone(tracker):
            return []
        candidate = extract_candidate(tracker.latest_message.get("text") or "")
        if candidate is None:
            return []
        explain(dispatcher, tracker, candidate)
        return [SlotSet(ANOTHER_TRY_SLOT, PASSWORD_TRY.restart)]

"""When "Est-ce que cela vous a aidé?" is asked, on events as the tracker store holds them."""
from __future__ import annotations

from bot.feedback import FeedbackReason, Helpful, feedback_events, is_topic, last_topic, topic_to_ask


def start() -> list[dict]:
    return [{"event": "action", "name": "action_session_start"}, {"event": "session_started"},
            {"event": "action", "name": "action_listen"}]


def ask(text: str, intent: str, *answers: str) -> list[dict]:
    events: list[dict] = [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}]
    for name in answers:
        events.append({"event": "action", "name": name})
        events.append({"event": "bot", "text": "...", "metadata": {"utter_action": name}})
    return [*events, {"event": "action", "name": "action_listen"}]


def test_asked_under_a_guide_answer_about_its_topic():
    events = start() + ask("c'est quoi les règles du mot de passe", "ask_password_rules", "utter_password_rules")
    assert topic_to_ask(events) == "ask_password_rules"


def test_not_asked_under_a_greeting_a_fallback_or_a_question_back():
    assert topic_to_ask(start() + ask("allo", "greet", "utter_greet")) is None
    assert topic_to_ask(start() + ask("blorp", "nlu_fallback", "utter_default")) is None
    assert topic_to_ask(start() + ask("mon mot de passe", "ask_password_rules", "utter_password_rules")
                        + ask("merci", "thank", "utter_thank")) is None


def test_asked_at_the_end_of_a_guided_flow():
    events = start() + ask("je veux lier ma carte", "link_card") + [
        {"event": "action", "name": "link_card_form"}, {"event": "active_loop", "name": "link_card_form"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "[carte]", "parse_data": {"intent": {"name": "inform"}}},
        {"event": "action", "name": "link_card_form"}, {"event": "active_loop", "name": None},
        {"event": "action", "name": "action_link_card_submit"}, {"event": "bot", "text": "Votre carte est liée."},
        {"event": "action", "name": "action_listen"},
    ]
    assert topic_to_ask(events) == "link_card_form"
    assert last_topic(events) == "link_card_form"


def test_never_after_a_handoff():
    events = start() + ask("mot de passe", "password_rejected", "utter_password_rejected") + [
        {"event": "user", "text": "un agent", "parse_data": {"intent": {"name": "request_human"}}},
        {"event": "action", "name": "action_escalate"}, {"event": "slot", "name": "handoff_reason", "value": "request_human"},
        {"event": "action", "name": "action_listen"},
    ] + ask("les heures?", "ask_hours", "action_hours_now")
    assert topic_to_ask(events) is None


def test_a_handoff_of_an_earlier_session_does_not_count():
    earlier = start() + [{"event": "slot", "name": "handoff_reason", "value": "request_human"}]
    carried = [{"event": "action", "name": "action_session_start"},
               {"event": "slot", "name": "handoff_reason", "value": "request_human"}]
    assert topic_to_ask(earlier + carried + ask("heures", "ask_hours", "utter_hours")) == "ask_hours"


def test_never_twice_in_a_row_nor_twice_for_one_answer():
    first = start() + ask("règles du mot de passe", "ask_password_rules", "utter_password_rules")
    asked = first + feedback_events(asked="ask_password_rules")
    assert topic_to_ask(asked) is None, "already asked under this answer"
    ignored_then_next = asked + ask("comment créer un compte", "ask_create_account", "utter_create_account")
    assert topic_to_ask(ignored_then_next) is None, "asked under the answer just before"
    later = ignored_then_next + ask("les heures", "ask_hours", "utter_hours")
    assert topic_to_ask(later) == "ask_hours"


def test_a_topic_rated_once_is_not_asked_again():
    rated = (start() + ask("règles", "ask_password_rules", "utter_password_rules")
             + feedback_events(Helpful.YES, "ask_password_rules", asked="ask_password_rules")
             + ask("heures", "ask_hours", "utter_hours") + ask("règles encore", "ask_password_rules", "utter_password_rules"))
    assert topic_to_ask(rated) is None


def test_the_recorded_events():
    assert feedback_events(Helpful.NO, "ask_hours", FeedbackReason.STILL_NEED_CALL) == [
        {"event": "slot", "name": "feedback", "value": {"helpful": "non", "topic": "ask_hours"}},
        {"event": "slot", "name": "feedback_reason", "value": "still_need_call"},
    ]


def test_topics_are_names_not_free_text():
    assert is_topic("link_card_form") and is_topic("ask_hours")
    assert not is_topic("Soleil2024!") and not is_topic("") and not is_topic(None) and not is_topic("a b")

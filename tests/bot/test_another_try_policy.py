"""The dialogue policy of another try (bot/another_try_policy.py) on Rasa's own trackers and ensemble: it
starts the flow again above the rules, once, and the offer lasts one message."""
from __future__ import annotations

import pytest
import yaml
from rasa.core.constants import RULE_POLICY_PRIORITY
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction, confidence_scores_for
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.another_try_policy import AnotherTryPolicy
from bot.contract import ANOTHER_TRY_POLICY, ANOTHER_TRY_SLOT, EMAIL_TRY, PASSWORD_TRY
from bot.settings import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
CORRECTION = "je me suis trompé, c'est jean.gagnon@example.com"


@pytest.fixture
def policy(tmp_path) -> AnotherTryPolicy:
    return AnotherTryPolicy.create(
        AnotherTryPolicy.get_default_config(), LocalModelStorage(tmp_path), Resource("another_try"),
        ExecutionContext(GraphSchema({})),
    )


def after_the_flow(
    text: str, intent: str = "out_of_scope", confidence: float = 0.77, offered: str | None = EMAIL_TRY.restart,
    normalized: str | None = None,
) -> DialogueStateTracker:
    """A tracker whose flow just ended (offering another try) and whose latest event is the next message."""
    parse_data = {"text": normalized or text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    return DialogueStateTracker.from_events(
        "another-try",
        [
            ActionExecuted("action_listen"),
            UserUttered("jean.gagon@example.com", intent={"name": "inform", "confidence": 0.98}),
            ActionExecuted("action_email_confirmation_submit"),
            BotUttered("Je ne trouve pas de compte avec cette adresse courriel."),
            SlotSet(ANOTHER_TRY_SLOT, offered),
            ActionExecuted("action_listen"),
            UserUttered(text, intent=parse_data["intent"], parse_data=parse_data),
        ],
        slots=DOMAIN.slots,
    )


def predicted(prediction: PolicyPrediction) -> str | None:
    """The action a prediction names with full confidence, or None."""
    return DOMAIN.action_names_or_texts[prediction.max_confidence_index] if prediction.max_confidence == 1.0 else None


def cleared(prediction: PolicyPrediction) -> bool:
    return SlotSet(ANOTHER_TRY_SLOT, None) in prediction.events


def test_a_correction_read_as_off_topic_starts_the_email_check_again(policy):
    prediction = policy.predict_action_probabilities(after_the_flow(CORRECTION), DOMAIN)
    assert predicted(prediction) == "email_form"
    assert cleared(prediction), "the offer holds for this message only"
    assert prediction.policy_priority > RULE_POLICY_PRIORITY


def test_a_retyped_password_is_checked_again(policy):
    tracker = after_the_flow("non attends je l'avais écrit Soleilbleu2024!", offered=PASSWORD_TRY.restart)
    assert predicted(policy.predict_action_probabilities(tracker, DOMAIN)) == "action_check_password"


def test_the_text_read_by_the_model_is_the_one_read_here(policy):
    heard = "ah non excusez c'est jean point gagnon arobase example point com"
    tracker = after_the_flow(heard, normalized="ah non excusez c'est jean.gagnon@example.com")
    assert predicted(policy.predict_action_probabilities(tracker, DOMAIN)) == "email_form"


def test_a_message_without_a_value_goes_to_the_rules_and_the_offer_ends(policy):
    prediction = policy.predict_action_probabilities(after_the_flow("ah ok merci", intent="thank"), DOMAIN)
    assert prediction.max_confidence == 0.0
    assert cleared(prediction)


def test_a_clear_other_question_goes_to_the_rules(policy):
    tracker = after_the_flow("comment je me connecte avec jean.gagnon@example.com?", "ask_login_field", 0.98)
    assert policy.predict_action_probabilities(tracker, DOMAIN).max_confidence == 0.0


def test_nothing_without_an_offer(policy):
    prediction = policy.predict_action_probabilities(after_the_flow(CORRECTION, offered=None), DOMAIN)
    assert prediction.max_confidence == 0.0 and prediction.events == []


def test_nothing_once_the_turn_goes_on_or_inside_a_form(policy):
    tracker = after_the_flow(CORRECTION)
    tracker.update(ActionExecuted("utter_out_of_scope"))
    prediction = policy.predict_action_probabilities(tracker, DOMAIN)
    assert prediction.max_confidence == 0.0 and prediction.events == []
    tracker = after_the_flow(CORRECTION)
    tracker.update(ActiveLoop("identify_form"))
    tracker.update(ActionExecuted("action_listen"))
    assert policy.predict_action_probabilities(tracker, DOMAIN).max_confidence == 0.0


def test_it_wins_over_the_rule_for_off_topic_messages_and_clears_the_offer_either_way(policy):
    tracker = after_the_flow(CORRECTION)
    rule = PolicyPrediction(confidence_scores_for("utter_out_of_scope", 1.0, DOMAIN), "RulePolicy", RULE_POLICY_PRIORITY)
    ensemble = DefaultPolicyPredictionEnsemble()
    best = ensemble.combine_predictions([rule, policy.predict_action_probabilities(tracker, DOMAIN)], tracker, DOMAIN)
    assert predicted(best) == "email_form" and cleared(best)
    assert best.policy_name == ANOTHER_TRY_POLICY, "the name the report reads on the action (bot/analytics)"
    tracker = after_the_flow("ah ok merci", intent="out_of_scope")
    best = ensemble.combine_predictions([rule, policy.predict_action_probabilities(tracker, DOMAIN)], tracker, DOMAIN)
    assert predicted(best) == "utter_out_of_scope" and cleared(best)


def test_training_learns_nothing_and_the_policy_loads_back(policy, tmp_path):
    resource = policy.train([], DOMAIN)
    loaded = AnotherTryPolicy.load(
        AnotherTryPolicy.get_default_config(), LocalModelStorage(tmp_path), resource, ExecutionContext(GraphSchema({}))
    )
    assert predicted(loaded.predict_action_probabilities(after_the_flow(CORRECTION), DOMAIN)) == "email_form"


def test_the_assistant_runs_it():
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    assert "bot.another_try_policy.AnotherTryPolicy" in [policy["name"] for policy in config["policies"]]

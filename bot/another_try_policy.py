"""The dialogue policy of config.yml that starts a flow again with a second value given right after it
ended (`bot.another_try`): "je me suis trompé, c'est jean.gagnon@…" after "Je ne trouve pas de compte".

It learns nothing. Right after a message, when the flow that just ended set `bot.contract.ANOTHER_TRY_SLOT`,
it predicts the flow's restart action (a form reads the value at its activation, the password check reads
the message) above every rule (its priority is the rule policy's plus one), whatever intent the model
read, unless the message clearly asks another question; and the offer is cleared either way, so that it
holds for that one message. What follows the restart action is the flow's own rules: the form's submit,
and "the password check waits for the next message" (data/rules_flows.yml).
"""
from __future__ import annotations

from typing import Any

from rasa.core.constants import POLICY_PRIORITY, RULE_POLICY_PRIORITY
from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer
from rasa.core.policies.policy import Policy, PolicyPrediction, confidence_scores_for
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.another_try import restart
from bot.contract import ANOTHER_TRY_SLOT
from bot.settings import city_today


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class AnotherTryPolicy(Policy):
    """Starts a flow again with the value of the message that follows its end (see the module's docstring)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {POLICY_PRIORITY: RULE_POLICY_PRIORITY + 1}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: TrackerFeaturizer | None = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.storage = model_storage
        self.resource = resource

    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn: the trained policy is an empty directory."""
        with self.storage.write_to(self.resource):
            pass
        return self.resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """The flow's restart action right after the message that follows its end, when the message
        holds a value of its kind; nothing otherwise. The offer is cleared after that message either way."""
        offered = tracker.get_slot(ANOTHER_TRY_SLOT)
        scores = [0.0] * domain.num_actions
        if not offered or tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.active_loop_name:
            return self.predict(scores)
        message = tracker.latest_message
        intent = (message.intent if message else None) or {}
        text = str((message.parse_data or {}).get("text") or message.text or "") if message else ""
        action = restart(offered, intent.get("name"), float(intent.get("confidence") or 0.0), text, city_today())
        if action is not None and action in domain.action_names_or_texts:
            scores = confidence_scores_for(action, 1.0, domain)
        return self.predict(scores, events=[SlotSet(ANOTHER_TRY_SLOT, None)])

    def predict(self, scores: list[float], events: list[Any] | None = None) -> PolicyPrediction:
        """A prediction of this policy; ``events`` are applied whichever policy wins."""
        return PolicyPrediction(scores, type(self).__name__, self.priority, events=events)

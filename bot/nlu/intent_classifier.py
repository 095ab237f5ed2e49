"""Rasa's logistic-regression intent classifier, with its regularisation and class weights set in config.yml.

Rasa 3.6's ``LogisticRegressionClassifier`` fixes ``C=1`` and ``class_weight="balanced"``. Measured by
`make eval` on this project's data (docs/production.md, "A leaner turn"), that pair sends the most
citizens' questions to the fallback and rejects the least everyday talk; ``C=30`` without class
weights does best. An empty or blank message gets no intent instead of failing the turn. Everything
else (features, training, ranking, saving with skops) is Rasa's.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TunedLogisticRegressionClassifier(LogisticRegressionClassifier):
    """``LogisticRegressionClassifier`` whose ``C`` and ``class_weight`` come from the component's config."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's defaults, plus Rasa's fixed values of ``C`` and ``class_weight``."""
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0, "class_weight": "balanced"}

    def __init__(self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]), class_weight=self.config["class_weight"])

    def process(self, messages: list[Message]) -> list[Message]:
        """Rasa's prediction; a message whose features do not have the trained width gets no intent.

        An empty or blank text gets no token, so some featurisers give it nothing and its row is
        narrower than the model's: Rasa's classifier raises and would fail the whole turn. Such a
        message gets a confidence of 0 instead, so the FallbackClassifier sends it to the fallback.
        The other messages are predicted in one batch, as Rasa does.
        """
        try:
            return super().process(messages)
        except ValueError:  # rows of different widths, or not the trained width
            pass
        for message in messages:
            try:
                super().process([message])
            except ValueError:
                message.set("intent", {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set("intent_ranking", [], add_to_output=True)
        return messages

"""Rasa's logistic-regression intent classifier, with its regularisation and class weights set in config.yml.

Rasa 3.6's ``LogisticRegressionClassifier`` fixes ``C=1`` and ``class_weight="balanced"``. Measured by
`make eval` on this project's data (docs/production.md, "A leaner turn"), that pair sends the most
citizens' questions to the fallback and rejects the least everyday talk; ``C=30`` without class
weights does best. An empty or blank message gets no intent instead of failing the turn. Everything
else (features, training, ranking, saving with skops) is Rasa's.

Rasa's ``_create_X`` builds each message's row through ``Message.get_sparse_features`` and
``get_dense_features``: a deep copy of every feature, a scipy ``hstack`` per featurizer for the sequence
features (which the classifier never reads) and the sentence features, and a coo-to-csr round trip per
message, about a third of the NLU parse's CPU. `sentence_matrix` builds the same CSR matrix (same shape,
dtype, row order, column indices and values) straight from the sentence features. The loaded model's
coefficients are kept in Fortran order: scipy's sparse product copied the whole transposed coefficient
matrix to C order on every prediction; the product reads the same numbers in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix, csr_matrix

from bot import rasa_compat

# `_create_X` is a private method of Rasa's classifier: the direct build replaces it only on the Rasa
# release it was checked against (bot/rasa_compat.py); on another one Rasa's own runs.
_DIRECT_BUILD = rasa_compat.is_supported()


def _sentence_row(features: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(column indices, values) of a one-row sparse matrix whose columns are strictly increasing.

    None for anything else (several rows, unsorted or repeated columns): Rasa's path then decides.
    """
    if features.shape[0] != 1:
        return None
    if isinstance(features, coo_matrix):
        columns, values = features.col, features.data
    elif isinstance(features, csr_matrix):
        columns, values = features.indices, features.data
    else:
        return None
    if columns.size > 1 and not bool((columns[1:] > columns[:-1]).all()):
        return None
    return columns, values


def sentence_matrix(messages: Sequence[Message]) -> csr_matrix | None:
    """The matrix Rasa's ``LogisticRegressionClassifier._create_X`` gives, or None where Rasa's own code must run.

    Rasa's row of a message is its sparse sentence features of the text, side by side in the order the
    featurizers added them (with the dense ones, which this pipeline has none of), as a canonical CSR row
    (columns sorted), upcast to float64 by the empty dense block; the rows are stacked in the messages'
    order. None when a message has dense text features, a feature this function does not read as one
    sorted row, no sentence feature at all, or a width other than the first message's (Rasa raises).
    """
    if not messages:
        return None
    columns: list[np.ndarray] = []
    values: list[np.ndarray] = []
    indptr = [0]
    nnz = 0
    width: int | None = None
    for message in messages:
        offset = 0
        for feature in message.features:
            if feature.attribute != TEXT:
                continue
            if not feature.is_sparse():
                return None
            if feature.type != FEATURE_TYPE_SENTENCE:
                continue
            row = _sentence_row(feature.features)
            if row is None:
                return None
            columns.append(row[0] + offset if offset else row[0])
            values.append(row[1])
            nnz += row[0].size
            offset += feature.features.shape[1]
        if offset == 0 or (width is not None and offset != width):
            return None
        width = offset
        indptr.append(nnz)
    dtype = np.result_type(np.float64, *(v.dtype for v in values))
    return csr_matrix(
        (np.concatenate(values).astype(dtype, copy=False), np.concatenate(columns), np.asarray(indptr)),
        shape=(len(messages), width),
    )


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

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TunedLogisticRegressionClassifier:
        """Rasa's loading; the coefficients in Fortran order, so that predicting copies none of them."""
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        coefficients = getattr(component.clf, "coef_", None)
        if coefficients is not None:
            component.clf.coef_ = np.asfortranarray(coefficients)
        return component

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        """Rasa's matrix of the messages' features, built directly (`sentence_matrix`) where it can be."""
        matrix = sentence_matrix(messages) if _DIRECT_BUILD else None
        return matrix if matrix is not None else super()._create_X(messages)

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

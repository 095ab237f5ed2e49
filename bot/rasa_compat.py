"""The one seam where the project reaches into Rasa's private internals, guarded by Rasa's version.

Everything here was written against, and tested on, one Rasa release (`SUPPORTED_RASA_VERSION`).
`PRIVATE_NAMES` lists every private name of Rasa the project calls or overrides, and
`PATCHED_NAMES` every Rasa attribute it replaces at run time; tests/bot/test_rasa_compat.py fails
when the code touches a private Rasa name missing from these lists, or when one of them is gone from
the installed Rasa.

On another Rasa version:
- `apply` installs none of the speed fixes of `bot.rasa_speedups` and logs an error saying so. That
  is safe: Rasa then runs its own (slower, hungrier) code paths, with the same answers.
- `require_supported` raises `UnsupportedRasaVersion`. It guards the subclasses whose *correctness*
  rests on private hooks: the redacting tracker store (`bot.tracker_store`: if Rasa stopped calling
  `_stream_new_events` or `_retrieve`, personal data would reach the event broker in clear or a
  form would lose its answers) and the web channels' input checks (`bot.channels.web`: if Rasa stopped
  calling `_extract_*`, unchecked text would reach the model). A server that refuses to start with
  a clear message is better than one that leaks personal data quietly. Review this module and its
  test against the new release, then raise `SUPPORTED_RASA_VERSION`.
"""
from __future__ import annotations

import logging

import rasa

logger = logging.getLogger(__name__)

SUPPORTED_RASA_VERSION = "3.6.21"

# Private names of Rasa the project overrides in a subclass or calls, as "module.Class.name".
PRIVATE_NAMES = (
    # bot/tracker_store.py: RedactingSQLTrackerStore overrides these hooks and calls Rasa's own.
    "rasa.core.tracker_store.SQLTrackerStore._retrieve",
    "rasa.core.tracker_store.SQLTrackerStore._event_query",
    "rasa.core.tracker_store.TrackerStore._stream_new_events",
    # bot/channels/web.py: GuardedRestInput hands Rasa the checked message through these hooks.
    "rasa.core.channels.rest.RestInput._extract_sender",
    "rasa.core.channels.rest.RestInput._extract_message",
    "rasa.core.channels.rest.RestInput._extract_input_channel",
    # bot/channels/web.py: SocketOnlyOutput sends a reply to one socket instead of the conversation's room.
    "rasa.core.channels.socketio.SocketIOOutput._send_message",
    # bot/nlu/intent_classifier.py: the classifier's matrix built directly from the sentence features.
    "rasa.nlu.classifiers.logistic_regression_classifier.LogisticRegressionClassifier._create_X",
    # bot/rasa_speedups.py: replaced by a version that checks the schema once.
    "rasa.core.actions.action.RemoteAction._validate_action_result",
    # bot/graph_runner.py: PlannedGraphRunner builds its nodes and checks its inputs with Rasa's own code.
    "rasa.engine.runner.dask.DaskGraphRunner._instantiate_nodes",
    "rasa.engine.runner.dask.DaskGraphRunner._add_inputs_to_graph",
    # bot/prediction_states.py: Rasa's own steps of states_for_tracker_history, in Rasa's order.
    "rasa.shared.core.domain.Domain._remove_rule_only_features",
    "rasa.shared.core.domain.Domain._substitute_rule_only_user_input",
    "rasa.shared.core.domain.Domain._clean_state",
    # bot/rasa_speedups.py: replaced by a version that sums the sentence row from the token rows.
    "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer.CountVectorsFeaturizer._create_features",
    # bot/rasa_speedups.py: replaced by a walk that stops past the longest rule; it calls Rasa's state check.
    "rasa.core.policies.rule_policy.RulePolicy._get_possible_keys",
    "rasa.core.policies.rule_policy.RulePolicy._does_rule_match_state",
)

# Rasa attributes replaced or wrapped at run time: the speed fixes of `bot.rasa_speedups.apply`, the
# masking of personal answers in log lines (`bot.session`), the turn metrics of the Rasa server (`bot.ops`).
PATCHED_NAMES = (
    "rasa.core.actions.action.RemoteAction._validate_action_result",
    "rasa.shared.core.events.Event.resolve_by_type",
    # bot/rasa_speedups.py: the deep copies those modules make only for their debug lines.
    "rasa.core.processor.copy.deepcopy",
    "rasa.core.policies.memoization.copy.deepcopy",
    "rasa.core.policies.rule_policy.copy.deepcopy",
    # bot/rasa_speedups.py: the empty domain built once; the sentence row of count vectors summed.
    "rasa.shared.core.domain.Domain.is_empty",
    "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer.CountVectorsFeaturizer._create_features",
    "rasa.shared.core.events.BotUttered.__repr__",
    "rasa.shared.core.events.BotUttered.__str__",
    "rasa.core.agent.Agent.handle_message",
    # bot/rasa_speedups.py: the graph runner class of the models Rasa loads, the policies' past states.
    "rasa.core.processor.DaskGraphRunner",
    "rasa.shared.core.domain.Domain.states_for_tracker_history",
    "rasa.core.policies.rule_policy.RulePolicy._get_possible_keys",
    # bot/tracker_copies.py: a copy cloned from a replay kept with the tracker.
    "rasa.shared.core.trackers.DialogueStateTracker.copy",
    # bot/faults.py: a custom action that cannot run answers the citizen instead of raising.
    "rasa.core.actions.action.RemoteAction.run",
    "rasa.core.actions.forms.FormAction.run",
)

# Public methods of Rasa copied into a subclass with a change, or whose inner workings a subclass relies on;
# their originals must be re-read on upgrade.
COPIED_NAMES = (
    "rasa.core.tracker_store.SQLTrackerStore.save",
    # bot/action_calls.py: PooledEndpoint lends this method a shared session through ``session()`` and
    # encodes its ``json=`` body; it relies on the method calling ``self.session()`` and passing ``json``.
    "rasa.utils.endpoints.EndpointConfig.request",
    # bot/graph_runner.py: PlannedGraphRunner sets the attributes Rasa's run reads (its fallback) as Rasa does.
    "rasa.engine.runner.dask.DaskGraphRunner.__init__",
    # bot/prediction_states.py: Rasa's loop, reading a kept replay of the tracker.
    "rasa.shared.core.domain.Domain.states_for_tracker_history",
    # bot/lock_store.py: RedisTicketLockStore runs Rasa's ticket lock (`lock`, `_acquire_lock`, `cleanup`)
    # in Lua scripts, on the JSON of `TicketLock.dumps`.
    "rasa.core.lock_store.LockStore.lock",
    "rasa.core.lock_store.LockStore.cleanup",
    "rasa.core.lock.TicketLock.dumps",
)


class UnsupportedRasaVersion(RuntimeError):
    """The installed Rasa is not the release the project's overrides were written for."""


def installed_version() -> str:
    """The version of the installed Rasa."""
    return str(rasa.__version__)


def is_supported(version: str | None = None) -> bool:
    """Whether ``version`` (the installed one by default) is the release the overrides were written for."""
    return (version or installed_version()) == SUPPORTED_RASA_VERSION


def _spelled(version: str) -> str:
    """A version as the logs keep it: "(3, 6, 21)" (the log redaction masks "3.6.21" as a date)."""
    return "(" + ", ".join(version.split(".")) + ")"


def _refusal(what: str) -> str:
    return (
        f"Rasa version {_spelled(installed_version())} is installed but the project's overrides of Rasa "
        f"internals were written for Rasa version {_spelled(SUPPORTED_RASA_VERSION)}: {what}. "
        "See bot/rasa_compat.py."
    )


def require_supported(component: str) -> None:
    """Raise `UnsupportedRasaVersion` unless the installed Rasa is the supported one; ``component`` is named."""
    if not is_supported():
        message = _refusal(f"{component} refuses to run")
        logger.error(message)
        raise UnsupportedRasaVersion(message)


def apply() -> bool:
    """Install the speed fixes of `bot.rasa_speedups` and the fault answers of `bot.faults` on the supported
    Rasa (idempotent); whether they are in.

    Called by ``bot.nlu.components`` (first component of the pipeline) and ``bot.tracker_store``, so
    every process that loads our model or our tracker store gets them before the model is loaded.
    """
    if not is_supported():
        logger.error(_refusal("the speed fixes are NOT applied; Rasa runs its own, slower code paths"))
        return False
    from bot import faults, rasa_speedups

    rasa_speedups.apply()
    faults.install()
    return True

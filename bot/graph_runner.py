"""Rasa's graph runner without dask's scheduler on every run (installed by `bot.rasa_compat.apply`).

Rasa runs its NLU graph once per message and its policy graph once per action prediction (two to four a
turn) through ``DaskGraphRunner``, which builds a dask graph, orders it with ``dask.order`` and runs
dask's synchronous scheduler every time: about a fifth of what a run cost was dask itself, on a graph
that never changes. `PlannedGraphRunner` asks dask once per kind of run (targets and input names) in
which order it calls the graph's nodes, by running dask on a graph of the same shape whose tasks only
note their name, then calls Rasa's own `GraphNode` objects in that order with what dask would have
passed them: the output of each node or input it needs, or the name itself when nothing provides it.
Same nodes, same order, same inputs, the same dict of target outputs, the same errors: an exception
of a node propagates as it does through dask, a ``RuntimeError`` wrapped in ``GraphRunError`` as
Rasa does, a clashing input refused by Rasa's own check. A run dask refuses to plan (a target that is
no node nor input, a cycle) is left to Rasa's runner, which raises what it always did.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dask
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphNode, GraphNodeHook, GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.storage import ModelStorage

from bot import prediction_states

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Step:
    name: str
    node: GraphNode
    # Per need of the node: (True, key) for the output of a node or input of the run, (False, name)
    # for a name nothing provides, passed as is (GraphNode warns about it, as under dask).
    needs: tuple[tuple[bool, str], ...]


@dataclass(frozen=True)
class _Plan:
    node_names: tuple[str, ...]  # the nodes of the minimal schema, for Rasa's input-clash check
    steps: tuple[_Step, ...]


def _noting(name: str, called: list[str]) -> Callable[..., tuple[str, None]]:
    def note(*_: Any) -> tuple[str, None]:
        called.append(name)
        return name, None

    return note


class PlannedGraphRunner(DaskGraphRunner):
    """`DaskGraphRunner` whose runs call the nodes in the order dask chose once (see the module's docstring)."""

    def __init__(
        self,
        graph_schema: GraphSchema,
        model_storage: ModelStorage,
        execution_context: ExecutionContext,
        hooks: list[GraphNodeHook] | None = None,
    ) -> None:
        # DaskGraphRunner.__init__ (bot/rasa_compat.COPIED_NAMES): the attributes under Rasa's names, which
        # its `run` (the fallback below) reads.
        self._graph_schema = graph_schema
        self._instantiated_nodes: dict[str, GraphNode] = self._instantiate_nodes(
            graph_schema, model_storage, execution_context, hooks
        )
        self._execution_context = execution_context
        self._plans: dict[tuple[tuple[str, ...], tuple[str, ...]], _Plan | None] = {}

    def run(self, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
        """Runs the graph (see `GraphRunner.run`): the same outputs and errors as `DaskGraphRunner.run`."""
        run_targets = targets if targets else self._graph_schema.target_names
        input_names = tuple(inputs) if inputs else ()
        plan = self._plan_for(tuple(run_targets), input_names)
        if plan is None:
            return super().run(inputs, targets)

        outputs: dict[str, Any] = {}
        if inputs:
            # Rasa's check of clashing input values, on a graph with the same keys as Rasa's dask graph.
            self._add_inputs_to_graph(inputs, dict.fromkeys(plan.node_names))
            for input_name, input_value in inputs.items():
                outputs[input_name] = (input_name, input_value)

        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                f"Running graph with inputs: {inputs}, targets: {targets} and {self._execution_context}."
            )

        try:
            # The prediction states of one tracker are computed once for all the policies of this run.
            with prediction_states.shared():
                for step in plan.steps:
                    outputs[step.name] = step.node(*[outputs[n] if provided else n for provided, n in step.needs])
            return dict(outputs[target] for target in run_targets)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    def _plan_for(self, targets: tuple[str, ...], input_names: tuple[str, ...]) -> _Plan | None:
        key = (targets, input_names)
        if key not in self._plans:
            self._plans[key] = self._make_plan(list(targets), input_names)
        return self._plans[key]

    def _make_plan(self, targets: list[str], input_names: tuple[str, ...]) -> _Plan | None:
        """The order in which dask calls the nodes of this kind of run, or None if dask refuses it."""
        minimal_schema = self._graph_schema.minimal_graph_schema(targets)
        called: list[str] = []
        # The graph Rasa builds (`_build_dask_graph`, `_add_inputs_to_graph`), with tasks that note their call.
        shape: dict[str, Any] = {
            name: (_noting(name, called), *schema_node.needs.values())
            for name, schema_node in minimal_schema.nodes.items()
        }
        for input_name in input_names:
            shape[input_name] = (input_name, None)
        try:
            dask.get(shape, targets)
        except Exception:  # noqa: BLE001 - Rasa's runner raises its own error for this run
            logger.debug("Graph run left to Rasa's runner: dask refuses targets %s", targets, exc_info=True)
            return None
        steps = tuple(
            _Step(
                name,
                self._instantiated_nodes[name],
                tuple((need in shape, need) for need in minimal_schema.nodes[name].needs.values()),
            )
            for name in called
        )
        return _Plan(tuple(minimal_schema.nodes), steps)

"""A tracker's history replayed once per action prediction instead of once per policy (`bot.graph_runner`).

To predict an action, MemoizationPolicy and RulePolicy (twice right after a message: once on its
text, once on its intent) each turn the tracker into its past states, ``Domain.states_for_tracker_history``:
Rasa replays every event of the conversation on a fresh tracker and reads the state before each action,
two to three times per prediction, for states that differ only in how the policy's own arguments
(``ignore_rule_only_turns``, ``rule_only_data``) filter them; about a tenth of a Rasa server's CPU.

While a graph runs under `shared`, the replay of a tracker (the state before each action, as
``Domain.get_active_state`` makes it, and what Rasa's filter reads of that prior tracker) is kept, and each
call builds its states from it with Rasa's own filtering, step by step as Rasa's loop does it (its
helpers ``_remove_rule_only_features``, ``_substitute_rule_only_user_input``, ``_clean_state``), on fresh
copies: a policy that edits the states it got (they all do) changes nothing for the next. The replay is
reused only for the same tracker object (held for the run, so its identity cannot be reused) with the
same number of events and the same last event, the same domain and the same ``omit_unset_slots``;
anything else, and any call outside `shared` (training, for example), goes to Rasa's own method.

Between the predictions of one message (the processor's tracker, a few events longer each time) the replay
is not redone from the start: the replayed prior tracker and its turns are kept with the tracker
(`bot.kept_with_tracker`: they go with it) and only the applied events that follow are replayed, provided the applied
events already replayed are, object for object, the start of the tracker's applied events now. A revert, a
restart or a form's repeated execution that rewrites them replays from the start.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.kept_with_tracker import KeptWithTracker

_RASA_STATES_FOR_TRACKER_HISTORY = Domain.states_for_tracker_history


@dataclass(frozen=True)
class _Turn:
    """What Rasa's loop reads of the prior tracker before one action (or of the last one)."""

    state: State  # Domain.get_active_state of that tracker: copied, never handed out
    hide_rule_turn: bool
    sets_hidden: bool  # no follow-up action and the latest action is not the active loop
    latest_action: dict[str, str] | None  # the previous action sub-state, shared with `state` as in Rasa


@dataclass(frozen=True)
class _Replay:
    tracker: DialogueStateTracker  # held: its id cannot name another tracker during the run
    domain: Domain
    number_of_events: int
    last_event: Any
    turns: tuple[_Turn, ...]

    def fits(self, tracker: DialogueStateTracker, domain: Domain) -> bool:
        events = tracker.events
        return (
            self.tracker is tracker
            and self.domain is domain
            and len(events) == self.number_of_events
            and (not events or events[-1] is self.last_event)
        )


_replays: ContextVar[dict[tuple[int, int, bool], _Replay] | None] = ContextVar("prediction_replays", default=None)


@contextlib.contextmanager
def shared() -> Iterator[None]:
    """Within this block, the policies' prediction states of a tracker come from one replay of it."""
    token = _replays.set({})
    try:
        yield
    finally:
        _replays.reset(token)


def _turn(domain: Domain, prior: DialogueStateTracker, hide_rule_turn: bool, omit_unset_slots: bool) -> _Turn:
    return _Turn(
        domain.get_active_state(prior, omit_unset_slots=omit_unset_slots),
        hide_rule_turn,
        not prior.followup_action and not prior.latest_action_name == prior.active_loop_name,
        prior.latest_action,
    )


@dataclass
class _Kept:
    """A tracker's replay kept between the predictions of one message (`_replay`)."""

    domain: Domain
    applied: list[Any]  # the applied events replayed, in order
    replayed: DialogueStateTracker  # Rasa's prior tracker after them (private: never handed out)
    turns: list[_Turn]  # the turn before each ActionExecuted among them


_kept: KeptWithTracker[_Kept] = KeptWithTracker(limit=256)


def _replay(domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool) -> tuple[_Turn, ...]:
    """Rasa's ``generate_all_prior_trackers`` read into turns. The next prediction of the same tracker (the
    processor's, a few events longer) replays only the applied events that follow the ones already replayed,
    when those are the very same event objects at the start of its applied events; anything else (events
    undone by a revert, a restart or a form's repeated execution, another domain) replays from the start."""
    applied = tracker.applied_events()
    parts = (id(domain), bool(omit_unset_slots))
    kept = _kept.get(tracker, *parts)
    if (
        kept is None
        or kept.domain is not domain
        or len(kept.applied) > len(applied)
        or any(ours is not theirs for ours, theirs in zip(kept.applied, applied, strict=False))
    ):
        kept = _Kept(domain, [], tracker.init_copy(), [])
        _kept.put(tracker, kept, *parts)
    for event in applied[len(kept.applied):]:
        if isinstance(event, ActionExecuted):
            kept.turns.append(_turn(domain, kept.replayed, event.hide_rule_turn, omit_unset_slots))
        kept.replayed.update(event)
        kept.applied.append(event)
    return (*kept.turns, _turn(domain, kept.replayed, False, omit_unset_slots))


def _fresh_state(turn: _Turn, latest_action: dict[str, str] | None) -> State:
    """A copy of the turn's state holding ``latest_action``, the copy of its previous action sub-state: one
    dict for both, as in Rasa, where both are the prior tracker's ``latest_action``."""
    state: State = {}
    for kind, sub_state in turn.state.items():
        if kind == PREVIOUS_ACTION and sub_state is turn.latest_action:
            state[kind] = cast(SubState, latest_action)
        else:
            state[kind] = cast(SubState, dict(sub_state))
    return state


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """`Domain.states_for_tracker_history`, from the run's replay of the tracker under `shared`."""
    replays = _replays.get()
    if replays is None:
        return _RASA_STATES_FOR_TRACKER_HISTORY(
            self, tracker, omit_unset_slots=omit_unset_slots,
            ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data,
        )
    key = (id(tracker), id(self), bool(omit_unset_slots))
    replay = replays.get(key)
    if replay is None or not replay.fits(tracker, self):
        events = tracker.events
        replay = _Replay(
            tracker, self, len(events), events[-1] if events else None, _replay(self, tracker, omit_unset_slots)
        )
        replays[key] = replay

    # Rasa's loop (Domain.states_for_tracker_history), reading the kept turns instead of a replay.
    states: list[State] = []
    last_ml_action_sub_state = None
    turn_was_hidden = False
    for turn in replay.turns:
        latest_action = dict(turn.latest_action) if turn.latest_action is not None else None
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action_sub_state = latest_action
            if turn.sets_hidden:
                turn_was_hidden = turn.hide_rule_turn
            if turn_was_hidden:
                continue
        state = _fresh_state(turn, latest_action)
        if ignore_rule_only_turns:
            self._remove_rule_only_features(state, rule_only_data)
            if states:
                self._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = cast(SubState, last_ml_action_sub_state)
        states.append(self._clean_state(state))
    return states


def install() -> None:
    """Put the shared replay in place of Rasa's method (idempotent); it only acts under `shared`."""
    Domain.states_for_tracker_history = states_for_tracker_history

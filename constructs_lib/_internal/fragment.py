"""The base of the library's state-machine fragments (the tracker's and the workflows'): a
``StateMachineFragment`` whose subclass builds its states in its constructor and names its start
state and end states with ``_bounds``."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_stepfunctions as sfn


class Fragment(sfn.StateMachineFragment):
    """A piece of a state machine, usable wherever a chainable is: ``.next()``
    chains its end states on, a ``Choice`` branch or a catch enters it at its start state."""

    _start: sfn.State
    _ends: tuple[sfn.INextable, ...] = ()

    def _bounds(self, start: sfn.State, ends: Sequence[sfn.INextable] = ()) -> None:
        """Set the start state and the end states (states without a next state that the
        caller may chain on; an empty list when every path ends the execution or loops back
        to a state the fragment was given)."""
        self._start = start
        self._ends = tuple(ends)

    @property
    def start_state(self) -> sfn.State:
        return self._start

    @property
    def end_states(self) -> list[sfn.INextable]:
        return list(self._ends)

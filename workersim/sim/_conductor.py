"""The conductor: applies simulated operations one at a time, in an order no scheduler decision can change.

trio runs each batch of runnable tasks in a random order, so two tasks that reach a binding call at the same
virtual instant could otherwise apply their calls in either order. Instead every call parks its task. Once
every task in the run is blocked (so no more calls can arrive at this instant), one of the parked tasks, the
leader, applies all parked calls sorted by the stable identity of the task that made them, then wakes the
others with their results. Electing a parked task as leader, rather than running a conductor task, saves a
context switch on every call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import outcome
from trio.lowlevel import Abort, Task, current_task, reschedule, wait_task_rescheduled
from trio.testing import wait_all_tasks_blocked

from ._identity import Identity, TaskIdentities

T = TypeVar("T")


@attrs.define(eq=False)
class _Turn:
    identity: Identity
    arrival: int
    task: Task
    action: Callable[[int], Any]
    result: outcome.Outcome[Any] | None = None

    def sort_key(self) -> tuple[Identity, int]:
        return self.identity, self.arrival


class _Lead:
    """Sent to a parked task to make it the leader in place of a cancelled one."""


_LEAD = _Lead()


class Conductor:
    """Orders and applies operations; ``now`` gives the current virtual time in milliseconds."""

    def __init__(self, identities: TaskIdentities, now: Callable[[], int], before_batch: Callable[[int], None]):
        self._identities = identities
        self._now = now
        self._before_batch = before_batch
        self._pending: list[_Turn] = []
        self._leader: Task | None = None
        self._arrivals = 0

    async def turn(self, action: Callable[[int], T]) -> T:
        """Park until it is this call's turn, then return ``action(now)`` (or raise what it raised)."""
        task = current_task()
        self._arrivals += 1
        turn = _Turn(self._identities.of(task), self._arrivals, task, action)
        self._pending.append(turn)
        if self._leader is None:
            result: T = await self._lead(turn)
        else:
            result = await self._follow(turn)
        return result

    async def _lead(self, turn: _Turn) -> Any:
        self._leader = turn.task
        try:
            await wait_all_tasks_blocked()
        except BaseException:
            self._leader = None
            self._pending.remove(turn)
            if self._pending:
                heir = self._pending[0]
                self._leader = heir.task
                reschedule(heir.task, outcome.Value(_LEAD))
            raise
        self._leader = None
        self._run_batch()
        assert turn.result is not None
        return turn.result.unwrap()

    async def _follow(self, turn: _Turn) -> Any:
        def abort(_: Any) -> Abort:
            self._pending.remove(turn)
            return Abort.SUCCEEDED

        reply = await wait_task_rescheduled(abort)
        if reply is _LEAD:
            return await self._lead(turn)
        return reply

    def _run_batch(self) -> None:
        batch = self._pending
        self._pending = []
        if len(batch) > 1:
            batch.sort(key=_Turn.sort_key)
        now = self._now()
        self._before_batch(now)
        identities = self._identities
        for turn in batch:
            identities.acting_for = turn.task
            try:
                turn.result = outcome.Value(turn.action(now))
            except BaseException as error:  # handed to the caller, which raises it as its own
                turn.result = outcome.Error(error)
        identities.acting_for = None
        me = current_task()
        for turn in batch:
            if turn.task is not me:
                assert turn.result is not None
                reschedule(turn.task, turn.result)

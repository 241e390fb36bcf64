"""The conductor: applies simulated operations one at a time, in an order no scheduler decision can change.

trio runs each batch of runnable tasks in a random order, so two tasks that reach a store call at the same
virtual instant could otherwise apply their calls in either order. Instead every call parks its task. The moment
trio's scheduler finds nothing left to run (its ``before_io_wait`` hook with an empty run queue and no deadline
due), no more calls can arrive at this instant: the conductor applies all parked calls sorted by the stable
identity of the tasks that made them and wakes each task with its result. That is the moment
``trio.testing.wait_all_tasks_blocked`` waits for, observed from the scheduler itself instead of polled by a task.

**On the real clock (servers), idleness may never come**: with clients streaming bodies, some task is always
runnable, and calls that waited for it would wait for ever. A server's run is not replayable anyway (its inputs
come from the network), so a conductor made with ``arrival_order`` applies each call at once, in the task that
makes it: calls are applied in the order they arrive, each atomically (trio runs one task at a time), and none
waits for a batch. Each such call is a cancellation point; it is a schedule point only every ``MAX_STREAK``-th call
a task makes in a row, so a task looping on calls still lets the others run, while a request's one or two calls
do not each wait for a whole pass of a busy server's scheduler.

**Every call is a cancellation point, and a schedule point whenever another task could run.** A call made while
no other task is runnable, none is parked and no deadline is due would be applied alone at this instant in any
case, so it is applied at once, without a pass of the scheduler; a task does that at most ``MAX_STREAK`` times in
a row, so the scheduler still looks at I/O regularly. Histories are the same either way.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Generator
from contextvars import ContextVar
from operator import attrgetter
from typing import Any, TypeVar

import trio
from trio.lowlevel import Abort, Task, current_task, wait_task_rescheduled

from ..core.rows import Packed
from ._identity import Identity, TaskIdentities
from ._scheduler import Scheduler

T = TypeVar("T")

_ORDER = attrgetter("identity")
"""A batch's order: by the identities of the tasks that made its calls. ``list.sort`` is stable and ``_pending``
holds the calls in the order they arrived, so calls of tasks with the same identity (see ``Identity.of``) keep
that order: the order of ``(identity, arrival)`` without a tuple built and compared per call."""

MAX_STREAK = 64
"""Calls one task may apply in a row without a scheduler pass (when no other task could run meanwhile)."""

DEFERRED_ROWS: ContextVar[list[Packed] | None] = ContextVar("workersim_deferred_rows", default=None)
"""Rows to record with the calling task's next turn, just before its action (``Engine.record_with_next_turn``)."""


class _Turn:
    """A task's parked call, and then its outcome: trio hands it back to the parked task, which takes the outcome.

    A task parks one call at a time, so it has one turn, made at its first parked call and reused for the next
    ones (with trio's message that parks it, made once too), until it exits."""

    __slots__ = ("action", "args", "conductor", "error", "identity", "message", "task", "value")

    def __init__(
        self,
        conductor: Conductor,
        task: Task,
        identity: Identity,
        park: Callable[[Callable[[Any], Abort]], object] | None,
    ) -> None:
        self.conductor = conductor
        self.task = task
        self.identity = identity
        self.message = None if park is None else park(self.abort)
        self.action: Callable[..., Any] = _nothing
        self.args: tuple[Any, ...] = ()
        self.value: Any = None
        self.error: BaseException | None = None

    def abort(self, _raise_cancel: Any) -> Abort:
        """trio cancels the parked task: forget the call (it was never applied)."""
        self.conductor._pending.remove(self)  # noqa: SLF001 - the conductor's own record of parked calls
        self.action, self.args = _nothing, ()
        return Abort.SUCCEEDED

    def unwrap(self) -> _Turn:
        """What ``wait_task_rescheduled`` (the public fallback's way to park) gives when the task is woken with its
        turn: the turn itself, which holds the outcome (``turn`` takes it from there, on either way to park)."""
        return self


class Conductor(trio.abc.Instrument):
    """Orders and applies operations at the virtual time it reads from trio's clock (``now_ms``; ``origin`` is the
    trio time of virtual millisecond 0); ``before_batch(now)`` runs before each batch (the cluster's garbage
    collection), and ``record_first(now, rows, action, *args)`` applies a call that rows were deferred to
    (``DEFERRED_ROWS``).

    It is a trio instrument: ``start`` installs it in the current run and ``stop`` removes it. Once per scheduler
    pass, right before trio takes the pass's tasks from its run queue, it notes whether exactly one task will run
    in this pass (one queued, no deadline about to wake another): then, while that task runs and has made no
    other task runnable, nothing else could run at this instant. (trio keeps the tasks of the current pass out of
    its queue, so the queue alone could not say so.)"""

    def __init__(
        self,
        identities: TaskIdentities,
        before_batch: Callable[[int], object],
        record_first: Callable[..., Any],
        *,
        arrival_order: bool = False,
    ):
        self._identities = identities
        self._record_first = record_first
        self._arrival_order = arrival_order
        self._before_batch = before_batch
        self._pending: list[_Turn] = []
        self._turns: dict[Task, _Turn] = {}
        self._alone_in_pass = False
        self._streak = 0
        self._last_caller: Task | None = None
        self._calls_in_a_row = 0
        self.origin = 0.0
        """The trio time at which virtual time was 0 (moved back to move virtual time on)."""
        self._clock: Callable[[], float] = trio.current_time
        scheduler = Scheduler.public()  # until ``start`` finds the run's own
        self._queue = scheduler.queue
        self._next_deadline = scheduler.next_deadline
        self._reschedule = scheduler.reschedule
        self._park = scheduler.park
        self._token: trio.lowlevel.TrioToken | None = None

    def start(self, start_ms: int = 0) -> None:
        """Install in the current trio run, with virtual time at ``start_ms`` now."""
        scheduler = Scheduler.current()
        self._queue = scheduler.queue
        self._next_deadline = scheduler.next_deadline
        self._reschedule = scheduler.reschedule
        self._park = scheduler.park
        # What trio.current_time() ends up calling, without the two calls on the way there.
        self._clock = trio.lowlevel.current_clock().current_time
        self.origin = self._clock() - start_ms / 1000
        self._token = trio.lowlevel.current_trio_token()
        trio.lowlevel.add_instrument(self)

    def stop(self) -> None:
        """Remove from the run; calls still parked are applied first, so none is left hanging."""
        if self._pending:
            self._run_batch()
        trio.lowlevel.remove_instrument(self)

    def task_exited(self, task: Task) -> None:
        """Forget a finished task's turn."""
        turn = self._turns.pop(task, None)
        if turn is not None:
            turn.message = None  # it holds turn.abort: freed now rather than by the garbage collector

    def now_ms(self) -> int:
        """The current virtual time, in milliseconds."""
        return self._virtual_ms(self._clock())

    def _virtual_ms(self, time: float) -> int:
        return round((time - self.origin) * 1000)

    # --- the scheduler's view ------------------------------------------------------------------------------

    def before_io_wait(self, timeout: float) -> None:
        """trio starts a pass: if nothing is runnable and no deadline is due, every task is blocked."""
        self._alone_in_pass = False
        if not self._pending or len(self._queue) or self._deadline_due():
            return
        self._run_batch()
        if timeout > 0 and self._token is not None:
            # On a clock that does not jump (real time), trio would now sleep until its next deadline although
            # tasks have become runnable: wake its I/O wait at once.
            self._token.run_sync_soon(_nothing)

    def after_io_wait(self, timeout: float) -> None:
        """Next, trio wakes the tasks whose deadline has come and runs the queued ones: note whether that is one."""
        self._alone_in_pass = len(self._queue) == 1 and not self._deadline_due()

    def _deadline_due(self) -> bool:
        """Whether some task's deadline has come but trio has not woken it yet (it will on its next pass)."""
        deadline = self._next_deadline()
        return deadline != math.inf and deadline <= self._clock()  # no deadline at all: no clock to read

    def quiet_until(self) -> float | None:
        """The trio time before which no other task can run or call (the next deadline of any task; ``inf`` if
        none), when the calling task is alone now and may act without a scheduler pass; else ``None``. Each
        ``True`` answer counts toward ``MAX_STREAK``, like a call applied alone."""
        return None if self._alone_at() is None else self._next_deadline()

    def _alone_at(self) -> float | None:
        """The trio time now, when the calling task is alone now and may act without a scheduler pass (counted
        toward ``MAX_STREAK``); else ``None``."""
        if not self._alone_in_pass or self._pending or len(self._queue) or self._streak >= MAX_STREAK:
            self._streak = 0
            return None
        time = self._clock()
        if self._next_deadline() <= time:  # due, so its task could run at this instant
            return None
        self._streak += 1
        return time

    # --- calls -----------------------------------------------------------------------------------------------

    @types.coroutine
    def turn(self, action: Callable[..., T], args: tuple[Any, ...] = ()) -> Generator[Any, Any, T]:
        """Apply ``action(now, *args)`` at this call's turn; awaited, gives its result (or raises what it raised).

        A generator-based coroutine rather than a native one, so that it yields trio's park message itself and
        reads its outcome from the turn inline: no frame of its own for either on every call. (Not a native
        coroutine, so not for ``nursery.start_soon``: the engine's ``apply`` wraps it for that.) ``args`` is a tuple,
        not ``*args``: a call of a function with ``*args`` is not specialised by the interpreter, and costs more.

        With rows in ``DEFERRED_ROWS``, the action applied is ``record_first(now, rows, action, *args)``."""
        rows = DEFERRED_ROWS.get()
        if rows:
            args = (rows, action, *args)
            action = self._record_first
        time = self._alone_at()
        if time is None and not self._arrival_order:
            task = current_task()
            turn = self._turns.get(task)
            if turn is None:
                turn = self._turns[task] = _Turn(self, task, self._identities.of(task), self._park)
            turn.action = action
            turn.args = args
            self._pending.append(turn)
            message = turn.message
            if message is None:  # the public fallback: trio unwraps what wakes the task (see ``_Turn.unwrap``)
                yield from wait_task_rescheduled(turn.abort)
            else:
                woken = yield message
                if woken is not turn:  # cancelled while parked: trio's outcome, which raises the Cancelled
                    return woken.unwrap()  # type: ignore[no-any-return]
            error = turn.error
            if error is not None:
                turn.error = None  # no reference cycle through the traceback
                raise error
            value: T = turn.value
            turn.value = None  # the caller's now: not kept alive until the task's next call
            return value
        # Applied at once: alone at this instant, or in arrival order (then a schedule point after a streak).
        in_arrival_order = time is None
        if time is None:
            time = self._clock()
        yield from trio.lowlevel.checkpoint_if_cancelled()
        now = self._virtual_ms(time)
        self._before_batch(now)
        try:
            return action(now, *args)
        finally:
            if in_arrival_order:
                yield from self._schedule_point_after_streak()

    async def _schedule_point_after_streak(self) -> None:
        task = current_task()
        if task is not self._last_caller:
            self._last_caller = task
            self._calls_in_a_row = 0
        self._calls_in_a_row += 1
        if self._calls_in_a_row >= MAX_STREAK:
            self._calls_in_a_row = 0
            # Applied already, so not cancellable any more: the result is the caller's whatever comes meanwhile.
            await trio.lowlevel.cancel_shielded_checkpoint()

    def _run_batch(self) -> None:
        batch = self._pending
        self._pending = []
        if len(batch) > 1:
            batch.sort(key=_ORDER)
        now = self.now_ms()
        self._before_batch(now)
        identities = self._identities
        for turn in batch:
            identities.acting_for = turn.task
            try:
                turn.value = turn.action(now, *turn.args)
            except BaseException as error:  # handed to the caller, which raises it as its own
                turn.error = error
            turn.action, turn.args = _nothing, ()  # not kept alive until the task's next call
        identities.acting_for = None
        reschedule = self._reschedule
        for turn in batch:
            reschedule(turn.task, turn)


def _nothing(*_args: object) -> None:
    """Run soon by trio only to end its I/O wait; the action of a turn with no call."""

"""The engine under a simulation: its store, its clock and its conductor.

The binding, the REST API and the runtime reach the simulation through ``workersim.sim.engine(sim)`` rather than
through the user-facing ``Simulation``, which keeps only what a user calls.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NoReturn, Protocol, TypeVar

import trio
import trio.testing

from ..core.rows import Packed
from ..core.store import Store
from ._conductor import DEFERRED_ROWS, Conductor
from ._identity import TaskIdentities

T = TypeVar("T")

_FAR = 2**62
"""A virtual millisecond later than any run reaches."""

_IDENTITIES: trio.lowlevel.RunVar[TaskIdentities] = trio.lowlevel.RunVar("workersim_task_identities")


def task_identities() -> TaskIdentities:
    """The run's task-identity instrument, installed on first use."""
    try:
        return _IDENTITIES.get()
    except LookupError:
        identities = TaskIdentities()
        trio.lowlevel.add_instrument(identities)
        _IDENTITIES.set(identities)
        return identities


def install_identities(identities: TaskIdentities) -> None:
    """Use ``identities`` (already given to ``trio.run`` as an instrument) for this run."""
    _IDENTITIES.set(identities)


class Turn(Protocol):
    """Applies ``action(now_ms, *args)`` at this call's turn: awaited, it gives the result."""

    def __call__(self, action: Callable[..., T], args: tuple[Any, ...] = (), /) -> Awaitable[T]:
        """Take the turn (raises ``RuntimeError`` at once if the simulation is not running)."""


class Engine:
    """What the layers above a simulation drive it with: ``store`` (the one operation path), ``apply`` and
    ``turn`` (run a store call at its turn in the conductor's order) and the virtual clock."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._conductor: Conductor | None = None
        self.turn: Turn = _refuse
        """``apply`` as the binding takes it, without the native coroutine: the conductor's own ``turn`` while the
        simulation runs (no call of the engine's on the way), an awaitable but not for ``nursery.start_soon``."""
        self.start_ms = 0
        """The virtual millisecond the clock starts at (a restarted server continues its earlier run's time)."""
        self.arrival_order = False
        """For servers on the real clock: apply each operation at once, in the order operations arrive, instead of
        in batches when every task is blocked (which virtual time needs for reproducible runs, and which a server
        under steady input never is). Set before the simulation starts."""

    def start(self) -> None:
        """Start virtual time at ``start_ms`` now and open the conductor (inside the trio run)."""
        # The cluster's own method, called before each batch: no call of the engine's on the way.
        self._conductor = Conductor(
            task_identities(), self.store.cluster.collect, self._record_first, arrival_order=self.arrival_order
        )
        self._conductor.start(self.start_ms)
        self.turn = self._conductor.turn

    def stop(self) -> None:
        """Close the conductor: operations are refused from now on."""
        if self._conductor is not None:
            self._conductor.stop()
        self._conductor = None
        self.turn = _refuse

    @property
    def running(self) -> bool:
        """Whether the simulation is running (between ``start`` and ``stop``)."""
        return self._conductor is not None

    def quiet_until_ms(self) -> int | None:
        """When the calling task is alone and virtual time may be jumped: the virtual millisecond before which no
        other task can run (a very large number if none waits for a deadline); else ``None``. Counts as acting
        alone (a bounded number of times in a row, see the conductor)."""
        conductor = self._require_running()
        if not _jumpable(trio.lowlevel.current_clock()):
            return None
        until = conductor.quiet_until()
        if until is None:
            return None
        return math.ceil((until - conductor.origin) * 1000) if math.isfinite(until) else _FAR

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass for the calling task, as ``trio.sleep`` would; when the task is
        alone and nobody's deadline falls within them, by moving the clock on at once, without a cancel scope or
        a scheduler pass. A cancellation point either way."""
        if seconds < 0 or not math.isfinite(seconds):
            raise ValueError(f"sleep takes a finite number of seconds >= 0, got {seconds!r}")
        conductor = self._require_running()
        until = conductor.quiet_until() if _jumpable(trio.lowlevel.current_clock()) else None
        # Compared in trio's own time, not rounded milliseconds: a jump must never pass another task's deadline.
        if until is not None and trio.current_time() + seconds < until:
            await trio.lowlevel.checkpoint_if_cancelled()
            clock = trio.lowlevel.current_clock()
            assert isinstance(clock, trio.testing.MockClock)
            clock.jump(seconds)
            return
        await trio.sleep(seconds)

    async def advance_to(self, at_ms: int) -> None:
        """``sleep`` until virtual millisecond ``at_ms`` (at once if it has passed)."""
        delay = at_ms - (trio.current_time() - self._require_running().origin) * 1000
        if delay > 0:
            await self.sleep(delay / 1000)

    def skip(self, ms: int) -> None:
        """Move virtual time on by ``ms`` milliseconds at once, for everything that reads the simulation's clock
        (a live server's time jump; tasks sleeping on trio's clock still wake at their own deadlines)."""
        if ms < 0:
            raise ValueError(f"time only moves forward, got {ms} ms")
        self._require_running().origin -= ms / 1000

    def now_ms(self) -> int:
        """Virtual milliseconds since the simulation started."""
        conductor = self._conductor
        if conductor is None:
            _refuse()
        return conductor.now_ms()

    def apply(self, action: Callable[..., T], *args: Any) -> Coroutine[Any, Any, T]:
        """Apply ``action(now_ms, *args)`` at this call's turn (the conductor's order); await it for the result.

        ``turn`` as a native coroutine, as trio's ``nursery.start_soon`` and ``trio.from_thread.run`` want."""
        return _awaited(self.turn(action, args))

    def record_with_next_turn(self, packed: Packed) -> None:
        """Record the row ``packed`` (``rows.pack_*``) together with the next operation this task (or a task it
        spawns) applies, just before that operation's own row: ordered by the conductor without a turn of its own.
        The runtime records a request's arrival this way, saving a turn on every request."""
        deferred = DEFERRED_ROWS.get()
        if deferred is None:
            DEFERRED_ROWS.set([packed])
        else:
            deferred.append(packed)

    async def flush_rows(self) -> None:
        """Record the rows still waiting for this task's next turn (``record_with_next_turn``) in a turn of their
        own: for work that ends without another operation (a log line at the end of waitUntil work)."""
        if DEFERRED_ROWS.get():
            await self.apply(_nothing)

    def _record_first(self, now: int, deferred: list[Packed], action: Callable[..., T], *args: Any) -> T:
        # Taken when applied, not when called: spawned tasks share the list, and of their operations the one applied
        # first, in the conductor's order, is the one that records the rows.
        history = self.store.history
        for packed in deferred:
            history.record(packed)
        deferred.clear()
        return action(now, *args)

    def _require_running(self) -> Conductor:
        if self._conductor is None:
            _refuse()
        return self._conductor


def _refuse(*_args: object) -> NoReturn:
    raise RuntimeError("the simulation is not running: use it inside `async with sim:`")


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _nothing(now: int) -> None:
    """An action that changes nothing: its turn records the rows deferred to it."""


def _jumpable(clock: trio.abc.Clock) -> bool:
    # Only where trio itself would jump the clock the moment every task is blocked (pytest-trio's autojump_clock,
    # workersim.run): there, moving it on for a task alone changes nothing anyone can see.
    return isinstance(clock, trio.testing.MockClock) and clock.autojump_threshold == 0

"""``WorkerMachine``: a hypothesis state machine over a simulated worker, so a tester writes only the requests.

Subclass it, say which worker runs where, and write rules that make requests with ``self.fetch``. The machine
adds the rest:
- rules that let virtual time pass, cut an edge off and heal it;
- an invariant that runs the checkers (the store's guarantees, the application anomalies, and the subclass's own
  ``checks``) after every step.

Hypothesis then searches for the sequence of requests, pauses and partitions that breaks the worker, and shrinks
it::

    class Counter(WorkerMachine):
        worker = "examples/hit_counter/worker.py"
        kv_namespaces = ("HITS",)

        @rule(data=st.data())
        def visit(self, data):
            self.fetch("https://counter/", edge=self.draw_edge(data))

    TestCounter = Counter.TestCase

The simulation runs on virtual time in a trio run of its own, in a thread; each step waits for it.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, ClassVar, TypeVar

import trio
import trio.testing
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ..checkers import check_all, check_anomalies, check_invariants
from ..checkers.invariants import Invariant
from ..runtime import Response, Simulation

T = TypeVar("T")

BUILT_IN = tuple(report.name for report in check_all((), 10.0) + check_anomalies(()))
"""The names of the checkers the machine runs besides the subclass's own ``checks``."""

NO_EXPLAIN = tuple(phase for phase in Phase if phase is not Phase.explain)
"""Hypothesis's phases but its explain phase, which reruns a failing example once per line of code: on a worker
machine that was most of a failing run's time (a three-edge shop's: 25 s with it, 1 to 2 s without)."""

PAUSES = (0.1, 0.5, 1.0, 3.0, 12.0)
"""Virtual seconds the time rule lets pass: within and beyond the default propagation delays."""


class _Run:
    """A simulation running in a trio run of its own, in a thread, driven one call at a time."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self._ready = threading.Event()
        self._token: trio.lowlevel.TrioToken | None = None
        self._scope: trio.CancelScope | None = None
        self._thread = threading.Thread(target=self._main, name="workersim machine", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        async def main() -> None:
            async with self.sim:
                with trio.CancelScope() as scope:
                    self._scope = scope
                    self._token = trio.lowlevel.current_trio_token()
                    self._ready.set()
                    await trio.sleep_forever()

        trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

    def call(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await function(*args)`` in the simulation's run and return its result."""
        return trio.from_thread.run(function, *args, trio_token=self._token)

    def stop(self) -> None:
        """Leave ``async with sim`` (waiting for waitUntil work) and end the run."""
        if self._scope is not None:
            trio.from_thread.run_sync(self._scope.cancel, trio_token=self._token)
        self._thread.join()


class WorkerMachine(RuleBasedStateMachine):
    """A state machine over a simulated worker; see the module's docstring.

    Class attributes: ``worker`` (a path or a Python worker), ``edges``, ``kv_namespaces``, ``options`` (more
    ``Simulation`` arguments), ``max_delay``, ``checks`` (invariants: functions of the history, as for
    ``check_invariants``) and ``ignore`` (names of built-in checkers not to fail on, from ``BUILT_IN``: a worker
    whose racing requests write the same idempotent value is right, though ``check_then_act`` reports them).

    A subclass's ``TestCase`` runs without hypothesis's explain phase (``NO_EXPLAIN``); settings given with
    ``settings(Machine.TestCase.settings, max_examples=...)`` keep that, where ``@settings(...)`` starts afresh."""

    worker: ClassVar[Any] = None
    edges: ClassVar[Sequence[str]] = ("SFO", "LHR", "NRT")
    kv_namespaces: ClassVar[Sequence[str]] = ()
    max_delay: ClassVar[float] = 10.0
    options: ClassVar[dict[str, Any]] = {}
    checks: ClassVar[Sequence[Invariant]] = ()
    ignore: ClassVar[Collection[str]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        unknown = sorted(set(cls.ignore) - set(BUILT_IN))
        if unknown:
            raise ValueError(
                f"{cls.__name__}.ignore names no built-in checker: {', '.join(map(repr, unknown))}; "
                f"the machine runs {', '.join(BUILT_IN)}"
            )
        cls.TestCase.settings = settings(cls.TestCase.settings, phases=NO_EXPLAIN)

    def __init__(self) -> None:
        super().__init__()
        sim = Simulation(
            edges=self.edges,
            kv_namespaces=self.kv_namespaces,
            worker=self.worker,
            max_delay=self.max_delay,
            **self.options,
        )
        self._run = _Run(sim)
        self._cut: set[str] = set()

    @property
    def sim(self) -> Simulation:
        """The simulation (read its history or state between steps)."""
        return self._run.sim

    def draw_edge(self, data: st.DataObject) -> str:
        """An edge, chosen by hypothesis."""
        return data.draw(st.sampled_from(list(self.edges)), label="edge")

    def fetch(self, url: str, *, edge: str, **init: Any) -> Response:
        """``sim.fetch`` from the machine: run the worker at ``edge`` and return its response."""
        return self._run.call(lambda: self.sim.fetch(url, edge=edge, **init))

    def call(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Await ``function(*args)`` inside the simulation's run (for example ``self.sim.env("SFO").KV.get``)."""
        return self._run.call(function, *args)

    @rule(seconds=st.sampled_from(PAUSES))
    def time_passes(self, seconds: float) -> None:
        """Let virtual time pass."""
        self._run.call(trio.sleep, seconds)

    @rule(data=st.data())
    def cut_off(self, data: st.DataObject) -> None:
        """Cut an edge off from the rest."""
        edge = self.draw_edge(data)
        self._cut.add(edge)
        self._run.call(_now, self.sim.partition, [edge])

    @rule()
    def heal(self) -> None:
        """Join every cut-off edge to the rest again."""
        if self._cut:
            self._run.call(_now, self.sim.heal, sorted(self._cut))
            self._cut.clear()

    @invariant()
    def the_checkers_hold(self) -> None:
        """Every checker, and the subclass's invariants, hold over the history so far."""
        rows = list(self.sim.history)
        built_in = check_all(rows, self.max_delay) + check_anomalies(rows)
        reports = [report for report in built_in if report.name not in self.ignore]
        reports += check_invariants(rows, *self.checks)
        failed = [f"{report.name}: {violation.message}" for report in reports for violation in report.violations]
        assert not failed, "\n".join(failed)

    def teardown(self) -> None:
        """Stop the simulation."""
        self._run.stop()


async def _now(function: Callable[..., object], *args: Any) -> None:
    # Partitions happen at the simulation's present, which only its own run can read.
    function(*args)

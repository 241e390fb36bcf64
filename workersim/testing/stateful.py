"""``WorkerMachine``: a hypothesis state machine over a simulated worker, so a tester writes only the requests.

Subclass it, say which worker runs where, and write rules that make requests with ``self.fetch``. The machine
adds the rest:
- rules that let virtual time pass, cut an edge off and heal it;
- an invariant that runs the checkers (the store's guarantees, the application anomalies, and the subclass's own
  ``checks``) after every step.

Hypothesis then searches for the sequence of requests, pauses and partitions that breaks the worker (and, with
``search_delays = True``, the propagation delays), and shrinks it::

    class Counter(WorkerMachine):
        worker = "examples/hit_counter/worker.py"
        kv_namespaces = ("HITS",)

        @rule(data=st.data())
        def visit(self, data):
            self.fetch("https://counter/", edge=self.draw_edge(data))

    TestCounter = Counter.TestCase

The simulation runs on virtual time in a trio run of its own, in a thread; each step waits for it, and meanwhile
makes the draws the simulation asks for (hypothesis draws only on the test's thread), in the order it asks.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, ClassVar, Generic, TypeVar, cast

import outcome
import trio
import trio.testing
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ..checkers import check_all, check_anomalies, check_invariants
from ..checkers.invariants import Invariant
from ..runtime import Response, Simulation
from .schedules import HypothesisDelay

T = TypeVar("T")

BUILT_IN = tuple(report.name for report in check_all((), 10.0) + check_anomalies(()))
"""The names of the checkers the machine runs besides the subclass's own ``checks``."""

NO_EXPLAIN = tuple(phase for phase in Phase if phase is not Phase.explain)
"""Hypothesis's phases but its explain phase, which reruns a failing example once per line of code: on a worker
machine that was most of a failing run's time (a three-edge shop's: 25 s with it, 1 to 2 s without)."""

PAUSES = (0.1, 0.5, 1.0, 3.0, 12.0)
"""Virtual seconds the time rule lets pass: within and beyond the default propagation delays."""


class _Run:
    """A simulation running in a trio run of its own, in a thread, driven one call at a time.

    While a call waits, the machine's thread also answers the questions the simulation's thread asks it
    (``ask``): hypothesis draws only on the thread of the test case, one draw at a time."""

    def __init__(self) -> None:
        self._inbox: queue.SimpleQueue[outcome.Outcome[Any] | _Question[Any]] = queue.SimpleQueue()
        self._answering = True
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._token: trio.lowlevel.TrioToken | None = None
        self._scope: trio.CancelScope | None = None

    def start(self, sim: Simulation) -> None:
        """Run ``sim`` (entered) in a thread of its own until ``stop``."""
        self.sim = sim
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

        try:
            trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
        finally:
            # A call still waiting (the run died under it) must not wait for ever.
            self._inbox.put(outcome.Error(RuntimeError("the simulation's run ended")))

    def call(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await function(*args)`` in the simulation's run and return its result, answering the questions
        asked meanwhile."""
        # As trio.from_thread.run does it (a system task in this thread's context), but without blocking this
        # thread, which the questions need.
        context = contextvars.copy_context()

        async def step() -> None:
            self._inbox.put(await outcome.acapture(function, *args))

        def spawn() -> None:
            trio.lowlevel.spawn_system_task(step, name=function, context=context)

        assert self._token is not None
        self._token.run_sync_soon(spawn)
        while True:
            item = self._inbox.get()
            if isinstance(item, _Question):
                item.answer()
            else:
                return cast("T", item.unwrap())

    def ask(self, question: Callable[[], T], *, after_the_last_step: T) -> T:
        """From the simulation's thread: ``question()``, answered on the machine's thread while a call waits (at
        the next call, if none does now); ``after_the_last_step`` once the machine stops."""
        asked = _Question(question)
        with self._lock:
            if not self._answering:
                return after_the_last_step
            self._inbox.put(asked)
        answer = asked.reply.get()
        return after_the_last_step if answer is None else answer.unwrap()

    def stop(self) -> None:
        """Stop answering questions, leave ``async with sim`` (waiting for waitUntil work) and end the run."""
        with self._lock:
            self._answering = False
        # A question asked between steps still waits for its answer, and the run with it.
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Question):
                item.reply.put(None)
        if self._scope is not None:
            trio.from_thread.run_sync(self._scope.cancel, trio_token=self._token)
        self._thread.join()


class _Question(Generic[T]):
    """A question from the simulation's thread, and then its answer (``None``: asked too late to be answered)."""

    def __init__(self, question: Callable[[], T]) -> None:
        self._question = question
        self.reply: queue.SimpleQueue[outcome.Outcome[T] | None] = queue.SimpleQueue()

    def answer(self) -> None:
        """Answer it on this thread; what it raises (a ``StopTest``) is raised where it was asked."""
        self.reply.put(outcome.capture(self._question))


class DelayBeforeDrawDelays(RuntimeError):
    """A machine that searches delays needed one before its ``draw_delays`` step: a request made by an
    ``@initialize`` rule that hypothesis ran first. The runtime lets it through, to fail the test with this."""


class _StepDraws:
    """``HypothesisDelay``'s draws for a machine: made from hypothesis's ``st.data()`` on the machine's thread
    while a step waits for the simulation, in the order the simulation asks for them."""

    def __init__(self, run: _Run, machine: str, longest_ms: int) -> None:
        self._run = run
        self._machine = machine
        self._longest_ms = longest_ms
        self.data: st.DataObject | None = None
        """Given by the machine's ``draw_delays`` step."""

    def draw(self, strategy: st.SearchStrategy[int], label: str) -> int:
        """A delay in milliseconds drawn from ``strategy``; after the last step (teardown, when hypothesis's
        example is over) the longest delay, drawn from nothing."""
        return self._run.ask(lambda: self._draw(strategy, label), after_the_last_step=self._longest_ms)

    def _draw(self, strategy: st.SearchStrategy[int], label: str) -> int:
        if self.data is None:
            raise DelayBeforeDrawDelays(
                f"{self._machine}.search_delays: the simulation needed {label} before the machine's draw_delays "
                "step took hypothesis's data; make that request in a @rule, not in an @initialize rule, which "
                "hypothesis may run first"
            )
        return self.data.draw(strategy, label=label)


class WorkerMachine(RuleBasedStateMachine):
    """A state machine over a simulated worker; see the module's docstring.

    Class attributes: ``worker`` (a path or a Python worker), ``edges``, ``kv_namespaces``, ``options`` (more
    ``Simulation`` arguments), ``max_delay``, ``checks`` (invariants: functions of the history, as for
    ``check_invariants``) and ``ignore`` (names of built-in checkers not to fail on, from ``BUILT_IN``: a worker
    whose racing requests write the same idempotent value is right, though ``check_then_act`` reports them).

    ``search_delays = True`` lets hypothesis choose every propagation delay too (0 to ``max_delay``), as
    ``HypothesisDelay`` does in a ``@given`` test, instead of the seeded default model (``options`` then cannot
    set ``delays``). The machine gets a ``draw_delays(data)`` initialize step, which takes hypothesis's data; each
    delay is drawn from it when the simulation first needs it (a read at another edge than the write's), during
    the step that needs it and printed above that step's line with the write it holds back, e.g.
    ``Draw 3 (delay (ms) of write #2 (put 'count' at SFO) to LHR): 5001``. Shrinking makes each delay as short as
    the failure allows, and the failing example replays from hypothesis's database with its delays. A delay needed
    by a subclass's own ``@initialize`` rule that hypothesis ran before ``draw_delays`` raises
    ``DelayBeforeDrawDelays`` (make such requests in rules); one needed after the last step (waitUntil work left
    at teardown) is ``max_delay``, drawn from nothing.

    A subclass's ``TestCase`` runs without hypothesis's explain phase (``NO_EXPLAIN``); settings given with
    ``settings(Machine.TestCase.settings, max_examples=...)`` keep that, where ``@settings(...)`` starts afresh."""

    worker: ClassVar[Any] = None
    edges: ClassVar[Sequence[str]] = ("SFO", "LHR", "NRT")
    kv_namespaces: ClassVar[Sequence[str]] = ()
    max_delay: ClassVar[float] = 10.0
    options: ClassVar[dict[str, Any]] = {}
    checks: ClassVar[Sequence[Invariant]] = ()
    ignore: ClassVar[Collection[str]] = ()
    search_delays: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        unknown = sorted(set(cls.ignore) - set(BUILT_IN))
        if unknown:
            raise ValueError(
                f"{cls.__name__}.ignore names no built-in checker: {', '.join(map(repr, unknown))}; "
                f"the machine runs {', '.join(BUILT_IN)}"
            )
        if cls.search_delays and "delays" in cls.options:
            raise ValueError(f"{cls.__name__} searches delays (search_delays = True): its options cannot set delays")
        # A step only for a machine that searches delays, so that the others' examples stay as they were.
        plain = WorkerMachine.draw_delays
        cls.draw_delays = initialize(data=st.data())(plain) if cls.search_delays else plain  # type: ignore[method-assign]
        cls.TestCase.settings = settings(cls.TestCase.settings, phases=NO_EXPLAIN)

    def __init__(self) -> None:
        super().__init__()
        self._run = _Run()
        options = dict(self.options)
        self._draws: _StepDraws | None = None
        if self.search_delays:
            self._draws = _StepDraws(self._run, type(self).__name__, round(self.max_delay * 1000))
            delays = options["delays"] = HypothesisDelay(self._draws, self.max_delay)
            delays.escapes = (*delays.escapes, DelayBeforeDrawDelays)
        sim = Simulation(
            edges=self.edges,
            kv_namespaces=self.kv_namespaces,
            worker=self.worker,
            max_delay=self.max_delay,
            **options,
        )
        self._run.start(sim)
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

    def draw_delays(self, data: st.DataObject) -> None:
        """With ``search_delays``, an ``@initialize`` step (so one of the first): from here on, hypothesis draws
        each write's delay to each edge from ``data`` when the simulation first needs it."""
        if self._draws is not None:
            self._draws.data = data

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

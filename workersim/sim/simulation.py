"""``Simulation``: edges, namespaces and virtual time, wrapped around the sans-I/O core on trio."""

from __future__ import annotations

import math
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from ..core.cache import EdgeCache
from ..core.delays import DefaultDelay, DelayModel
from ..core.faults import Faults
from ..core.history import History
from ..core.limits import Limits
from ..core.replicas import Cluster
from ..core.versions import CENTRAL
from ..kv.binding import KVNamespace
from ._conductor import Conductor
from ._identity import TaskIdentities

if TYPE_CHECKING:
    from ..runtime import Dispatcher, Request, Response, WorkerError

T = TypeVar("T")

DEFAULT_EDGES = ("SFO", "IAD", "GRU", "LHR", "FRA", "SIN", "NRT", "SYD")
"""Eight real Cloudflare locations on five continents."""

DEFAULT_START_TIME = 1767225600
"""2026-01-01T00:00:00Z: the UNIX time that virtual time 0 maps to unless told otherwise."""

_IDENTITIES: trio.lowlevel.RunVar[TaskIdentities] = trio.lowlevel.RunVar("workersim_task_identities")
_DEFERRED_ROWS: ContextVar[list[dict[str, Any]] | None] = ContextVar("workersim_deferred_rows", default=None)


def task_identities() -> TaskIdentities:
    """The run's task-identity instrument, installed on first use."""
    try:
        return _IDENTITIES.get()
    except LookupError:
        identities = TaskIdentities()
        trio.lowlevel.add_instrument(identities)
        _IDENTITIES.set(identities)
        return identities


class Env:
    """The bindings of one edge: one attribute per KV namespace (and per variable)."""

    def __init__(self, edge: str, bindings: dict[str, Any]) -> None:
        self._edge = edge
        for name, binding in bindings.items():
            setattr(self, name, binding)

    def __repr__(self) -> str:
        names = ", ".join(name for name in vars(self) if not name.startswith("_"))
        return f"<Env {self._edge}: {names}>"


def _edges(edges: Iterable[str]) -> tuple[str, ...]:
    names = tuple(edges) if not isinstance(edges, str) else (edges,)
    if not names:
        raise ValueError("a simulation needs at least one edge")
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"edge names must be non-empty strings, got {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"edge names must be unique, got {names!r}")
    return names


def _bindings(names: Iterable[str]) -> tuple[str, ...]:
    bindings = tuple(names) if not isinstance(names, str) else (names,)
    for name in bindings:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"KV binding names must be identifiers not starting with '_', got {name!r}")
    if len(set(bindings)) != len(bindings):
        raise ValueError(f"KV binding names must be unique, got {bindings!r}")
    return bindings


def _variables(variables: Mapping[str, Any] | None, bindings: tuple[str, ...]) -> dict[str, Any]:
    names = dict(variables or {})
    for name in names:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"variable names must be identifiers not starting with '_', got {name!r}")
        if name in bindings:
            raise ValueError(f"{name!r} cannot be both a KV binding and a variable")
    return names


def _dispatcher(sim: Simulation, worker: Any) -> Dispatcher:
    # The runtime sits above sim and imports it, so it is imported on use, keeping imports one-way at load time.
    from ..runtime import Dispatcher, load_worker

    return Dispatcher(sim, load_worker(worker))


class Simulation:
    """A simulated cluster of edge locations, each with its own replica of every KV namespace.

    Use it as ``async with sim:``; virtual time 0 is the moment it is entered. Under trio's ``MockClock``
    (``workersim.run`` or pytest-trio's ``autojump_clock``) simulated hours pass in wall-clock milliseconds, and
    the same seed always gives the same history.

    By default writes propagate to the other edges within ``max_delay`` (the ``delays`` model says when);
    ``edge_cache=workersim.EdgeCache()`` switches to today's model of a central store and per-edge caches.
    """

    def __init__(
        self,
        edges: Sequence[str] = DEFAULT_EDGES,
        kv_namespaces: Sequence[str] = (),
        *,
        seed: int = 0,
        max_delay: float = 10.0,
        delays: DelayModel | None = None,
        worker: Any = None,
        limits: Limits | None = None,
        start_time: float = DEFAULT_START_TIME,
        edge_cache: EdgeCache | None = None,
        vars: Mapping[str, Any] | None = None,  # noqa: A002 - wrangler's name
    ) -> None:
        self.edges = _edges(edges)
        self.kv_namespaces = _bindings(kv_namespaces)
        self.vars = _variables(vars, self.kv_namespaces)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int, got {seed!r}")
        if (
            isinstance(max_delay, bool)
            or not isinstance(max_delay, int | float)
            or not (math.isfinite(max_delay) and max_delay >= 0)
        ):
            raise ValueError(f"max_delay must be a finite number of seconds >= 0, got {max_delay!r}")
        delays = DefaultDelay() if delays is None else delays
        if not isinstance(delays, DelayModel):
            raise TypeError(f"delays must be a delay model (FixedDelay, UniformDelay, ...), got {delays!r}")
        bound = delays.bound()
        if bound is not None and bound > max_delay:
            raise ValueError(f"the delay model {delays!r} can exceed max_delay={max_delay} s (up to {bound} s)")
        if isinstance(start_time, bool) or not isinstance(start_time, int | float) or not math.isfinite(start_time):
            raise ValueError(f"start_time must be UNIX seconds, got {start_time!r}")
        if edge_cache is not None and not isinstance(edge_cache, EdgeCache):
            raise TypeError(f"edge_cache must be a workersim.EdgeCache, got {edge_cache!r}")
        self.limits = Limits() if limits is None else limits
        if not isinstance(self.limits, Limits):
            raise TypeError(f"limits must be a workersim.Limits, got {limits!r}")
        self.seed = seed
        self.max_delay = float(max_delay)
        self.delays = delays
        self.start_time = start_time
        self.worker = worker
        self.cluster = Cluster(
            edges=self.edges,
            seed=seed,
            delays=delays,
            max_ms=round(max_delay * 1000),
            epoch_ms=round(start_time * 1000),
            cache=edge_cache,
        )
        self.history = History()
        self._envs: dict[str, Env] = {}
        self._conductor: Conductor | None = None
        self._t0 = 0.0
        self._entered = False
        self._dispatcher = None if worker is None else _dispatcher(self, worker)

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], **options: Any) -> Simulation:
        """A simulation of the worker a wrangler configuration describes.

        ``path`` is a ``wrangler.toml``, ``wrangler.jsonc`` or ``wrangler.json``; its ``main`` file becomes the
        worker, its ``kv_namespaces`` the KV bindings and its ``vars`` the variables on ``env``. ``options`` are
        the other ``Simulation`` arguments (``edges``, ``seed``, ``max_delay``, ...). A bad file raises
        ``workersim.ConfigError`` naming the file and the problem.
        """
        from ..runtime import load_config  # on use, as in _dispatcher

        config = load_config(path)
        return cls(kv_namespaces=config.kv_namespaces, vars=config.vars, worker=config.main, **options)

    def __repr__(self) -> str:
        return f"<Simulation edges={list(self.edges)} kv={list(self.kv_namespaces)} seed={self.seed}>"

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def __aenter__(self) -> Simulation:
        if self._entered:
            raise RuntimeError("a Simulation can be entered only once")
        self._entered = True
        self._t0 = trio.current_time()
        self._conductor = Conductor(task_identities(), self.now_ms, self.cluster.collect)
        if self._dispatcher is not None:
            await self._dispatcher.open()
        await trio.lowlevel.checkpoint()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self._dispatcher is not None:
                # waitUntil work may still call bindings, so the conductor stays until it is done.
                await self._dispatcher.close(failed=exc_info[0] is not None)
        finally:
            self._conductor = None
        await trio.lowlevel.checkpoint()

    # --- time ----------------------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """Virtual milliseconds since ``async with sim`` was entered."""
        self._require_running()
        return round((trio.current_time() - self._t0) * 1000)

    def now(self) -> float:
        """Virtual seconds since ``async with sim`` was entered."""
        return self.now_ms() / 1000

    def unix_time(self) -> float:
        """The current simulated UNIX time in seconds (``start_time`` plus virtual time)."""
        return self.start_time + self.now()

    # --- the world -----------------------------------------------------------------------------------------

    def env(self, edge: str) -> Env:
        """The bindings as seen from ``edge``."""
        env = self._envs.get(edge)
        if env is None:
            if edge not in self.edges:
                raise ValueError(f"unknown edge {edge!r}; the edges are {', '.join(self.edges)}")
            bindings = {**self.vars, **{name: KVNamespace(self, name, edge) for name in self.kv_namespaces}}
            env = self._envs[edge] = Env(edge, bindings)
        return env

    @property
    def faults(self) -> Faults:
        """The faults switched on (all off by default): ``sim.faults.write_rate_limit = True`` makes a second
        write to a key within a second fail with 429; ``sim.faults.central_outage = True`` fails every write."""
        return self.cluster.faults

    def partition(self, edges: Iterable[str]) -> None:
        """Cut ``edges`` off from the rest from now on; their writes and the others' are held until the heal."""
        self.cluster.partitions.partition(self._edge_indexes(edges), self.now_ms())

    def heal(self, edges: Iterable[str]) -> None:
        """Join ``edges`` to the rest again; what was held lands now."""
        self.cluster.partitions.heal(self._edge_indexes(edges), self.now_ms())

    def _edge_indexes(self, edges: Iterable[str]) -> list[int]:
        names = [edges] if isinstance(edges, str) else list(edges)
        unknown = [name for name in names if name not in self.edges]
        if unknown:
            raise ValueError(f"unknown edge {unknown[0]!r}; the edges are {', '.join(self.edges)}")
        return [self.cluster.edge_index(name) for name in names]

    def arrival(self, write: dict[str, Any], edge: str) -> float | None:
        """When the write in history row ``write`` reaches ``edge``, in virtual seconds (``None`` while a
        partition holds it back): the "why" behind a stale read."""
        if write.get("op") not in ("put", "delete") or "error" in write or write.get("version") is None:
            raise ValueError("arrival() takes a history row of a successful put or delete")
        origin = self.cluster.edge_index(write["edge"]) if write["edge"] in self.edges else CENTRAL
        at = self.cluster.arrival_of(
            write["version"], round(write["invoke"] * 1000), origin, self._edge_indexes([edge])[0]
        )
        return None if at is None else at / 1000

    # --- operations ----------------------------------------------------------------------------------------

    async def apply(self, action: Callable[[int], T]) -> T:
        """Apply ``action(now_ms)`` at this call's turn (the conductor's order) and return its result."""
        conductor = self._require_running()
        deferred = _DEFERRED_ROWS.get()
        if deferred:
            action = self._recording_first(deferred, action)
        return await conductor.turn(action)

    def record_with_next_turn(self, row: dict[str, Any]) -> None:
        """Add ``row`` to the history together with the next operation this task (or a task it spawns) applies,
        just before that operation's own row: ordered by the conductor without a turn of its own. The runtime
        records a request's arrival this way, saving a turn on every request."""
        deferred = _DEFERRED_ROWS.get()
        if deferred is None:
            _DEFERRED_ROWS.set([row])
        else:
            deferred.append(row)

    def _recording_first(self, deferred: list[dict[str, Any]], action: Callable[[int], T]) -> Callable[[int], T]:
        def recording_first(now: int) -> T:
            # Taken when applied, not when called: spawned tasks share the list, and of their operations the one
            # applied first, in the conductor's order, is the one that records the rows.
            for row in deferred:
                self.history.append(row)
            deferred.clear()
            return action(now)

        return recording_first

    async def fetch(self, request: Request | str, /, *, edge: str | None = None, **init: Any) -> Response:
        """Run the worker at ``edge`` (default: the first edge) with that edge's ``env`` and return its ``Response``.

        ``request`` is a ``workersim.Request`` or a URL; ``init`` (``method=``, ``headers=``, ``body=``) builds or
        amends the request. Returns when the handler returns; its ``ctx.waitUntil`` work goes on, and leaving
        ``async with sim`` waits for it. A handler that raises, or returns something other than a ``Response``,
        gives a 500 and a ``worker_errors`` entry; the simulation goes on.
        """
        if self._dispatcher is None:
            raise RuntimeError(
                "this simulation has no worker: pass worker= (a fetch function, a WorkerEntrypoint subclass, a "
                'module or a file path) or use Simulation.from_config("wrangler.toml")'
            )
        self._require_running()
        return await self._dispatcher.fetch(request, self.edges[0] if edge is None else edge, init)

    @property
    def worker_errors(self) -> list[WorkerError]:
        """Every failure inside the worker so far (handlers that raised, waitUntil work that raised), in order."""
        return [] if self._dispatcher is None else self._dispatcher.errors

    def _require_running(self) -> Conductor:
        if self._conductor is None:
            raise RuntimeError("the simulation is not running: use it inside `async with sim:`")
        return self._conductor


def run(main: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``trio.run(main, *args)`` on virtual time (``MockClock(autojump_threshold=0)``), ready for simulations."""
    identities = TaskIdentities()

    async def start() -> T:
        _IDENTITIES.set(identities)
        return await main(*args)

    return trio.run(start, clock=trio.testing.MockClock(autojump_threshold=0), instruments=[identities])

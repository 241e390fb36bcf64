"""``Simulation``: edges, namespaces and virtual time, wrapped around the sans-I/O core on trio.

This is the simulation of the store alone; ``workersim.Simulation`` (``workersim.runtime.Simulation``) adds the
worker that runs on it.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import trio
import trio.testing

from ..core.cache import EdgeCache
from ..core.delays import DefaultDelay, DelayModel
from ..core.faults import Faults
from ..core.limits import Limits
from ..core.replicas import Cluster
from ..core.rows import CENTRAL_EDGE, AnyRow, KVWrite
from ..core.store import Store
from ..core.versions import CENTRAL
from ..kv.binding import KVNamespace
from ._identity import TaskIdentities
from .engine import Engine, install_identities
from .history import History
from .load import LoadStats, load_seed, run_load

T = TypeVar("T")

DEFAULT_EDGES = ("SFO", "IAD", "GRU", "LHR", "FRA", "SIN", "NRT", "SYD")
"""Eight real Cloudflare locations on five continents."""

DEFAULT_START_TIME = 1767225600
"""2026-01-01T00:00:00Z: the UNIX time that virtual time 0 maps to unless told otherwise."""


class Env:
    """The bindings of one edge: one attribute per KV namespace (and per variable)."""

    def __init__(self, edge: str, bindings: dict[str, Any]) -> None:
        self._edge = edge
        for name, binding in bindings.items():
            setattr(self, name, binding)

    def __repr__(self) -> str:
        names = ", ".join(name for name in vars(self) if not name.startswith("_"))
        return f"<Env {self._edge}: {names}>"

    def __getattr__(self, name: str) -> Any:
        # Only for names that are not bindings: say which there are, as a misspelt binding is a common mistake.
        if name.startswith("__"):
            raise AttributeError(name)
        bindings = [f"{key} ({type(value).__name__})" for key, value in vars(self).items() if not key.startswith("_")]
        listed = ", ".join(bindings) if bindings else "none"
        raise AttributeError(
            f"env has no binding or variable {name!r}; this worker's are: {listed} (KV namespaces come from "
            "kv_namespaces in wrangler.toml or kv_namespaces=, variables from vars)"
        )


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
        self.edge_cache = edge_cache
        """The edge-cache model's settings, or ``None`` under push propagation."""
        self.limits = Limits() if limits is None else limits
        if not isinstance(self.limits, Limits):
            raise TypeError(f"limits must be a workersim.Limits, got {limits!r}")
        self.seed = seed
        self.max_delay = float(max_delay)
        self.delays = delays
        self.start_time = start_time
        self.history = History()
        """Every operation so far, as typed rows (``KVRead``, ``KVWrite``, ...)."""
        cluster = Cluster(
            edges=self.edges,
            seed=seed,
            delays=delays,
            max_ms=round(max_delay * 1000),
            epoch_ms=round(start_time * 1000),
            cache=edge_cache,
        )
        self._engine = Engine(Store(cluster, self.limits, self.history))
        for observer in _OBSERVERS:
            observer(self)
        describe_with = getattr(delays, "describe_with", None)
        if callable(describe_with):
            describe_with(self._describe_write)
        self._envs: dict[str, Env] = {}
        self._entered = False

    def __repr__(self) -> str:
        return f"<Simulation edges={list(self.edges)} kv={list(self.kv_namespaces)} seed={self.seed}>"

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def __aenter__(self) -> Simulation:
        if self._entered:
            raise RuntimeError("a Simulation can be entered only once")
        self._entered = True
        self._engine.start()
        await trio.lowlevel.checkpoint()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._engine.stop()
        self.history.close()
        await trio.lowlevel.checkpoint()

    # --- time ----------------------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """Virtual milliseconds since ``async with sim`` was entered."""
        return self._engine.now_ms()

    def now(self) -> float:
        """Virtual seconds since ``async with sim`` was entered."""
        return self.now_ms() / 1000

    def unix_time(self) -> float:
        """The current simulated UNIX time in seconds (``start_time`` plus virtual time)."""
        return self.start_time + self.now()

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass for the calling task: the same as ``trio.sleep(seconds)`` (same
        history), but when the task is alone and no other task's deadline falls within those seconds, the clock
        simply moves on, with no cancel scope and no scheduler pass. For simulation-driven waits in long runs."""
        await self._engine.sleep(seconds)

    async def run_load(
        self,
        *,
        rate: float,
        duration: float,
        keys: int = 1000,
        read_fraction: float = 0.9,
        value_size: int = 100,
        edges: Sequence[str] | None = None,
        seed: int | None = None,
        namespace: str | None = None,
    ) -> LoadStats:
        """Run an open-loop stream of gets and puts for ``duration`` virtual seconds and return its statistics.

        Operations arrive as a Poisson stream of ``rate`` a second, each at a random edge of ``edges`` (default:
        all), on one of ``keys`` keys (``load-0`` ...), a get with probability ``read_fraction`` and otherwise a
        put of ``value_size`` bytes, in ``namespace`` (default: the first KV binding). They go through the same
        operation path and history as binding calls, in the conductor's order, without a task each: while no
        other task could run meanwhile, whole chunks are applied at their own virtual times at once. Every choice
        comes from the simulation's seed (and ``seed``, for several streams). Useful beside a handler as background
        load, or alone to measure a day of staleness.
        """
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive number of operations a second, got {rate!r}")
        if not (isinstance(duration, int | float) and math.isfinite(duration) and duration >= 0):
            raise ValueError(f"duration must be a finite number of seconds >= 0, got {duration!r}")
        if not (isinstance(keys, int) and keys >= 1):
            raise ValueError(f"keys must be a positive number of keys, got {keys!r}")
        if not (isinstance(read_fraction, int | float) and 0 <= read_fraction <= 1):
            raise ValueError(f"read_fraction must be between 0 and 1, got {read_fraction!r}")
        if not (isinstance(value_size, int) and 0 <= value_size <= self.limits.value_bytes):
            raise ValueError(f"value_size must be 0 to {self.limits.value_bytes} bytes, got {value_size!r}")
        chosen = self.edges if edges is None else tuple(self._edge_names(edges))
        space = namespace or (self.kv_namespaces[0] if self.kv_namespaces else "LOAD")
        return await run_load(
            self._engine,
            namespace=space,
            edges=chosen,
            rate=float(rate),
            duration=float(duration),
            keys=keys,
            read_fraction=float(read_fraction),
            value_size=value_size,
            seed=load_seed(self.seed, seed, space),
        )

    # --- the world -----------------------------------------------------------------------------------------

    def env(self, edge: str) -> Env:
        """The bindings as seen from ``edge``."""
        env = self._envs.get(edge)
        if env is None:
            if edge not in self.edges:
                raise ValueError(f"unknown edge {edge!r}; the edges are {', '.join(self.edges)}")
            engine = self._engine
            kv = {name: KVNamespace(engine, name, edge) for name in self.kv_namespaces}
            bindings = {**self.vars, **self._more_bindings(edge), **kv}
            env = self._envs[edge] = Env(edge, bindings)
        return env

    def _more_bindings(self, edge: str) -> dict[str, Any]:
        """Bindings a subclass adds to every ``env`` (the runtime's secrets, assets, unsimulated bindings)."""
        return {}

    @property
    def faults(self) -> Faults:
        """The faults switched on (all off by default): ``sim.faults.write_rate_limit = True`` makes a second
        write to a key within a second fail with 429; ``sim.faults.central_outage = True`` fails every write."""
        return self._engine.store.cluster.faults

    def partition(self, edges: Iterable[str]) -> None:
        """Cut ``edges`` off from the other edges from now on; writes between the two sides are held until the heal.

        Under push propagation the central store (what the REST API reads) still has every write at once, the
        cut-off edges' included; under the edge-cache model the cut-off edges cannot reach the central store, so
        their writes and their reads of keys not in their cache fail with a 503."""
        self._engine.store.cluster.partitions.partition(self._edge_indexes(edges), self.now_ms())

    def heal(self, edges: Iterable[str]) -> None:
        """Join ``edges`` to the rest again; what was held lands now."""
        self._engine.store.cluster.partitions.heal(self._edge_indexes(edges), self.now_ms())

    def _edge_names(self, edges: Iterable[str]) -> list[str]:
        names = [edges] if isinstance(edges, str) else list(edges)
        unknown = [name for name in names if name not in self.edges]
        if unknown or not names:
            raise ValueError(f"unknown edge {unknown[0] if unknown else None!r}; the edges are {', '.join(self.edges)}")
        return names

    def _edge_indexes(self, edges: Iterable[str]) -> list[int]:
        cluster = self._engine.store.cluster
        return [cluster.edge_index(name) for name in self._edge_names(edges)]

    def _describe_write(self, seq: int) -> str:
        for row in reversed(self.history.rows):
            if isinstance(row, KVWrite) and row.version == seq:
                return f"write #{row.id} ({row.op} {row.key!r} at {row.edge})"
        return f"version {seq}"

    def arrival(self, write: AnyRow, edge: str) -> float | None:
        """When the write in history row ``write`` reaches ``edge``, in virtual seconds (``None`` while a
        partition holds it back): the "why" behind a stale read. Under the edge-cache model it is when ``edge``
        can first answer it: when the older answer it had cached then ages past ``cacheTtl``."""
        if not isinstance(write, KVWrite) or not isinstance(write.version, int):
            raise ValueError("arrival() takes the history row of a successful put or delete")
        cluster = self._engine.store.cluster
        if write.edge == CENTRAL_EDGE:
            origin = CENTRAL
        elif write.edge in self.edges:
            origin = cluster.edge_index(write.edge)
        else:
            raise ValueError(f"the write was made at {write.edge!r}, which is not an edge of this simulation")
        target = self._edge_indexes([edge])[0]
        made = round(write.invoke * 1000)
        caches = cluster.namespace(write.ns).caches
        if caches is not None:
            return (made if origin == target else caches.visible_at(write.key, target, write.version, made)) / 1000
        at = cluster.arrival_of(write.version, made, origin, target)
        return None if at is None else at / 1000


_OBSERVERS: list[Callable[[Simulation], None]] = []


def observe_simulations(observer: Callable[[Simulation], None]) -> Callable[[], None]:
    """Call ``observer(sim)`` for every simulation made from now on (the pytest plugin keeps a test's simulations
    this way, to explain a failure); returns the function that stops it."""
    _OBSERVERS.append(observer)
    return lambda: _OBSERVERS.remove(observer)


def engine(sim: Simulation) -> Engine:
    """The engine of ``sim``: for the layers built on a simulation (the runtime, the servers), not for users."""
    return sim._engine


def resume_clock(sim: Simulation, at_ms: int, unix_time: float) -> None:
    """Make ``sim``'s virtual clock start at ``at_ms`` rather than 0, with simulated UNIX time ``unix_time`` at
    that instant (a server restarted on its ``--persist`` file continues its earlier run). Before ``async with
    sim``."""
    if sim._entered:
        raise RuntimeError("resume_clock() is for a simulation that has not started")
    sim._engine.start_ms = at_ms
    sim.start_time = unix_time - at_ms / 1000
    sim._engine.store.cluster.epoch_ms = round(sim.start_time * 1000)


def run(main: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``trio.run(main, *args)`` on virtual time (``MockClock(autojump_threshold=0)``), ready for simulations."""
    identities = TaskIdentities()

    async def start() -> T:
        install_identities(identities)
        return await main(*args)

    return trio.run(start, clock=trio.testing.MockClock(autojump_threshold=0), instruments=[identities])

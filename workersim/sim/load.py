"""Background load without a task per operation: an open-loop (Poisson) stream of gets and puts at random edges,
fed straight to the store in the conductor's order, with statistics of the staleness its reads met."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import trio

from ..core._hash import derive_seed
from ..core.staleness import first_missed
from ..core.versions import SEQ, TIME, Stored

if TYPE_CHECKING:
    from .engine import Engine

CHUNK = 1024
"""Operations applied in one go while the driving task is alone (then it lets the scheduler run once)."""


@attrs.frozen(kw_only=True)
class LoadStats:
    """What a ``run_load`` did and what its reads met. A read is stale when a newer write of its key had been made
    (anywhere) before it; its staleness is how long before the read the first such write was made."""

    ops: int
    reads: int
    writes: int
    stale_reads: int
    staleness_p50: float | None
    """Median staleness of the stale reads, in seconds (``None`` without stale reads)."""
    staleness_p99: float | None
    staleness_max: float | None
    by_edge: dict[str, tuple[int, int]]
    """Per edge: (reads, stale reads)."""
    duration: float
    """Virtual seconds the load ran."""

    @property
    def stale_fraction(self) -> float:
        """The share of reads that were stale."""
        return self.stale_reads / self.reads if self.reads else 0.0


def _quantile(ordered: Sequence[int], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000


class _Driver:
    """The state of one ``run_load``: its random stream, its counters, and one operation applied at a time."""

    def __init__(
        self, engine: Engine, namespace: str, edges: Sequence[str], keys: int, read_fraction: float, value: bytes,
        rate: float, seed: int,
    ) -> None:  # fmt: skip
        cluster = engine.store.cluster
        self.store = engine.store
        self.cluster = cluster
        self.namespace = namespace
        self.space = cluster.namespace(namespace)
        self.edges = [cluster.edge_index(edge) for edge in edges]
        self.names = list(edges)
        self.keys = [f"load-{i}" for i in range(keys)]
        self.read_fraction = read_fraction
        self.value = value
        self.random = random.Random(seed)
        self.mean_gap_ms = 1000.0 / rate
        self.reads = self.writes = self.stale = 0
        self.staleness: list[int] = []
        self.by_edge = {edge: [0, 0] for edge in edges}

    def next_time(self, t: float) -> float:
        """The time of the operation after one at ``t`` (exponential gaps: a Poisson stream)."""
        return t + self.random.expovariate(1.0) * self.mean_gap_ms

    def apply(self, now: int) -> None:
        """Draw one operation and apply it at ``now`` through the store's operation path."""
        draw = self.random
        where = draw.randrange(len(self.edges))
        key = self.keys[draw.randrange(len(self.keys))]
        if draw.random() >= self.read_fraction:
            self.writes += 1
            self.store.put(now, self.namespace, key, self.value, origin=self.edges[where])
            return
        self.reads += 1
        counts = self.by_edge[self.names[where]]
        counts[0] += 1
        seen, _ = self.store.read(now, self.namespace, key, edge=self.edges[where])
        versions = self.space.held(key)
        missed = first_missed(versions, _index_of(versions, seen))
        if missed is not None:
            self.stale += 1
            counts[1] += 1
            self.staleness.append(now - missed[TIME])

    def stats(self, duration: float) -> LoadStats:
        ordered = sorted(self.staleness)
        return LoadStats(
            ops=self.reads + self.writes,
            reads=self.reads,
            writes=self.writes,
            stale_reads=self.stale,
            staleness_p50=_quantile(ordered, 0.5),
            staleness_p99=_quantile(ordered, 0.99),
            staleness_max=ordered[-1] / 1000 if ordered else None,
            by_edge={edge: (reads, stale) for edge, (reads, stale) in self.by_edge.items()},
            duration=duration,
        )


def _index_of(versions: Sequence[Stored], seen: Stored | None) -> int:
    # Versions newer than any an edge can read are never collected, so the one seen is still held, or nothing was.
    if seen is None:
        return -1
    for i in range(len(versions) - 1, -1, -1):
        if versions[i][SEQ] == seen[SEQ]:
            return i
    return -1


async def run_load(
    engine: Engine,
    *,
    namespace: str,
    edges: Sequence[str],
    rate: float,
    duration: float,
    keys: int,
    read_fraction: float,
    value_size: int,
    seed: int,
) -> LoadStats:
    """Drive the load for ``duration`` virtual seconds from now (see ``Simulation.run_load``)."""
    driver = _Driver(engine, namespace, edges, keys, read_fraction, b"v" * value_size, rate, seed)
    cluster = driver.cluster
    start = engine.now_ms()
    end = start + duration * 1000
    t = driver.next_time(float(start))
    while t < end:
        quiet = engine.quiet_until_ms()
        if quiet is None:
            # Another task could act in between: one operation the ordinary way, at its turn.
            await engine.advance_to(int(t))
            await engine.apply(driver.apply)
            t = driver.next_time(t)
            continue
        # Alone, and nobody's deadline before `quiet`: apply a chunk at their own times, then move the clock on.
        last = None
        for _ in range(CHUNK):
            at = int(t)
            if t >= end or at >= quiet:
                break
            cluster.collect(at)
            driver.apply(at)
            last = at
            t = driver.next_time(t)
        if last is None:
            await engine.advance_to(min(quiet, int(end)))
        else:
            await engine.advance_to(last)
            await trio.lowlevel.checkpoint()  # I/O and the like get a look in after every chunk
    await engine.advance_to(int(end))
    return driver.stats(duration)


def load_seed(sim_seed: int, seed: int | None, namespace: str) -> int:
    """The seed of a load's random stream: from the simulation's seed, the load's own and its namespace."""
    return derive_seed(sim_seed, "run_load", namespace, 0 if seed is None else seed)

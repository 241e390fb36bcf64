"""How stale, how often: the probability that a read at another edge ``t`` seconds after a write sees it
(probabilistically bounded staleness), measured by running the simulation across seeds.

Each seed's run writes a key at the first edge and reads it at every other edge at each ``t`` of a grid from 0
to ``span`` seconds after the write; the curve is, for each ``t``, the fraction of those reads (over all seeds)
that returned the write. Under push propagation (the default) that is the delay model's distribution function.
Under the edge-cache model it depends on when each edge last fetched the key: here every other edge read it
(and cached its absence) at a moment drawn uniformly from the ``cacheTtl`` seconds before the write, as an edge
serving a steadily read key would have, so the write shows there once that cached miss has aged past
``cacheTtl``: the curve rises linearly from 0 to 1 over ``cacheTtl`` seconds.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import attrs

from ..core.cache import EdgeCache
from ..core.delays import DefaultDelay, DelayModel, FixedDelay, UniformDelay
from ..sim.simulation import DEFAULT_EDGES, Simulation, run
from .results import SeedResult
from .targets import SweepOutcome


def parse_delays(text: str) -> DelayModel:
    """The delay model a short text names: ``default`` or ``default:MEAN`` (exponential, capped at the
    simulation's ``max_delay``), ``fixed:SECONDS`` or ``uniform:LOW:HIGH``; ``ValueError`` otherwise."""
    name, *numbers = text.strip().lower().split(":")
    forms = {"default": (DefaultDelay, (0, 1)), "fixed": (FixedDelay, (1,)), "uniform": (UniformDelay, (2,))}
    if name not in forms or len(numbers) not in forms[name][1]:
        raise ValueError(f"a delay model is default, default:MEAN, fixed:SECONDS or uniform:LOW:HIGH, got {text!r}")
    try:
        values = [float(number) for number in numbers]
    except ValueError:
        raise ValueError(f"the delay model {text!r} needs numbers of seconds") from None
    model: DelayModel = forms[name][0](*values)
    return model


def edge_names(count: int) -> tuple[str, ...]:
    """``count`` edge names: the default simulation's first, then ``E9``, ``E10``, ..."""
    return DEFAULT_EDGES[:count] + tuple(f"E{number}" for number in range(len(DEFAULT_EDGES) + 1, count + 1))


@attrs.frozen(kw_only=True)
class StalenessProbe:
    """One seed's measurement (a sweep target): a write at the first of ``edges`` edges, then reads at every other
    edge at each of ``times_ms()``. Its outcome is ``{"seen": [...]}``: for each time, how many of those reads
    returned the write."""

    edges: int = attrs.field(validator=attrs.validators.ge(2))
    span: float = attrs.field(validator=attrs.validators.gt(0))
    """The last ``t``, in seconds (the propagation bound under push propagation)."""
    delays: DelayModel | None = None
    """The propagation delay model (``None``: the default); unused under the edge cache."""
    cache_ttl: int | None = None
    """Measure the edge-cache model with this ``cacheTtl`` instead of push propagation."""
    points: int = attrs.field(default=41, validator=attrs.validators.ge(2))
    """How many times ``t`` the grid has, evenly from 0 to ``span``."""

    def times_ms(self) -> list[int]:
        """The grid: milliseconds after the write at which the other edges read."""
        return [round(self.span * 1000 * index / (self.points - 1)) for index in range(self.points)]

    def __call__(self, seed: int) -> SweepOutcome:
        """Run the measurement on ``seed``."""
        return run(self._measure, seed)

    async def _measure(self, seed: int) -> SweepOutcome:
        names = edge_names(self.edges)
        cache = None if self.cache_ttl is None else EdgeCache(default_ttl=self.cache_ttl)
        sim = Simulation(
            edges=names, kv_namespaces=("KV",), seed=seed, max_delay=self.span, delays=self.delays, edge_cache=cache
        )
        readers = [sim.env(edge).KV for edge in names[1:]]
        seen = []
        async with sim:
            written_at = 0
            if self.cache_ttl is not None:
                # Each reader caches the key's absence at a moment of the cacheTtl before the write.
                written_at = self.cache_ttl * 1000
                draws = random.Random(seed)
                for at, reader in sorted((draws.randrange(written_at), index) for index in range(len(readers))):
                    await _until(sim, at)
                    await readers[reader].get("key")
            await _until(sim, written_at)
            await sim.env(names[0]).KV.put("key", "written")
            for at in self.times_ms():
                await _until(sim, written_at + at)
                seen.append(sum([await reader.get("key") == "written" for reader in readers]))
        return SweepOutcome(outcome={"seen": seen}, history=sim.history)


async def _until(sim: Simulation, at_ms: int) -> None:
    await sim.sleep(max(0, at_ms - sim.now_ms()) / 1000)


def curve(probe: StalenessProbe, results: Iterable[SeedResult]) -> list[dict[str, Any]]:
    """The staleness curve from a sweep of ``probe``: ``[{"t": seconds, "p": probability}, ...]``, where ``p`` is
    the fraction of reads ``t`` seconds after the write that saw it. Seeds whose run raised are left out (a
    ``ValueError`` when none is left)."""
    times = probe.times_ms()
    totals = [0] * len(times)
    runs = 0
    for result in results:
        if result.error is not None:
            continue
        runs += 1
        for index, count in enumerate(result.outcome["seen"]):
            totals[index] += count
    if not runs:
        raise ValueError("no seed of the staleness measurement ran to the end")
    reads = runs * (probe.edges - 1)
    return [{"t": at / 1000, "p": total / reads} for at, total in zip(times, totals, strict=True)]

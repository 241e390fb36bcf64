"""Sweep targets for the tests: a read-after-write property whose failing seeds the test can name in advance, and a
target that is not deterministic on purpose. Importable as ``_sweep_targets`` with ``tests/`` on the path."""

from __future__ import annotations

import os

import trio

import workersim
from workersim.sweep import SweepOutcome

PROPAGATION = 0.25
"""Seconds every write takes to reach the other edge."""

CYCLE = 50
"""The read waits ``(seed % CYCLE) / 10`` seconds after the write; seed ``CYCLE - 1`` of each cycle raises."""


def read_after_write(seed: int) -> SweepOutcome:
    """Write at SFO, read at LHR ``(seed % 50) / 10`` seconds later: ``"ok"`` when the read sees the write,
    ``"stale"`` when it is too early (the first three seeds of every fifty), and a ``ValueError`` at seed 49 of
    every fifty."""
    if seed % CYCLE == CYCLE - 1:
        raise ValueError(f"seed {seed} is one this target refuses")
    return workersim.run(_read_after_write, seed)


async def _read_after_write(seed: int) -> SweepOutcome:
    sim = workersim.Simulation(
        edges=("SFO", "LHR"), kv_namespaces=("KV",), seed=seed, max_delay=1, delays=workersim.FixedDelay(PROPAGATION)
    )
    async with sim:
        await sim.env("SFO").KV.put("key", "value")
        await trio.sleep((seed % CYCLE) / 10)
        seen = await sim.env("LHR").KV.get("key")
    return SweepOutcome(outcome="ok" if seen == "value" else "stale", history=sim.history)


def nondeterministic(seed: int) -> SweepOutcome:
    """Writes bytes from ``os.urandom``, which no seed fixes: every run of a seed records a different history."""
    return workersim.run(_nondeterministic, seed)


async def _nondeterministic(seed: int) -> SweepOutcome:
    sim = workersim.Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",), seed=seed)
    async with sim:
        await sim.env("SFO").KV.put("key", os.urandom(8).hex())
    return SweepOutcome(outcome="ok", history=sim.history)

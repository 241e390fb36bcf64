"""One seed, one trace: the same program and seed give byte-identical histories in any process."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import trio

import workersim

# The racing workload of the golden histories: fifty tasks, some spawning children, on five edges.
WORKLOAD = Path(__file__).with_name("golden_workloads.py")


def run_workload(seed: int, hash_seed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, str(WORKLOAD), "racing", str(seed)], env=env, capture_output=True, check=True, timeout=120
    )
    return done.stdout


def test_same_seed_gives_byte_identical_histories_across_processes() -> None:
    runs = [run_workload(7, hash_seed) for hash_seed in ("0", "1", "4242", "random")]
    # Every call is one row: 50 tasks of 12 calls each, and 5 children (tasks 0, 10, ..., 40) of 4 reads each.
    assert len(runs[0].splitlines()) == 50 * 12 + 5 * 4
    digests = {hashlib.sha256(run).hexdigest() for run in runs}
    assert len(digests) == 1


def test_a_different_seed_gives_a_different_history() -> None:
    assert run_workload(7, "0") != run_workload(8, "0")


async def test_operations_at_one_instant_are_applied_in_spawn_order(autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",))
    async with sim:
        async with trio.open_nursery() as nursery:
            for i in range(20):
                nursery.start_soon(sim.env(("SFO", "LHR")[i % 2]).KV.put, f"k{i}", str(i))
    assert [row.key for row in sim.history] == [f"k{i}" for i in range(20)]

"""Recorded workloads reproduce their golden histories byte for byte, in this process and in others with other
hash seeds: the conductor, the store and the row format may change only in ways no history can see.

The golden files were recorded from the leader-based conductor (before the conductor of the scheduler's idle
hook); ``python tests/golden_workloads.py --write`` rewrites them, for a deliberate change of format only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from golden_workloads import GOLDEN, WORKLOADS, history

SCRIPT = Path(__file__).with_name("golden_workloads.py")


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_a_workload_reproduces_its_golden_history(name: str) -> None:
    assert history(name) == (GOLDEN / f"{name}.jsonl").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(WORKLOADS))
@pytest.mark.parametrize("hash_seed", ["0", "random"])
def test_other_processes_and_hash_seeds_reproduce_it_too(name: str, hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, str(SCRIPT), name], env=env, capture_output=True, check=True, timeout=120)
    assert done.stdout == (GOLDEN / f"{name}.jsonl").read_bytes()


def test_another_seed_gives_another_history() -> None:
    assert history("partitions", 8) != history("partitions")

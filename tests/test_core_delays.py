"""Delay models: pure functions of the draw, bounded, and the default's shape."""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workersim.core import Cluster, DefaultDelay, FixedDelay, UniformDelay, Version
from workersim.core._hash import mix, name_key, splitmix64
from workersim.core.replicas import TIMED_WRITES


def test_fixed_delay_ignores_the_draw() -> None:
    assert {FixedDelay(1.5).delay_ms(d, "A", "B", 10_000) for d in range(100)} == {1500}


def test_uniform_delay_stays_in_range_and_covers_it() -> None:
    model = UniformDelay(0.5, 0.6)
    delays = {model.delay_ms(splitmix64(i), "A", "B", 10_000) for i in range(5000)}
    assert min(delays) == 500 and max(delays) == 600


def test_default_delay_is_about_a_second_and_capped_at_max_delay() -> None:
    model = DefaultDelay()
    delays = [model.delay_ms(splitmix64(i), "A", "B", 10_000) for i in range(20_000)]
    assert 600 <= statistics.median(delays) <= 800  # exponential with a one-second mean
    assert 950 <= statistics.mean(delays) <= 1050
    assert max(delays) <= 10_000
    assert max(model.delay_ms(splitmix64(i), "A", "B", 300) for i in range(1000)) == 300


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "1", True])
def test_models_reject_bad_seconds(bad: object) -> None:
    with pytest.raises(ValueError):
        FixedDelay(bad)  # type: ignore[arg-type]


MASK = (1 << 64) - 1


def published_splitmix64(x: int) -> int:
    """splitmix64's finaliser step by step, as published (Steele, Lea and Flood; Vigna's C code)."""
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


@given(parts=st.lists(st.integers(-(2**70), 2**70), max_size=4))
def test_mix_is_splitmix64_of_each_masked_part_in_turn(parts: list[int]) -> None:
    expected = 0
    for part in parts:
        expected = published_splitmix64(expected ^ (part & MASK))
    assert mix(*parts) == expected
    assert [splitmix64(part) for part in parts] == [published_splitmix64(part) for part in parts]


@given(draw=st.integers(0, MASK), typical=st.floats(0, 100), max_ms=st.integers(0, 100_000))
def test_the_default_delay_is_the_exponential_of_the_draws_top_53_bits(draw: int, typical: float, max_ms: int) -> None:
    uniform = (draw >> 11) / 2**53
    assert DefaultDelay(typical).delay_ms(draw, "A", "B", max_ms) == min(
        max_ms, round(-typical * math.log1p(-uniform) * 1000)
    )


HASHES = """
from workersim.core._hash import mix, name_key, splitmix64
print(splitmix64(0), name_key("SFO"), name_key("LHR"), mix(1, 2), mix(2, 1))
"""


def hashes_in_a_process(hash_seed: str) -> list[int]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", HASHES], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [int(word) for word in done.stdout.split()]


def test_hashing_is_stable_across_processes() -> None:
    # Processes with different string-hash salts must agree, and agree with this one.
    here = [splitmix64(0), name_key("SFO"), name_key("LHR"), mix(1, 2), mix(2, 1)]
    assert [hashes_in_a_process(salt) for salt in ("0", "1", "random")] == [here] * 3
    assert splitmix64(0) == 0xE220A8397B1DCDAF  # the published first output of splitmix64 seeded with 0
    assert name_key("SFO") != name_key("LHR") and mix(1, 2) != mix(2, 1)


def test_arrivals_depend_on_seed_version_and_edge_not_on_call_order() -> None:
    def cluster(seed: int) -> Cluster:
        return Cluster(edges=("A", "B", "C"), seed=seed, delays=DefaultDelay(), max_ms=10_000, epoch_ms=0)

    version = Version(seq=5, time=100, origin=0, value=b"v")
    first, second = cluster(1), cluster(1)
    forward = [first.arrival(version, e) for e in (1, 2)]
    backward = [second.arrival(version, e) for e in (2, 1)][::-1]
    assert forward == backward
    assert first.arrival(version, 0) == 100  # the writing edge has it at once
    assert [cluster(2).arrival(version, e) for e in (1, 2)] != forward


def test_arrivals_are_the_same_however_many_writes_were_timed_before() -> None:
    def cluster() -> Cluster:
        return Cluster(edges=("A", "B", "C"), seed=3, delays=DefaultDelay(), max_ms=10_000, epoch_ms=0)

    busy = cluster()
    seqs = range(1, 2 * TIMED_WRITES + 2)
    first = [busy.arrival_of(seq, 0, 0, 1) for seq in seqs]
    again = [busy.arrival_of(seq, 0, 0, 2) for seq in reversed(seqs)][::-1]
    assert first == [cluster().arrival_of(seq, 0, 0, 1) for seq in seqs]
    assert again == [cluster().arrival_of(seq, 0, 0, 2) for seq in seqs]
    draw = mix(3, 7, name_key("B"))  # mix(seed, seq, edge key): the draw the delay model is documented to get
    assert cluster().arrival_of(7, 0, 0, 1) == DefaultDelay().delay_ms(draw, "A", "B", 10_000)

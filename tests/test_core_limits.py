"""Limits: the seed documents' defaults, today's published limits, and what the binding does with them."""

from __future__ import annotations

import pytest
import trio

import workersim
from workersim import Limits


def test_defaults_follow_the_seed_documents() -> None:
    limits = Limits()
    assert (limits.key_bytes, limits.value_bytes, limits.metadata_bytes) == (512, 2 * 1024 * 1024, 1024)
    assert (limits.namespaces, limits.list_keys, limits.bulk_get_keys) == (20, 1000, 100)
    assert (limits.min_expiration_ttl, limits.min_cache_ttl) == (60, 30)


def test_current_gives_todays_published_limits() -> None:
    current = Limits.current()
    assert (current.value_bytes, current.namespaces) == (25 * 1024 * 1024, 1000)
    assert current.key_bytes == 512


@pytest.mark.parametrize("bad", [0, -1, 1.5, "512", True])
def test_limits_must_be_positive_integers(bad: object) -> None:
    with pytest.raises(ValueError, match="key_bytes must be a positive integer"):
        Limits(key_bytes=bad)  # type: ignore[arg-type]


async def test_a_value_of_two_mebibytes_fits_by_default_and_one_byte_more_does_not(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with workersim.Simulation(edges=("SFO",), kv_namespaces=("KV",)) as sim:
        kv = sim.env("SFO").KV
        await kv.put("fits", b"x" * (2 * 1024 * 1024))
        with pytest.raises(
            workersim.KVError,
            match=r"^KV PUT failed: 413 Value length of 2097153 exceeds limit "
            r"of 2097152\.$",
        ):
            await kv.put("too big", b"x" * (2 * 1024 * 1024 + 1))
    async with workersim.Simulation(edges=("SFO",), kv_namespaces=("KV",), limits=Limits.current()) as sim:
        await sim.env("SFO").KV.put("fits now", b"x" * (2 * 1024 * 1024 + 1))

"""The opt-in edge-cache model: central store, per-edge caches with cacheTtl, negative caching."""

from __future__ import annotations

import pytest
import trio

import workersim

EDGES = ("SFO", "LHR")


def make(**kwargs: object) -> workersim.Simulation:
    return workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), edge_cache=workersim.EdgeCache(), **kwargs)


async def test_other_edges_see_a_write_once_their_cached_answer_ages_out(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        sfo, lhr = sim.env("SFO").KV, sim.env("LHR").KV
        assert await lhr.get("k") is None  # a miss, cached (negative caching)
        await trio.sleep(1)
        await sfo.put("k", "v")
        assert await sfo.get("k") == "v"  # the writer's cache has it at once
        await trio.sleep(58.999)
        assert await lhr.get("k") is None
        await trio.sleep(0.001)  # the cached miss is now 60 s old
        assert await lhr.get("k") == "v"


async def test_a_lower_cache_ttl_refetches_sooner(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        await sim.env("LHR").KV.get("k")
        await sim.env("SFO").KV.put("k", "v")
        await trio.sleep(30)
        assert await sim.env("LHR").KV.get("k", cacheTtl=30) == "v"


async def test_an_edge_that_never_read_sees_writes_at_once(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        await sim.env("SFO").KV.put("k", "v")
        assert await sim.env("LHR").KV.get("k") == "v"
        assert (await sim.env("LHR").KV.list())["keys"] == [{"name": "k"}]


async def test_expiration_wins_over_the_cache(autojump_clock: trio.abc.Clock) -> None:
    async with make(start_time=1000) as sim:
        await sim.env("SFO").KV.put("k", "v", expiration=1070)
        assert await sim.env("LHR").KV.get("k", cacheTtl=3600) == "v"
        await trio.sleep(70)
        assert await sim.env("LHR").KV.get("k", cacheTtl=3600) is None


async def test_outage_keeps_cached_reads_and_fails_the_rest(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        kv = sim.env("LHR").KV
        await sim.env("SFO").KV.put("k", "v")
        assert await kv.get("k") == "v"
        sim.faults.central_outage = True
        assert await kv.get("k") == "v"
        with pytest.raises(workersim.KVError, match="^KV GET failed: 503 Service Unavailable$"):
            await kv.get("uncached")
        with pytest.raises(workersim.KVError, match="^KV GET_BULK failed: 503 Service Unavailable$"):
            await kv.get(["k", "uncached"])
        with pytest.raises(workersim.KVError, match="^KV PUT failed: 503"):
            await kv.put("k", "w")


async def test_an_edge_cut_off_from_central_answers_only_from_its_cache(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        kv = sim.env("LHR").KV
        await sim.env("SFO").KV.put("k", "v")
        await kv.get("k")
        sim.partition(["LHR"])
        assert await kv.get("k") == "v"
        with pytest.raises(workersim.KVError, match="^KV DELETE failed: 503"):
            await kv.delete("k")
        await sim.env("SFO").KV.put("k", "w")  # the rest of the world goes on
        sim.heal(["LHR"])
        await trio.sleep(60)
        assert await kv.get("k") == "w"


def test_bad_cache_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="default_ttl"):
        workersim.EdgeCache(default_ttl=0)
    with pytest.raises(TypeError, match="edge_cache"):
        workersim.Simulation(edge_cache=60)  # type: ignore[arg-type]


async def test_arrival_is_when_the_older_cached_answer_expires(autojump_clock: trio.abc.Clock) -> None:
    # The plan (cacheTtl 60 s): LHR caches a miss at 0; SFO writes at 1 s; NRT never read; at 40 s LHR is still
    # answering its cached miss. A second key is cached at LHR at 0 and refetched at 30 s with cacheTtl 30.
    sim = workersim.Simulation(edges=("SFO", "LHR", "NRT"), kv_namespaces=("KV",), edge_cache=workersim.EdgeCache())
    async with sim:
        sfo, lhr = sim.env("SFO").KV, sim.env("LHR").KV
        await lhr.get("k")
        await lhr.get("j")
        await trio.sleep(1)
        await sfo.put("k", "v")
        await sfo.put("j", "v")
        await trio.sleep(29)
        await lhr.get("j", cacheTtl=30)  # fetched again, before the default ttl would have let it
        await trio.sleep(10)
        await sfo.put("k", "w")  # made while LHR's cached miss (from 0 s) still stands
    k, j, later = (row for row in sim.history if isinstance(row, workersim.KVWrite))
    assert sim.arrival(k, "LHR") == 60.0  # the cached miss of 0 s ages out
    assert sim.arrival(k, "NRT") == 1.0 and sim.arrival(k, "SFO") == 1.0  # nothing cached, and the writer
    assert sim.arrival(j, "LHR") == 30.0  # its next fetch came first
    assert sim.arrival(later, "LHR") == 60.0

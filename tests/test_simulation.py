"""Multi-edge behaviour of the simulation: propagation, last-writer-wins, deletes, expiry, list, partitions."""

from __future__ import annotations

import pytest
import trio

import workersim
from workersim.checkers import check_all
from workersim.sim import engine

EDGES = ("SFO", "LHR", "NRT")


def make(delay: float = 2.0, **kwargs: object) -> workersim.Simulation:
    kwargs.setdefault("edges", EDGES)
    return workersim.Simulation(kv_namespaces=("KV",), seed=1, delays=workersim.FixedDelay(delay), **kwargs)


async def test_stale_before_arrival_and_fresh_after(autojump_clock: trio.abc.Clock) -> None:
    async with make(2.0) as sim:
        await sim.env("LHR").KV.put("k", "v")
        await trio.sleep(1.999)
        assert await sim.env("SFO").KV.get("k") is None
        await trio.sleep(0.001)
        assert sim.now() == 2.0
        assert await sim.env("SFO").KV.get("k") == "v"
        assert await sim.env("NRT").KV.get("k") == "v"


async def test_read_your_writes_at_the_writer(autojump_clock: trio.abc.Clock) -> None:
    async with make(5.0) as sim:
        kv = sim.env("NRT").KV
        await kv.put("k", "1")
        assert await kv.get("k") == "1"
        await kv.put("k", "2")
        assert await kv.get("k") == "2"
        await kv.delete("k")
        assert await kv.get("k") is None
        assert await sim.env("SFO").KV.get("k") is None


async def test_newer_write_wins_when_an_older_one_arrives_later(autojump_clock: trio.abc.Clock) -> None:
    async with make(3.0) as sim:
        await sim.env("SFO").KV.put("k", "old")
        await trio.sleep(0.5)
        sim.partition(["SFO"])  # holds the older write (on its way) until the heal
        await trio.sleep(0.5)
        await sim.env("LHR").KV.put("k", "new")
        await trio.sleep(3.0)
        assert await sim.env("NRT").KV.get("k") == "new"
        sim.heal(["SFO"])  # now "old" lands at NRT, after "new"
        assert await sim.env("NRT").KV.get("k") == "new"
        await trio.sleep(3.0)
        for edge in EDGES:
            assert await sim.env(edge).KV.get("k") == "new"


class ByOrigin:
    """A delay model in which SFO's writes are slow and everyone else's are fast."""

    def bound(self) -> float | None:
        return 8.0

    def delay_ms(self, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        return 8000 if origin == "SFO" else 1000


async def test_custom_delay_model_older_write_arrives_after_newer(autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), delays=ByOrigin())
    async with sim:
        await sim.env("SFO").KV.put("k", "older")
        await trio.sleep(1)
        await sim.env("LHR").KV.put("k", "newer")
        await trio.sleep(1)
        assert await sim.env("NRT").KV.get("k") == "newer"
        await trio.sleep(7)  # "older" has arrived at NRT by now
        assert await sim.env("NRT").KV.get("k") == "newer"
        assert await sim.env("SFO").KV.get("k") == "newer"


async def test_concurrent_writes_converge_on_one_winner(autojump_clock: trio.abc.Clock) -> None:
    async with make(2.0) as sim:
        async with trio.open_nursery() as nursery:
            for edge in EDGES:
                nursery.start_soon(sim.env(edge).KV.put, "k", f"from {edge}")
        # Each edge first sees its own write; they disagree until everything has arrived.
        assert {await sim.env(e).KV.get("k") for e in EDGES} == {f"from {e}" for e in EDGES}
        await trio.sleep(2)
        seen = {await sim.env(e).KV.get("k") for e in EDGES}
        assert seen == {"from NRT"}  # the last one applied at that instant: tasks spawned in that order


async def test_deletes_propagate_like_writes(autojump_clock: trio.abc.Clock) -> None:
    async with make(2.0) as sim:
        await sim.env("SFO").KV.put("k", "v")
        await trio.sleep(2)
        await sim.env("SFO").KV.delete("k")
        assert await sim.env("SFO").KV.get("k") is None
        assert await sim.env("LHR").KV.get("k") == "v"  # the delete has not arrived
        await trio.sleep(2)
        assert await sim.env("LHR").KV.get("k") is None


async def test_expiry_hides_a_key_everywhere_at_the_same_instant(autojump_clock: trio.abc.Clock) -> None:
    async with make(2.0, start_time=1000) as sim:
        await sim.env("SFO").KV.put("k", "v", expiration=1070)
        await trio.sleep(69.999)
        assert [await sim.env(e).KV.get("k") for e in EDGES] == ["v", "v", "v"]
        await trio.sleep(0.001)
        assert sim.unix_time() == 1070
        assert [await sim.env(e).KV.get("k") for e in EDGES] == [None, None, None]
        assert (await sim.env("LHR").KV.list())["keys"] == []


async def test_list_shows_the_edges_own_view(autojump_clock: trio.abc.Clock) -> None:
    async with make(2.0) as sim:
        await sim.env("SFO").KV.put("a", "1")
        await sim.env("LHR").KV.put("b", "2")
        names = {e: [k["name"] for k in (await sim.env(e).KV.list())["keys"]] for e in EDGES}
        assert names == {"SFO": ["a"], "LHR": ["b"], "NRT": []}
        await trio.sleep(2)
        await sim.env("SFO").KV.delete("a")
        names = {e: [k["name"] for k in (await sim.env(e).KV.list())["keys"]] for e in EDGES}
        assert names == {"SFO": ["b"], "LHR": ["a", "b"], "NRT": ["a", "b"]}


async def test_partition_holds_arrivals_until_it_heals(autojump_clock: trio.abc.Clock) -> None:
    async with make(1.0) as sim:
        sim.partition(["NRT"])
        await sim.env("SFO").KV.put("in", "from SFO")
        await sim.env("NRT").KV.put("out", "from NRT")
        assert await sim.env("NRT").KV.get("out") == "from NRT"  # local reads and writes go on
        await trio.sleep(30)
        assert await sim.env("NRT").KV.get("in") is None
        assert await sim.env("SFO").KV.get("out") is None
        assert await sim.env("LHR").KV.get("in") == "from SFO"
        sim.heal(["NRT"])
        assert await sim.env("NRT").KV.get("in") == "from SFO"  # held arrivals land at the heal
        assert await sim.env("SFO").KV.get("out") == "from NRT"


async def test_edges_partitioned_together_still_reach_each_other(autojump_clock: trio.abc.Clock) -> None:
    async with make(1.0) as sim:
        sim.partition(["LHR", "NRT"])
        await sim.env("LHR").KV.put("k", "v")
        await trio.sleep(1)
        assert await sim.env("NRT").KV.get("k") == "v"
        assert await sim.env("SFO").KV.get("k") is None


async def test_history_names_versions_and_passes_the_checkers(autojump_clock: trio.abc.Clock) -> None:
    async with make(2.0) as sim:
        await sim.env("SFO").KV.put("k", "v")
        await sim.env("LHR").KV.get("k")
        await trio.sleep(2)
        await sim.env("LHR").KV.get("k")
    put, stale, fresh = sim.history
    assert (put.op, stale.version, fresh.version) == ("put", None, put.version)
    assert all(report.ok for report in check_all(sim.history, sim.max_delay))
    assert sim.arrival(put, "LHR") == 2.0


async def test_old_versions_are_collected_once_every_edge_has_the_newer(autojump_clock: trio.abc.Clock) -> None:
    async with make(2.0) as sim:
        kv = sim.env("SFO").KV
        for i in range(5):
            await kv.put("k", str(i))
        space = engine(sim).store.cluster.namespace("KV")
        assert space.version_count() == 5
        # Collection waits for max_delay (the bound every model keeps to) and one millisecond more: an arrival is
        # final only once it lies in the past, since a partition starting at its very instant would hold it back.
        await trio.sleep(10.0)
        await kv.put("other", "x")  # any operation lets the collector run
        assert space.version_count() == 6
        await trio.sleep(0.001)
        await kv.put("other", "y")
        assert space.version_count() == 3  # k: the newest; other: x and y
        assert await sim.env("NRT").KV.get("k") == "4"


def test_bad_construction_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="can exceed max_delay"):
        workersim.Simulation(delays=workersim.FixedDelay(11))
    with pytest.raises(ValueError, match="at least one edge"):
        workersim.Simulation(edges=())
    with pytest.raises(ValueError, match="unique"):
        workersim.Simulation(edges=("A", "A"))
    with pytest.raises(ValueError, match="identifiers"):
        workersim.Simulation(kv_namespaces=("not valid",))
    with pytest.raises(ValueError, match="max_delay"):
        workersim.Simulation(max_delay=-1)
    with pytest.raises(TypeError, match="seed"):
        workersim.Simulation(seed="7")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="low <= high"):
        workersim.UniformDelay(2, 1)


async def test_unknown_edges_and_use_outside_the_context_are_errors(autojump_clock: trio.abc.Clock) -> None:
    sim = make()
    with pytest.raises(ValueError, match="unknown edge 'XXX'; the edges are SFO, LHR, NRT"):
        sim.env("XXX")
    with pytest.raises(RuntimeError, match="async with sim"):
        await sim.env("SFO").KV.get("k")
    async with sim:
        with pytest.raises(ValueError, match="unknown edge"):
            sim.partition(["XXX"])
    with pytest.raises(RuntimeError, match="only once"):
        async with sim:
            pass


async def test_unix_time_follows_virtual_time(autojump_clock: trio.abc.Clock) -> None:
    async with make(start_time=1_700_000_000) as sim:
        assert sim.unix_time() == 1_700_000_000
        await trio.sleep(3600)
        assert sim.unix_time() == 1_700_003_600


def test_run_uses_virtual_time() -> None:
    async def main() -> float:
        async with make() as sim:
            await trio.sleep(86_400)
            return sim.now()

    assert workersim.run(main) == 86_400


async def test_write_rate_limit_is_one_write_per_second_per_key(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        kv = sim.env("SFO").KV
        await kv.put("k", "1")  # no limit until switched on
        await kv.put("k", "2")
        sim.faults.write_rate_limit = True
        await trio.sleep(1)
        await kv.put("k", "3")
        with pytest.raises(workersim.KVError, match="^KV PUT failed: 429 Too Many Requests$") as caught:
            await sim.env("LHR").KV.put("k", "4")
        assert (caught.value.method, caught.value.status) == ("PUT", 429)
        await kv.put("other", "x")  # the limit is per key
        await trio.sleep(0.999)
        with pytest.raises(workersim.KVError, match="DELETE failed: 429"):
            await kv.delete("k")
        await trio.sleep(0.001)
        await kv.delete("k")
        assert await kv.get("k") is None
    assert [row.error[:27] for row in sim.history if isinstance(row, workersim.KVRejected)] == [
        "KVError: KV PUT failed: 429",
        "KVError: KV DELETE failed: ",
    ]


async def test_central_outage_fails_writes_and_keeps_reads(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        kv = sim.env("SFO").KV
        await kv.put("k", "before")
        sim.faults.central_outage = True
        with pytest.raises(workersim.KVError, match="^KV PUT failed: 503 Service Unavailable$"):
            await kv.put("k", "during")
        with pytest.raises(workersim.KVError, match="^KV DELETE failed: 503 Service Unavailable$"):
            await kv.delete("k")
        assert await kv.get("k") == "before"
        sim.faults.central_outage = False
        await kv.put("k", "after")
        assert await kv.get("k") == "after"

"""``sim.run_load`` and ``sim.sleep``: long runs without a task per operation, the same histories as the
ordinary way, statistics that agree with the history, and a streamed history in bounded memory."""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path

import pytest
import trio

import workersim
from workersim import KVRead, KVWrite
from workersim.core.staleness import WriteIndex, single_key_ops

EDGES = ("SFO", "LHR", "NRT", "SIN")


def make(delay: float = 2.0, seed: int = 3) -> workersim.Simulation:
    return workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), seed=seed, delays=workersim.FixedDelay(delay))


async def test_the_statistics_agree_with_the_history(autojump_clock: trio.abc.Clock) -> None:
    sim = make()
    async with sim:
        stats = await sim.run_load(rate=50, duration=600, keys=20, read_fraction=0.8)
        assert sim.now() == 600.0
    reads = [row for row in sim.history if isinstance(row, KVRead)]
    writes = [row for row in sim.history if isinstance(row, KVWrite)]
    assert (stats.ops, stats.reads, stats.writes) == (len(reads) + len(writes), len(reads), len(writes))
    # Planned: a Poisson stream of 50 a second for 600 s, 80 % reads (each within five standard deviations).
    assert abs(stats.ops - 30_000) < 5 * math.sqrt(30_000)
    assert abs(stats.reads / stats.ops - 0.8) < 5 * math.sqrt(0.8 * 0.2 / stats.ops)
    assert {row.edge for row in reads + writes} == set(EDGES)
    # Stale reads and their staleness, worked out from the history with the checkers' definition.
    index, staleness, by_edge = WriteIndex(), [], {edge: [0, 0] for edge in EDGES}
    for op in single_key_ops(sim.history):
        if op.kind == "write":
            index.add(op)
            continue
        by_edge[op.edge][0] += 1
        missed = index.first_missed(op)
        if missed is not None:
            by_edge[op.edge][1] += 1
            staleness.append(round((op.invoke - missed.invoke) * 1000))
    staleness.sort()
    assert stats.stale_reads == len(staleness) > 0
    assert stats.by_edge == {edge: tuple(counts) for edge, counts in by_edge.items()}
    assert stats.staleness_max == staleness[-1] / 1000
    assert stats.staleness_p50 == staleness[len(staleness) // 2] / 1000
    # With every write arriving 2 s after it was made, no read is stale for 2 s or more.
    assert stats.staleness_max < 2.0


async def test_the_load_is_the_same_beside_other_tasks(autojump_clock: trio.abc.Clock) -> None:
    # Alone, the load applies whole chunks at once; beside a task that reads every 0.37 s it must stop at each of
    # its wake-ups, so that every row still comes in the order of its virtual time.
    async def run(with_reader: bool) -> list[workersim.core.AnyRow]:
        sim = make()
        async with sim:
            async with trio.open_nursery() as nursery:
                if with_reader:

                    async def reader() -> None:
                        while True:
                            await trio.sleep(0.37)
                            await sim.env("SIN").KV.get("reader")

                    nursery.start_soon(reader)
                await sim.run_load(rate=200, duration=60, keys=10)
                nursery.cancel_scope.cancel()
        return list(sim.history)

    alone, beside = await run(False), await run(True)
    times = [row.invoke for row in beside]
    assert times == sorted(times)
    reads = [row.invoke for row in beside if isinstance(row, KVRead) and row.key == "reader"]
    wakeups, at = [], 0.0
    while at + 0.37 < 60:  # trio adds 0.37 to its float clock at each sleep: model that, not 0.37 * k
        at += 0.37
        wakeups.append(round(at * 1000) / 1000)
    assert reads == wakeups
    load = [{**row.to_json(), "id": None} for row in beside if getattr(row, "key", None) != "reader"]
    assert load == [{**row.to_json(), "id": None} for row in alone]


async def test_another_seed_gives_another_load(autojump_clock: trio.abc.Clock) -> None:
    async def run(seed: int | None) -> str:
        sim = make()
        async with sim:
            await sim.run_load(rate=20, duration=10, keys=5, seed=seed)
        return sim.history.to_jsonl_text()

    assert await run(None) == await run(None)
    assert await run(1) != await run(None)


async def test_sim_sleep_and_trio_sleep_give_the_same_history(autojump_clock: trio.abc.Clock) -> None:
    async def run(use_sim_sleep: bool) -> str:
        sim = make(delay=1.5)
        async with sim:

            async def worker(i: int) -> None:
                for j in range(20):
                    pause = 0.25 * ((i + j) % 4)
                    await (sim.sleep(pause) if use_sim_sleep else trio.sleep(pause))
                    kv = sim.env(EDGES[(i + j) % len(EDGES)]).KV
                    if (i + j) % 3:
                        await kv.get(f"k{j % 3}")
                    else:
                        await kv.put(f"k{j % 3}", f"{i}.{j}")

            async with trio.open_nursery() as nursery:
                for i in range(6):
                    nursery.start_soon(worker, i)
            await (sim.sleep(3) if use_sim_sleep else trio.sleep(3))
            await sim.env("SFO").KV.get("k0")
        return sim.history.to_jsonl_text()

    assert await run(True) == await run(False)


async def test_sim_sleep_is_a_cancellation_point(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        with trio.move_on_after(5) as scope:
            for _ in range(10):
                await sim.sleep(1)
        assert scope.cancelled_caught and sim.now() == 5.0
        with pytest.raises(ValueError, match="finite number of seconds"):
            await sim.sleep(-1)


async def test_bad_load_arguments_are_refused(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        for bad, message in (
            ({"rate": 0}, "rate must be"),
            ({"duration": -1}, "duration must be"),
            ({"keys": 0}, "keys must be"),
            ({"read_fraction": 1.5}, "read_fraction must be"),
            ({"edges": ["MARS"]}, "unknown edge 'MARS'"),
        ):
            arguments = {"rate": 1.0, "duration": 1.0, **bad}
            with pytest.raises(ValueError, match=message):
                await sim.run_load(**arguments)  # type: ignore[arg-type]
        assert len(sim.history) == 0


async def test_a_streamed_history_stays_small_and_reads_back_equal(
    tmp_path: Path, autojump_clock: trio.abc.Clock
) -> None:
    path = tmp_path / "history.jsonl"
    streamed = make()
    async with streamed:
        assert not streamed.history.streaming
        streamed.history.stream_to(path)
        assert streamed.history.streaming
        tracemalloc.start()
        await streamed.run_load(rate=100, duration=1200, keys=500)  # 120,000 operations
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    held = make()
    async with held:
        await held.run_load(rate=100, duration=1200, keys=500)
    assert len(held.history) > 110_000
    # Held in memory, the rows take ~300 bytes each (tens of MB); streamed, only the store and one chunk of rows.
    assert peak < 8 * 1024 * 1024
    assert len(streamed.history) == 0 and streamed.history.recorded == held.history.recorded
    assert path.read_text(encoding="utf-8") == held.history.to_jsonl_text()
    assert workersim.History.from_jsonl(path).rows == held.history.rows

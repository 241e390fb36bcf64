"""Recorded workloads whose histories are kept in ``tests/golden/``: a conductor or store change must reproduce
them byte for byte. Usage: ``python golden_workloads.py NAME [SEED]`` prints the history as JSON Lines, and
``python golden_workloads.py --write`` (re)writes every golden file, which only a deliberate change of the
history's format or of the simulation's semantics may do.

Each workload makes many calls fall on the same virtual instants from tasks spawned in different ways, so that
anything trio's scheduling decides would show in the history.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

import workersim

GOLDEN = Path(__file__).with_name("golden")
EDGES = ("SFO", "LHR", "NRT", "SIN", "GRU")


async def racing(seed: int) -> workersim.Simulation:
    """Fifty tasks, some spawning children, interleave every binding call on five edges."""
    sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), seed=seed)

    async def worker(i: int, nursery: trio.Nursery) -> None:
        for j in range(12):
            await trio.sleep(((i * j) % 3) * 0.5)
            kv = sim.env(EDGES[(i + j) % len(EDGES)]).KV
            key = f"k{(i * 7 + j) % 9}"
            match (i + j) % 6:
                case 0 | 1:
                    await kv.put(key, f"{i}:{j}", metadata={"i": i}, expirationTtl=60 + i)
                case 2:
                    await kv.get(key)
                case 3:
                    await kv.delete(key)
                case 4:
                    await kv.get([key, f"k{(i + 1) % 9}"], "text")
                case _:
                    await kv.list(prefix="k", limit=3)
            if j == 5 and i % 10 == 0:
                nursery.start_soon(child, i)

    async def child(i: int) -> None:
        for j in range(4):
            await trio.sleep(0.5)
            await sim.env(EDGES[j % len(EDGES)]).KV.getWithMetadata(f"k{(i + j) % 9}")

    async with sim, trio.open_nursery() as nursery:
        for i in range(50):
            nursery.start_soon(worker, i, nursery)
    return sim


async def partitions(seed: int) -> workersim.Simulation:
    """Writes and reads across partitions that start and heal while writes are in flight."""
    sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), seed=seed, max_delay=4.0)

    async def writer(i: int) -> None:
        for j in range(30):
            await trio.sleep(0.25 * (i % 3))
            edge = EDGES[(i + j) % len(EDGES)]
            await sim.env(edge).KV.put(f"p{j % 4}", f"{i}.{j}")
            await sim.env(EDGES[(i + 2 * j) % len(EDGES)]).KV.get(f"p{(j + i) % 4}")

    async def network() -> None:
        for step in range(6):
            await trio.sleep(1.5)
            cut = [EDGES[step % len(EDGES)], EDGES[(step + 2) % len(EDGES)]]
            sim.partition(cut)
            await trio.sleep(2.0)
            sim.heal(cut)

    async with sim, trio.open_nursery() as nursery:
        nursery.start_soon(network)
        for i in range(8):
            nursery.start_soon(writer, i)
    return sim


async def edge_cache(seed: int) -> workersim.Simulation:
    """The edge-cache model: cached answers, negative caching, cacheTtl, and an outage."""
    sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), seed=seed, edge_cache=workersim.EdgeCache())

    async def client(i: int) -> None:
        for j in range(20):
            await trio.sleep(7.0 * ((i + j) % 4))
            kv = sim.env(EDGES[(i * 3 + j) % len(EDGES)]).KV
            try:
                if (i + j) % 3 == 0:
                    await kv.put(f"c{j % 3}", f"{i}/{j}")
                else:
                    await kv.get(f"c{(i + j) % 3}", cacheTtl=30 + 10 * (j % 4))
            except workersim.KVError:
                pass  # the outage: recorded as a rejected call

    async def outage() -> None:
        await trio.sleep(100)
        sim.faults.central_outage = True
        await trio.sleep(30)
        sim.faults.central_outage = False

    async with sim, trio.open_nursery() as nursery:
        nursery.start_soon(outage)
        for i in range(10):
            nursery.start_soon(client, i)
    return sim


async def requests(seed: int) -> workersim.Simulation:
    """Requests through sim.fetch, with waitUntil work, racing at the same instants."""

    async def fetch(request: workersim.Request, env: object, ctx: workersim.ExecutionContext) -> workersim.Response:
        kv = env.KV  # type: ignore[attr-defined]
        count = int(await kv.get("count") or 0) + 1
        ctx.waitUntil(kv.put("count", str(count)))
        ctx.waitUntil(kv.put(f"seen:{request.url}", str(count)))
        return workersim.Response.json({"count": count})

    sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), seed=seed, worker=fetch)

    async def visitor(i: int) -> None:
        for j in range(6):
            await trio.sleep(0.5 * ((i + j) % 2))
            await sim.fetch(f"https://example.com/{i}/{j}", edge=EDGES[(i + j) % len(EDGES)])

    async with sim, trio.open_nursery() as nursery:
        for i in range(12):
            nursery.start_soon(visitor, i)
    return sim


WORKLOADS: dict[str, Callable[[int], Awaitable[workersim.Simulation]]] = {
    "racing": racing,
    "partitions": partitions,
    "edge_cache": edge_cache,
    "requests": requests,
}


def history(name: str, seed: int = 7) -> str:
    """The JSON Lines history of workload ``name`` run with ``seed``."""
    sim = workersim.run(WORKLOADS[name], seed)
    return sim.history.to_jsonl_text()


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        GOLDEN.mkdir(exist_ok=True)
        for name in WORKLOADS:
            (GOLDEN / f"{name}.jsonl").write_text(history(name), encoding="utf-8", newline="\n")
    else:
        sys.stdout.write(history(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 7))

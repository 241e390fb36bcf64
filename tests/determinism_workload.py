"""A deliberately racy workload for the determinism test: prints its history as JSON Lines.

Fifty tasks (some spawning children of their own) interleave puts, gets, deletes and lists on several edges,
and most of their wake-ups fall on the same virtual instants, so trio's random ordering of runnable tasks has
every chance to leak into the history. Usage: ``python determinism_workload.py SEED``.
"""

from __future__ import annotations

import sys

import trio

import workersim

EDGES = ("SFO", "LHR", "NRT", "SIN", "GRU")


async def worker(sim: workersim.Simulation, i: int, nursery: trio.Nursery) -> None:
    for j in range(12):
        await trio.sleep(((i * j) % 3) * 0.5)
        kv = sim.env(EDGES[(i + j) % len(EDGES)]).KV
        key = f"k{(i * 7 + j) % 9}"
        match (i + j) % 5:
            case 0 | 1:
                await kv.put(key, f"{i}:{j}", metadata={"i": i})
            case 2:
                await kv.get(key)
            case 3:
                await kv.delete(key)
            case _:
                await kv.list(prefix="k", limit=3)
        if j == 5 and i % 10 == 0:
            nursery.start_soon(child, sim, i)


async def child(sim: workersim.Simulation, i: int) -> None:
    for j in range(4):
        await trio.sleep(0.5)
        await sim.env(EDGES[j % len(EDGES)]).KV.getWithMetadata(f"k{(i + j) % 9}")


async def main(seed: int) -> str:
    sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), seed=seed)
    async with sim:
        async with trio.open_nursery() as nursery:
            for i in range(50):
                nursery.start_soon(worker, sim, i, nursery)
    return sim.history.to_jsonl_text()


if __name__ == "__main__":
    sys.stdout.write(workersim.run(main, int(sys.argv[1])))

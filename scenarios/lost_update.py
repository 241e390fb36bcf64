"""A lost update: two edges increment one counter by read-modify-write, and one increment disappears.

KV has no transactions: both edges read 0 (neither has seen the other's write), both write 1, and last writer
wins, so after two increments the counter says 1. Run it with ``python scenarios/lost_update.py [--seed N]``.
"""

from __future__ import annotations

import argparse

import trio

import workersim
from workersim.viz import timeline


async def increment(kv: workersim.KVNamespace) -> None:
    """The naive counter: read, add one, write back."""
    current = int(await kv.get("visits") or 0)
    await kv.put("visits", str(current + 1))


async def scenario(seed: int) -> workersim.Simulation:
    """SFO and SIN increment at the same instant; everyone reads the counter once things settle."""
    sim = workersim.Simulation(edges=("SFO", "SIN"), kv_namespaces=("COUNTERS",), seed=seed)
    async with sim:
        async with trio.open_nursery() as nursery:
            for edge in sim.edges:
                nursery.start_soon(increment, sim.env(edge).COUNTERS)
        await trio.sleep(sim.max_delay)
        for edge in sim.edges:
            await sim.env(edge).COUNTERS.get("visits")
    return sim


def main() -> None:
    """Parse ``--seed`` and print the timeline and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7, help="the run's seed (default 7)")
    sim = workersim.run(scenario, parser.parse_args().seed)
    print(timeline(sim.history, sim.arrival))
    final = sim.history[-1]["value"]
    print(f"\nTwo increments, final count {final}: {'one update was lost' if final == '1' else 'none lost'}.")


if __name__ == "__main__":
    main()

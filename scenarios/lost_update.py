"""A lost update: two edges increment one counter by read-modify-write, and one increment disappears.

KV has no transactions: both edges read 0 (neither has seen the other's write), both write 1, and last writer
wins, so after two increments the counter says 1. Run it with ``python scenarios/lost_update.py [--seed N]``.
"""

from __future__ import annotations

import trio
from _common import run_scenario

import workersim


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
    """Run, show the timeline, and say whether an increment was lost."""
    sim = run_scenario(scenario, __doc__.splitlines()[0])
    final = sim.history[-1].value  # type: ignore[union-attr]  # the scenario ends with a read
    lost = "one update was lost" if final == b"1" else "none lost"
    print(f"\nTwo increments, final count {final.decode() if final else final}: {lost}.")


if __name__ == "__main__":
    main()

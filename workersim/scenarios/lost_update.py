"""A lost update: two edges increment one counter by read-modify-write, and one increment disappears.

What you will see: SFO and SIN each read ``visits`` at the same instant, both get nothing (0), both write 1; once
the writes have arrived everywhere the counter says 1 after two increments. Why: KV has no transactions, and a
read at one edge cannot see a write made at another edge a moment before; last writer wins keeps one of the two
1s. Change the scenario to sleep ``max_delay`` between the two increments and the count is 2; or keep one
counter key per edge and add them up when reading.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import command, reads, shown


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


def lessons(sim: workersim.Simulation) -> list[str]:
    """Whether an increment was lost."""
    final = reads(sim)[-1].value
    lost = "one update was lost" if final == b"1" else "none lost"
    return [f"two increments, final count {shown(final)}: {lost}"]


main = command(__name__)


if __name__ == "__main__":
    main()

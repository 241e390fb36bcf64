"""Last writer wins: two edges write one key at nearly the same time; every edge ends up with the later write.

Each edge first sees its own write (read-your-writes), the edges disagree while the writes travel, and once both
have arrived everywhere all edges agree on the write made last, even at an edge where the older write arrived
after the newer one. Run it with ``python scenarios/last_writer_wins.py [--seed N]``.
"""

from __future__ import annotations

import argparse

import trio

import workersim
from workersim.viz import timeline


async def scenario(seed: int) -> workersim.Simulation:
    """LHR writes "red", NRT writes "blue" half a second later; SFO watches."""
    sim = workersim.Simulation(
        edges=("SFO", "LHR", "NRT"), kv_namespaces=("COLORS",), seed=seed, delays=workersim.UniformDelay(0.5, 6.0)
    )
    async with sim:
        lhr, nrt, sfo = (sim.env(edge).COLORS for edge in ("LHR", "NRT", "SFO"))
        await lhr.put("theme", "red")
        await trio.sleep(0.5)
        await nrt.put("theme", "blue")
        for _ in range(7):
            await lhr.get("theme")
            await nrt.get("theme")
            await sfo.get("theme")
            await trio.sleep(1)
    return sim


def main() -> None:
    """Parse ``--seed`` and print the timeline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7, help="the run's seed (default 7)")
    sim = workersim.run(scenario, parser.parse_args().seed)
    print(timeline(sim.history, sim.arrival))


if __name__ == "__main__":
    main()

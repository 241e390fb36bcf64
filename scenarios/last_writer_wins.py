"""Last writer wins: two edges write one key at nearly the same time; every edge ends up with the later write.

Each edge first sees its own write (read-your-writes), the edges disagree while the writes travel, and once both
have arrived everywhere all edges agree on the write made last, even at an edge where the older write arrived
after the newer one. Run it with ``python scenarios/last_writer_wins.py [--seed N]``.
"""

from __future__ import annotations

import trio
from _common import run_scenario

import workersim


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
    """Run and show the timeline (``--seed N`` replays another run, ``--svg FILE`` draws it)."""
    run_scenario(scenario, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()

"""Read-your-writes at the writer only: LHR sees its own write at once, SFO and NRT only 2 s later.

What you will see: LHR writes ``name`` and reads it straight back; SFO and NRT read at the same instant and at 1 s
and get nothing; at 2 s, when the write arrives (every delay is exactly 2 s), they read it too. Why: a write
lands in the writing edge's replica at once, so that edge reads its own writes, but a user whose next request
lands at another edge (a new connection, a failover) may not. Change the ``FixedDelay`` to 0 and every read sees
the write; read at SFO at 1.999 s and it is still stale.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import command, reads, shown

DELAY = 2.0


async def scenario(seed: int) -> workersim.Simulation:
    """LHR writes and reads; SFO and NRT read at 0, 1 and 2 s."""
    sim = workersim.Simulation(
        edges=("LHR", "SFO", "NRT"), kv_namespaces=("PROFILE",), seed=seed, delays=workersim.FixedDelay(DELAY)
    )
    async with sim:
        env = {edge: sim.env(edge).PROFILE for edge in sim.edges}
        await env["LHR"].put("name", "Ada")
        for second in range(3):
            for edge in sim.edges:
                await env[edge].get("name")
            if second < 2:
                await trio.sleep(1)
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """What each edge read when."""
    return [
        f"{edge} read {', '.join(f'{shown(row.value)} at {row.invoke:g}s' for row in reads(sim, edge))}"
        for edge in sim.edges
    ] + [f"only LHR, the writer, read its write at once; the others read it {DELAY:g} s later, when it arrived"]


main = command(__name__)


if __name__ == "__main__":
    main()

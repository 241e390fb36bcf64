"""A listing differs between edges: each edge lists the keys it has received, so two edges list different users.

What you will see: LHR adds ``user:1`` and ``user:2``, SFO adds ``user:3``, all at 0 s, and every write takes 3 s
to reach the other edge. At 1 s LHR lists user:1 and user:2 and SFO lists user:3 only; at 3 s both list all three.
Why: a listing reads the edge's own replica, like a get, so it is as stale as a get. Change the delay to 0 and
both lists agree at once; count users by listing and two edges disagree on the count for a while.
"""

from __future__ import annotations

import trio

import workersim
from workersim.core.rows import KVList
from workersim.scenarios._common import command

DELAY = 3.0


async def scenario(seed: int) -> workersim.Simulation:
    """Writes at both edges at 0; both list at 1 s and at 3 s."""
    sim = workersim.Simulation(
        edges=("LHR", "SFO"), kv_namespaces=("USERS",), seed=seed, delays=workersim.FixedDelay(DELAY)
    )
    async with sim:
        lhr, sfo = sim.env("LHR").USERS, sim.env("SFO").USERS
        await lhr.put("user:1", "Ada")
        await lhr.put("user:2", "Grace")
        await sfo.put("user:3", "Edsger")
        for at in (1.0, DELAY):
            await trio.sleep(at - sim.now())
            await lhr.list(prefix="user:")
            await sfo.list(prefix="user:")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """Each listing, and whether the edges agreed."""
    listings = [row for row in sim.history if isinstance(row, KVList)]
    lines = [f"{row.edge} listed {', '.join(row.names)} at {row.invoke:g}s" for row in listings]
    for at in sorted({row.invoke for row in listings}):
        names = {row.names for row in listings if row.invoke == at}
        lines.append(f"at {at:g}s the edges {'agree' if len(names) == 1 else 'disagree'}")
    return lines


main = command(__name__)


if __name__ == "__main__":
    main()

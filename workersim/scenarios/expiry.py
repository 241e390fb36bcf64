"""Expiry: a key written with expirationTtl=60 is there for 60 s and then gone at every edge.

What you will see: LHR writes a one-time ``code`` with a 60-second time to live. SFO reads it at 30 s and at 59 s;
at 60 s, and after, LHR and SFO both read nothing, although no one deleted it. Why: the expiry time is part of the
write and travels with it, so every edge drops the key at the same moment; ``expirationTtl`` may not be under
60 s. Change ``TTL`` to 120 and the reads at 60 s find the code; put it again and the clock starts afresh.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import command, reads, shown

TTL = 60


async def scenario(seed: int) -> workersim.Simulation:
    """LHR writes with a time to live; SFO and LHR read before and after it runs out."""
    sim = workersim.Simulation(edges=("LHR", "SFO"), kv_namespaces=("CODES",), seed=seed)
    async with sim:
        lhr, sfo = sim.env("LHR").CODES, sim.env("SFO").CODES
        await lhr.put("code", "493 112", expirationTtl=TTL)
        for at in (30.0, 59.0, 60.0, 61.0):
            await trio.sleep(at - sim.now())
            await sfo.get("code")
            await lhr.get("code")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """What each read found, before and after the expiry."""
    return [f"{row.edge} read {shown(row.value)} at {row.invoke:g}s" for row in reads(sim)] + [
        f"the key expired at {TTL}s everywhere: no delete, no write"
    ]


main = command(__name__)


if __name__ == "__main__":
    main()

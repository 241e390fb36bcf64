"""The edge-cache model: SFO's cache answers the old price until its cacheTtl (60 s) runs out.

What you will see (under ``edge_cache=workersim.EdgeCache(default_ttl=60)``, today's Workers KV): the price is 10
at 0 s and SFO reads it, which caches it. LHR writes 12 at 1 s, which goes to the central store and LHR's cache.
SFO reads 10 at 30 s and at 59 s, answered from its cache, although 12 was written long before: the read is
stale because the cached answer is younger than 60 s, not because the write is travelling. At 60 s the cached
answer has aged out; SFO fetches from the central store and reads 12. NRT, which had cached nothing, reads 12 at
2 s. Why: under this model a write is in the central store at once, and an edge sees it only when its cached
answer expires. Change ``TTL`` (at least 30) or pass ``cacheTtl=`` to SFO's gets to see the window move.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import cache_lessons, command, reads, shown

TTL = 60


async def scenario(seed: int) -> workersim.Simulation:
    """Write at 0, SFO caches it, LHR overwrites at 1 s; SFO reads at 30, 59 and 60 s, NRT at 2 s."""
    sim = workersim.Simulation(
        edges=("LHR", "SFO", "NRT"), kv_namespaces=("PRICES",), seed=seed, edge_cache=workersim.EdgeCache(TTL)
    )
    async with sim:
        lhr, sfo, nrt = (sim.env(edge).PRICES for edge in sim.edges)
        await lhr.put("price", "10")
        await sfo.get("price")
        await trio.sleep(1)
        await lhr.put("price", "12")
        await trio.sleep(1)
        await nrt.get("price")
        for at in (30.0, 59.0, float(TTL)):
            await trio.sleep(at - sim.now())
            await sfo.get("price")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """What SFO and NRT read when, and why SFO's reads were stale."""
    lines = [f"{row.edge} read {shown(row.value)} at {row.invoke:g}s" for row in reads(sim) if row.edge != "LHR"]
    lines += cache_lessons(sim, "SFO")
    return lines


main = command(__name__)


if __name__ == "__main__":
    main()

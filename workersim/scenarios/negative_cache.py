"""Negative caching: a new key stays missing for 60 s at the edge that looked for it before it existed.

What you will see (under the edge-cache model, ``cacheTtl`` 60 s): SFO looks up ``user:42`` at 0 s and finds
nothing; the miss is cached. LHR creates the user at 1 s. NRT, which never looked, finds it at 2 s; SFO still finds
nothing at 2 s and at 59 s, and finds it at 60 s. Why: the edge cache stores "missing" like any answer, so "check
whether it exists, then create it" makes the new key invisible where it was checked. Change the scenario so that
SFO does not look before the write, and SFO finds the user at once.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import cache_lessons, command, reads, shown

TTL = 60


async def scenario(seed: int) -> workersim.Simulation:
    """SFO misses at 0 s, LHR writes at 1 s; NRT and SFO read afterwards."""
    sim = workersim.Simulation(
        edges=("LHR", "SFO", "NRT"), kv_namespaces=("USERS",), seed=seed, edge_cache=workersim.EdgeCache(TTL)
    )
    async with sim:
        lhr, sfo, nrt = (sim.env(edge).USERS for edge in sim.edges)
        await sfo.get("user:42")
        await trio.sleep(1)
        await lhr.put("user:42", "Ada")
        for at in (2.0, 59.0, float(TTL)):
            await trio.sleep(at - sim.now())
            await nrt.get("user:42")
            await sfo.get("user:42")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """What each edge found when, and why SFO kept finding nothing."""
    lines = [
        f"{edge} read {', '.join(f'{shown(r.value)} at {r.invoke:g}s' for r in reads(sim, edge))}"
        for edge in ("NRT", "SFO")
    ]
    return lines + cache_lessons(sim, "SFO")


main = command(__name__)


if __name__ == "__main__":
    main()

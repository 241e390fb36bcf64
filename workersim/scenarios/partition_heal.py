"""A partition and its heal: SYD is cut off, misses LHR's write for as long as the cut lasts, then catches up.

What you will see: SYD is cut off from the other edges at 0 s. LHR writes the ``banner`` at 1 s; SFO has it at
2 s (every delay is 1 s), but SYD still reads nothing at 2 s and at 15 s: the write is held back. The partition
heals at 20 s and what was held lands at once: SYD reads the banner at 20 s. Meanwhile SYD's own write of
``status`` stayed at SYD, and reaches the others at the heal too. Why: a partition holds writes back in both
directions until it heals; no write is lost. Change ``HEAL_AT`` and SYD's stale reads last that long.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import command, reads, shown, writes

HEAL_AT = 20.0


async def scenario(seed: int) -> workersim.Simulation:
    """Cut SYD off, write at LHR and SYD, read at SFO and SYD, heal, read again."""
    sim = workersim.Simulation(
        edges=("LHR", "SFO", "SYD"), kv_namespaces=("SITE",), seed=seed, delays=workersim.FixedDelay(1.0)
    )
    async with sim:
        lhr, sfo, syd = (sim.env(edge).SITE for edge in sim.edges)
        sim.partition(["SYD"])
        await trio.sleep(1)
        await lhr.put("banner", "sale today")
        await syd.put("status", "SYD ok")
        for at in (2.0, 15.0):
            await trio.sleep(at - sim.now())
            await sfo.get("banner")
            await syd.get("banner")
            await lhr.get("status")
        await trio.sleep(HEAL_AT - sim.now())
        sim.heal(["SYD"])
        await syd.get("banner")
        await lhr.get("status")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """What SYD read during and after the partition, and when the held writes landed."""
    banner, status = writes(sim)
    lines = [f"SYD read {shown(row.value)} at {row.invoke:g}s" for row in reads(sim, "SYD")]
    lines.append(
        f"write #{banner.id} (at LHR) reached SYD at {sim.arrival(banner, 'SYD'):g}s, when the partition healed"
    )
    lines.append(f"write #{status.id} (at SYD) reached LHR at {sim.arrival(status, 'LHR'):g}s: held back both ways")
    return lines


main = command(__name__)


if __name__ == "__main__":
    main()

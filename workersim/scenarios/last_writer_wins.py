"""Last writer wins: the older write arrives last at SFO and loses to the newer one already there.

What you will see: LHR writes ``theme = red`` at 0 s and NRT writes ``blue`` at 0.5 s. Blue reaches SFO after
1 s (at 1.5 s), red only after 5 s (at 5 s); SFO reads blue from 1.5 s on, and still blue after red has arrived,
because red is the older write. LHR reads its own red until blue arrives there at 2.5 s. Why: each edge keeps,
for a key, the write made last, whatever order the writes arrive in, so every edge ends up agreeing. Change the
routes in ``DELAYS`` (make NRT's write the slow one) and SFO reads red for a while, then blue.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import RouteDelay, command, reads, shown, writes

DELAYS = RouteDelay({("LHR", "SFO"): 5.0, ("NRT", "SFO"): 1.0, ("NRT", "LHR"): 2.0}, other=3.0)


async def scenario(seed: int) -> workersim.Simulation:
    """LHR writes "red", NRT writes "blue" half a second later; every edge reads each second."""
    sim = workersim.Simulation(edges=("SFO", "LHR", "NRT"), kv_namespaces=("COLORS",), seed=seed, delays=DELAYS)
    async with sim:
        lhr, nrt = sim.env("LHR").COLORS, sim.env("NRT").COLORS
        await lhr.put("theme", "red")
        await trio.sleep(0.5)
        await nrt.put("theme", "blue")
        for _ in range(6):
            await trio.sleep(1)
            for edge in sim.edges:
                await sim.env(edge).COLORS.get("theme")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """When each write reached SFO, which arrived last, and what SFO read once both had."""
    older, newer = writes(sim)  # in the order applied: last writer wins keeps the newer
    at = {write.id: sim.arrival(write, "SFO") or 0.0 for write in (older, newer)}
    first, last = sorted((older, newer), key=lambda write: (at[write.id], write.id))
    verdict = "and lost: it is the older write" if last is older else f"and replaced write #{first.id}"
    settled = [row for row in reads(sim, "SFO") if row.invoke >= at[last.id]]
    return [
        f"write #{first.id} ({shown(first.value)}, made at {first.invoke:g}s) reached SFO at {at[first.id]:.3f}s",
        f"write #{last.id} ({shown(last.value)}, made at {last.invoke:g}s) reached SFO last, at {at[last.id]:.3f}s, "
        + verdict,
        f"once both had arrived, SFO read {', '.join(sorted({shown(row.value) for row in settled}))} "
        f"(at {', '.join(f'{row.invoke:g}s' for row in settled)}): last writer wins",
    ]


main = command(__name__)


if __name__ == "__main__":
    main()

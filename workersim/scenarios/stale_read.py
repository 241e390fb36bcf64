"""A stale read: a write at LHR, a read at SFO that misses it, and a fresh read once it has arrived.

What you will see: LHR writes ``greeting`` and reads it back at once; SFO reads it at the same instant and gets
nothing, because the write is still travelling (delays are uniform between 1 and 4 s); after ``max_delay`` (10 s)
SFO reads "hello". Why: every edge has its own replica, and a write reaches the others only after a delay.
Change ``--seed`` to draw other delays, or sleep 0.5 s before SFO's first read: still stale, since no delay is
shorter than 1 s.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import command, reads, shown, stale_reads


async def scenario(seed: int) -> workersim.Simulation:
    """Write at LHR, read at SFO before and after the write arrives there."""
    sim = workersim.Simulation(
        edges=("SFO", "LHR", "NRT"), kv_namespaces=("MY_KV",), seed=seed, delays=workersim.UniformDelay(1.0, 4.0)
    )
    async with sim:
        lhr, sfo = sim.env("LHR").MY_KV, sim.env("SFO").MY_KV
        await lhr.put("greeting", "hello")  # visible at LHR at once
        await lhr.get("greeting")  # read-your-writes at the writing edge
        await sfo.get("greeting")  # SFO has not received it yet: a stale read (None)
        await trio.sleep(sim.max_delay)  # every write arrives within max_delay
        await sfo.get("greeting")  # fresh
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """SFO's first read was stale, and when the write it missed arrived."""
    first, last = reads(sim, "SFO")
    missed = stale_reads(sim)[first.id]
    arrived = sim.arrival(missed, "SFO")
    return [
        f"SFO read {shown(first.value)} at {first.invoke:.3f}s although LHR had written {shown(missed.value)}: "
        "a stale read",
        f"write #{missed.id} reached SFO at {arrived:.3f}s; SFO read {shown(last.value)} at {last.invoke:.3f}s",
    ]


main = command(__name__)


if __name__ == "__main__":
    main()

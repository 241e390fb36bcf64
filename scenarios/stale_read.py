"""A stale read, step by step: write at one edge, read stale at another, read fresh after propagation.

Run it with ``python scenarios/stale_read.py`` (add ``--seed N`` to replay another run). Every time shown is
virtual: the whole scenario takes a few milliseconds of wall-clock time.
"""

from __future__ import annotations

import trio
from _common import run_scenario

import workersim


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


def main() -> None:
    """Run and show the timeline (``--seed N`` replays another run, ``--svg FILE`` draws it)."""
    run_scenario(scenario, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()

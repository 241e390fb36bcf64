"""A feature-flag rollout seen late: the new checkout is switched on at LHR, and SYD serves the old one for 8 s.

What you will see: the flag ``checkout`` is "old" everywhere. At 10 s LHR switches it to "new"; every edge reads
the flag once a second, as each request would. SFO serves "new" from 11 s, NRT from 13 s and SYD only from 18 s
(the write takes 1, 3 and 8 s to reach them): for 8 s some users get the old checkout and some the new, and a user
whose requests land at two edges may see both. Why: a flag in KV is a value like any other, so a rollout is as
eventually consistent as the rest. Change the routes in ``DELAYS``, or keep both checkouts working for
``max_delay`` after every switch.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import RouteDelay, command, reads

DELAYS = RouteDelay({("LHR", "SFO"): 1.0, ("LHR", "NRT"): 3.0, ("LHR", "SYD"): 8.0}, other=2.0)
SWITCH_AT = 10.0


async def scenario(seed: int) -> workersim.Simulation:
    """Set the flag at 0, switch it at 10 s, read it at every edge each second until 19 s."""
    sim = workersim.Simulation(edges=("LHR", "SFO", "NRT", "SYD"), kv_namespaces=("FLAGS",), seed=seed, delays=DELAYS)
    async with sim:
        lhr = sim.env("LHR").FLAGS
        await lhr.put("checkout", "old")
        await trio.sleep(SWITCH_AT)
        await lhr.put("checkout", "new")
        for second in range(10):
            await trio.sleep(SWITCH_AT + second - sim.now())
            for edge in sim.edges:
                await sim.env(edge).FLAGS.get("checkout")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """When each edge first served the new checkout."""
    lines = []
    for edge in sim.edges:
        first = min(row.invoke for row in reads(sim, edge) if row.value == b"new")
        lines.append(f"{edge} served the new checkout from {first:g}s ({first - SWITCH_AT:g} s after the switch)")
    return lines


main = command(__name__)


if __name__ == "__main__":
    main()

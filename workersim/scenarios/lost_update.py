"""A lost update: two requests increment one counter by read-modify-write, and one increment disappears.

What you will see: the counter ``visits`` is 5 everywhere. Two visits arrive at the same instant, one at SFO and
one at SIN; each request's worker reads 5 and writes 6. Once both writes have arrived everywhere the counter says
6 after two increments, and the checkers name the lost update (``workersim.checkers.check_anomalies``). Why: KV
has no transactions, and a read at one edge cannot see a write made at another edge a moment before; last writer
wins keeps one of the two 6s. Change the scenario to send the second visit ``max_delay`` after the first and the
count is 7; or keep one counter key per edge and add them up when reading.
"""

from __future__ import annotations

from functools import partial

import trio

import workersim
from workersim.checkers import check_anomalies
from workersim.scenarios._common import command, reads, shown


async def visit(request: workersim.Request, env: workersim.Env) -> workersim.Response:
    """The worker: the naive counter, read, add one, write back."""
    count = int(await env.COUNTERS.get("visits") or 0) + 1
    await env.COUNTERS.put("visits", str(count))
    return workersim.Response(f"visit number {count}")


async def scenario(seed: int) -> workersim.Simulation:
    """The counter is set to 5; visits at SFO and SIN at the same instant; everyone reads it once things settle."""
    sim = workersim.Simulation(edges=("SFO", "SIN"), kv_namespaces=("COUNTERS",), seed=seed, worker=visit)
    async with sim:
        await sim.env("SFO").COUNTERS.put("visits", "5")
        await trio.sleep(sim.max_delay)
        async with trio.open_nursery() as nursery:
            for edge in sim.edges:
                nursery.start_soon(partial(sim.fetch, "https://shop.example/", edge=edge))
        await trio.sleep(sim.max_delay)
        for edge in sim.edges:
            await sim.env(edge).COUNTERS.get("visits")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """Whether an increment was lost, and what the checkers say."""
    final = reads(sim)[-1].value
    lost = "one update was lost" if final == b"6" else "none lost"
    findings = [violation.message for report in check_anomalies(sim.history) for violation in report.violations]
    return [f"two increments from '5', final count {shown(final)}: {lost}", *(f"checker: {m}" for m in findings)]


main = command(__name__)


if __name__ == "__main__":
    main()

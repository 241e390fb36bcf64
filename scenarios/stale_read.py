"""A stale read, step by step: write at one edge, read stale at another, read fresh after propagation.

Run it with ``python scenarios/stale_read.py`` (add ``--seed N`` to replay another run). Every time shown is
virtual: the whole scenario takes a few milliseconds of wall-clock time.
"""

from __future__ import annotations

import argparse

import trio

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


def timeline(sim: workersim.Simulation) -> str:
    """The history as a short text timeline, one line per operation."""
    writes = {row["version"]: row for row in sim.history if row["op"] in ("put", "delete") and "error" not in row}
    lines = [f"{'time':>7}  {'edge':<4}  operation"]
    for row in sim.history:
        shown = "(missing)" if row.get("value") is None else repr(row["value"])
        note = ""
        if row["op"] == "get":
            seen = writes.get(row.get("version"))
            if seen is not None:
                note = f"  (sees write #{seen['id']})"
            else:
                missed = max((w for w in writes.values() if w["key"] == row["key"]), key=lambda w: w["id"])
                arrives = sim.arrival(missed, row["edge"])
                note = f"  <- stale: write #{missed['id']} reaches {row['edge']} at {arrives:.3f}s"
        lines.append(f"{row['invoke']:>6.3f}s  {row['edge']:<4}  {row['op']} {row['key']!r} -> {shown}{note}")
    return "\n".join(lines)


def main() -> None:
    """Parse ``--seed`` and print the timeline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7, help="the run's seed (default 7)")
    args = parser.parse_args()
    sim = workersim.run(scenario, args.seed)
    print(timeline(sim))


if __name__ == "__main__":
    main()

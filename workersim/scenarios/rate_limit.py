"""The write rate limit: a second write to one key within a second fails with 429 Too Many Requests.

What you will see (with ``sim.faults.write_rate_limit = True``): LHR writes ``score`` at 0 s, tries again at 0.5 s
and is refused with ``KV PUT failed: 429 Too Many Requests``; a write of another key at 0.5 s goes through, and
``score`` can be written again at 1 s. The refused write changes nothing: LHR still reads the first score. Why:
Workers KV accepts one write a second per key. Change the retry to wait a second, or gather updates and write
them once a second.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import command, reads, shown


async def scenario(seed: int) -> workersim.Simulation:
    """Writes of one key at 0, 0.5 and 1 s, and of another at 0.5 s, with the limit on."""
    sim = workersim.Simulation(edges=("LHR", "SFO"), kv_namespaces=("GAME",), seed=seed)
    sim.faults.write_rate_limit = True
    async with sim:
        lhr = sim.env("LHR").GAME
        await lhr.put("score", "10")
        await trio.sleep(0.5)
        try:
            await lhr.put("score", "11")
        except workersim.KVError:
            pass  # the history keeps the refusal
        await lhr.put("level", "2")
        await lhr.get("score")
        await trio.sleep(0.5)
        await lhr.put("score", "12")
        await lhr.get("score")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """Which writes went through and which were refused."""
    lines = []
    for row in sim.history:
        if isinstance(row, workersim.KVRejected):
            lines.append(f"{row.op} {row.target!r} at {row.invoke:g}s refused: {row.error}")
        elif isinstance(row, workersim.KVWrite):
            lines.append(f"{row.op} {row.key!r} = {shown(row.value)} at {row.invoke:g}s went through")
    score = reads(sim)[0]
    lines.append(f"LHR read {shown(score.value)} at {score.invoke:g}s: the refused write changed nothing")
    return lines


main = command(__name__)


if __name__ == "__main__":
    main()

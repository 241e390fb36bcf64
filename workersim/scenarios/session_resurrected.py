"""A session brought back to life: SFO writes back a session it read after LHR logged the user out.

What you will see: alice's session exists everywhere. At 10.5 s she logs out at LHR (a delete). At 11 s a request
of hers at SFO reads the session (stale: the delete reaches SFO only at 12.5 s), updates its "last seen" time and
writes it back. That write is newer than the delete, so it wins: from 13 s alice is logged in again at every
edge, LHR included. Why: the write-back was based on a stale read, and last writer wins does not know that. Change
``WRITE_BACK_AT`` to 13 (after the delete arrives) and SFO finds no session to write back; better, never write a
session back unconditionally: keep "last seen" under a key of its own.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import command, reads, shown, writes

LOGOUT_AT, WRITE_BACK_AT = 10.5, 11.0


async def scenario(seed: int) -> workersim.Simulation:
    """Create the session, log out at LHR, write it back at SFO from a stale read, read at both edges."""
    sim = workersim.Simulation(
        edges=("LHR", "SFO"), kv_namespaces=("SESSIONS",), seed=seed, delays=workersim.FixedDelay(2.0)
    )
    async with sim:
        lhr, sfo = sim.env("LHR").SESSIONS, sim.env("SFO").SESSIONS
        await lhr.put("session:alice", "alice, seen 0s")
        await trio.sleep(LOGOUT_AT)
        await lhr.delete("session:alice")
        await trio.sleep(WRITE_BACK_AT - sim.now())
        if await sfo.get("session:alice") is not None:  # the request's session check: still logged in?
            await sfo.put("session:alice", f"alice, seen {sim.now():g}s")
        await trio.sleep(15 - sim.now())
        await lhr.get("session:alice")
        await sfo.get("session:alice")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """The logout, the write-back and what the edges read afterwards."""
    logout, *rest = writes(sim)[1:]
    lines = [f"alice logged out at LHR at {logout.invoke:g}s (write #{logout.id}, a delete)"]
    if rest:
        back = rest[0]
        lines.append(
            f"SFO wrote the session back at {back.invoke:g}s (write #{back.id}), newer than the delete: it wins"
        )
    lines += [f"{row.edge} read {shown(row.value)} at {row.invoke:g}s" for row in reads(sim) if row.invoke >= 13]
    alive = all(row.value is not None for row in reads(sim) if row.invoke >= 13)
    lines.append("alice is logged in again at every edge" if alive else "alice stays logged out")
    return lines


main = command(__name__)


if __name__ == "__main__":
    main()

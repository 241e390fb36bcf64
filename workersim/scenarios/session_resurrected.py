"""A session brought back to life: SFO writes back a session it read after LHR logged the user out.

What you will see: alice's session exists everywhere. At 10.5 s she logs out with a request at LHR, which deletes
it. At 11 s a request of hers at SFO reads the session (stale: the delete reaches SFO only at 12.5 s), marks it
"seen again" and writes it back. That write is newer than the delete, so it wins: from 13 s alice is logged
in again at every edge, LHR included, and the checkers name the write based on a stale read
(``workersim.checkers.check_anomalies``). Why: the write-back was based on a stale read, and last writer wins
does not know that. Change ``WRITE_BACK_AT`` to 13 (after the delete arrives) and SFO finds no session to write
back; better, never write a session back unconditionally: keep "last seen" under a key of its own.
"""

from __future__ import annotations

import trio

import workersim
from workersim.checkers import check_anomalies
from workersim.scenarios._common import command, reads, shown, writes

LOGOUT_AT, WRITE_BACK_AT = 10.5, 11.0


async def worker(request: workersim.Request, env: workersim.Env) -> workersim.Response:
    """``/logout`` deletes the session; any other page marks it "seen again", if logged in."""
    if request.url.endswith("/logout"):
        await env.SESSIONS.delete("session:alice")
        return workersim.Response("logged out")
    if await env.SESSIONS.get("session:alice") is None:
        return workersim.Response("please log in", status=401)
    await env.SESSIONS.put("session:alice", "alice, seen again")
    return workersim.Response("welcome back")


async def scenario(seed: int) -> workersim.Simulation:
    """Create the session, log out at LHR, visit at SFO (a stale read and a write-back), read at both edges."""
    sim = workersim.Simulation(
        edges=("LHR", "SFO"), kv_namespaces=("SESSIONS",), seed=seed, delays=workersim.FixedDelay(2.0), worker=worker
    )
    async with sim:
        lhr, sfo = sim.env("LHR").SESSIONS, sim.env("SFO").SESSIONS
        await lhr.put("session:alice", "alice, signed in")
        await trio.sleep(LOGOUT_AT)
        await sim.fetch("https://app.example/logout", edge="LHR")
        await trio.sleep(WRITE_BACK_AT - sim.now())
        await sim.fetch("https://app.example/home", edge="SFO")
        await trio.sleep(15 - sim.now())
        await lhr.get("session:alice")
        await sfo.get("session:alice")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """The logout, the write-back, what the edges read afterwards, and what the checkers say."""
    logout, *rest = writes(sim)[1:]
    lines = [f"alice logged out at LHR at {logout.invoke:g}s (write #{logout.id}, a delete)"]
    if rest:
        back = rest[0]
        lines.append(
            f"SFO wrote the session back at {back.invoke:g}s (write #{back.id}), newer than the delete: it wins"
        )
    lines += [f"{row.edge} read {shown(row.value)} at {row.invoke:g}s" for row in reads(sim) if row.request is None]
    alive = all(row.value is not None for row in reads(sim) if row.request is None and row.invoke >= 13)
    lines.append("alice is logged in again at every edge" if alive else "alice stays logged out")
    findings = [violation.message for report in check_anomalies(sim.history) for violation in report.violations]
    return lines + [f"checker: {message}" for message in findings]


main = command(__name__)


if __name__ == "__main__":
    main()

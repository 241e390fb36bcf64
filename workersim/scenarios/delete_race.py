"""A delete racing a write: SFO adds to a cart while LHR empties it; the later delete wins everywhere.

What you will see: the cart holds "1 item" everywhere. At 10 s SFO writes "2 items"; at 10.5 s LHR deletes the
cart. Every delay is 2 s, so until 12 s LHR reads nothing and SFO reads "2 items"; from 12.5 s on both read
nothing: the delete is the later write and wins, and SFO's "2 items" is gone though SFO read it for 2.5 s. Why: a
delete is a write like any other (of "nothing"), ordered by last writer wins. Change ``DELETE_AT`` to 9.5 and the
put is the later write: the cart comes back at LHR at 12 s, after LHR's user emptied it.
"""

from __future__ import annotations

import trio

import workersim
from workersim.scenarios._common import command, reads, shown, writes

PUT_AT, DELETE_AT = 10.0, 10.5


async def scenario(seed: int) -> workersim.Simulation:
    """The cart is set at 0; SFO puts at 10 s, LHR deletes at 10.5 s; both read every second until 14 s."""
    sim = workersim.Simulation(
        edges=("SFO", "LHR"), kv_namespaces=("CARTS",), seed=seed, delays=workersim.FixedDelay(2.0)
    )
    async with sim:
        sfo, lhr = sim.env("SFO").CARTS, sim.env("LHR").CARTS
        await lhr.put("cart:ada", "1 item")
        await trio.sleep(min(PUT_AT, DELETE_AT))
        first, second = sorted([(PUT_AT, "put"), (DELETE_AT, "delete")])
        for at, action in (first, second):
            await trio.sleep(at - sim.now())
            await (sfo.put("cart:ada", "2 items") if action == "put" else lhr.delete("cart:ada"))
        for at in (11.0, 12.0, 13.0, 14.0):
            await trio.sleep(at - sim.now())
            await sfo.get("cart:ada")
            await lhr.get("cart:ada")
    return sim


def lessons(sim: workersim.Simulation) -> list[str]:
    """What each edge read after the race, and which write won."""
    last = writes(sim)[-1]
    verb = "the delete" if last.op == "delete" else "the put"
    seen = [f"{row.edge} {shown(row.value)} at {row.invoke:g}s" for row in reads(sim)]
    return [f"after the race: {', '.join(seen)}", f"{verb} (write #{last.id}) is the later write: it wins everywhere"]


main = command(__name__)


if __name__ == "__main__":
    main()

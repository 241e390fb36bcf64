"""REST writes go through the same admission as binding writes: outages give 503 and the per-key write limit
gives 429, with Cloudflare's envelope, and a refused write changes nothing (in-process, on virtual time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import trio

from workersim import FixedDelay, KVError, KVRejected, KVWrite, Simulation
from workersim.server.rest import RestApp, binding_namespace_id

ACCOUNT = "acc"
TOKEN = "tok"
BOUND = binding_namespace_id("MY_KV")


@asynccontextmanager
async def api() -> AsyncIterator[tuple[Simulation, httpx.AsyncClient]]:
    sim = Simulation(edges=("SFO", "LHR"), kv_namespaces=("MY_KV",), seed=1, delays=FixedDelay(1.0))
    app = RestApp.for_simulation(sim, ACCOUNT, TOKEN)
    base = f"http://workersim/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces/{BOUND}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with sim, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base, headers=auth) as client:
        yield sim, client


def refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.json() == {
        "success": False,
        "errors": [{"code": 10001, "message": message}],
        "messages": [],
        "result": None,
    }


async def test_a_central_outage_refuses_every_rest_write_and_changes_nothing(autojump_clock: trio.abc.Clock) -> None:
    async with api() as (sim, client):
        assert (await client.put("/values/kept", content=b"before")).status_code == 200
        await trio.sleep(2)
        writes_before = sum(isinstance(row, KVWrite) for row in sim.history)
        sim.faults.central_outage = True
        refused(await client.put("/values/new", content=b"x"), 503, "Service Unavailable")
        refused(await client.put("/values/kept", content=b"overwritten"), 503, "Service Unavailable")
        refused(await client.delete("/values/kept"), 503, "Service Unavailable")
        bulk = [{"key": "b1", "value": "1"}, {"key": "b2", "value": "2"}]
        refused(await client.put("/bulk", json=bulk), 503, "Service Unavailable")
        refused(await client.post("/bulk/delete", json=["kept"]), 503, "Service Unavailable")
        # The binding's writes are refused by the same rule, and reads still answer.
        with pytest.raises(KVError, match="KV PUT failed: 503 Service Unavailable"):
            await sim.env("SFO").MY_KV.put("new", "y")
        assert (await client.get("/values/kept")).content == b"before"
        assert (await client.get("/values/new")).status_code == 404
        assert (await client.get("/values/b1")).status_code == 404
        assert await sim.env("LHR").MY_KV.get("kept") == "before"
        await trio.sleep(2)
        assert await sim.env("SFO").MY_KV.get("kept") == "before"
    assert sum(isinstance(row, KVWrite) for row in sim.history) == writes_before
    rejected = [row for row in sim.history if isinstance(row, KVRejected)]
    assert [(row.edge, row.op) for row in rejected] == [("central", "put")] * 2 + [("central", "delete")] + [
        ("central", "put"),
        ("central", "delete"),
        ("SFO", "put"),
    ]
    assert all("503 Service Unavailable" in row.error for row in rejected)


async def test_the_write_rate_limit_applies_to_rest_writes(autojump_clock: trio.abc.Clock) -> None:
    async with api() as (sim, client):
        sim.faults.write_rate_limit = True
        assert (await client.put("/values/k", content=b"first")).status_code == 200
        refused(await client.put("/values/k", content=b"second"), 429, "Too Many Requests")
        # One limiter for every way in: a binding write of the same key within the second is refused too.
        with pytest.raises(KVError, match="KV PUT failed: 429 Too Many Requests"):
            await sim.env("SFO").MY_KV.put("k", "third")
        # A bulk write with one limited key writes none of its keys.
        refused(await client.put("/bulk", json=[{"key": "fresh", "value": "f"}, {"key": "k", "value": "4"}]), 429,
                "Too Many Requests")  # fmt: skip
        assert (await client.get("/values/fresh")).status_code == 404
        assert (await client.get("/values/k")).content == b"first"
        await trio.sleep(1)
        assert (await client.put("/values/k", content=b"later")).status_code == 200
        assert (await client.get("/values/k")).content == b"later"

"""REST writes enter at the central store and propagate like binding writes; REST reads see the central store.

These run the ASGI app in-process on virtual time (no sockets), so propagation can be watched exactly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import trio

from workersim import FixedDelay, Simulation, run
from workersim.checkers import check_all
from workersim.server.rest import RestApp, binding_namespace_id

ACCOUNT = "acc"
TOKEN = "tok"
BOUND = binding_namespace_id("MY_KV")


def make_sim(seed: int = 3) -> Simulation:
    return Simulation(edges=("SFO", "LHR"), kv_namespaces=("MY_KV",), seed=seed, delays=FixedDelay(5.0))


@asynccontextmanager
async def api(sim: Simulation) -> AsyncIterator[httpx.AsyncClient]:
    app = RestApp.for_simulation(sim, ACCOUNT, TOKEN)
    base = f"http://workersim/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with sim, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base, headers=auth) as client:
        yield client


async def test_a_rest_write_reaches_the_edges_like_a_binding_write(autojump_clock: trio.abc.Clock) -> None:
    sim = make_sim()
    async with api(sim) as client:
        assert (await client.put(f"/{BOUND}/values/k", content=b"v1")).status_code == 200
        assert (await client.get(f"/{BOUND}/values/k")).content == b"v1"  # the central store has it at once
        assert await sim.env("SFO").MY_KV.get("k") is None  # the edges do not, yet
        await trio.sleep(5)
        assert await sim.env("SFO").MY_KV.get("k") == "v1"
        assert await sim.env("LHR").MY_KV.get("k") == "v1"
    [write] = [row for row in sim.history if row.op == "put"]
    assert write.edge == "central" and write.ns == "MY_KV" and write.value == b"v1"
    assert sim.arrival(write, "SFO") == write.invoke + 5
    assert all(report.ok for report in check_all(sim.history.rows, max_delay=sim.max_delay))


async def test_rest_reads_see_binding_writes_at_once(autojump_clock: trio.abc.Clock) -> None:
    sim = make_sim()
    async with api(sim) as client:
        await sim.env("LHR").MY_KV.put("from-edge", "x", metadata={"m": 1})
        assert (await client.get(f"/{BOUND}/values/from-edge")).content == b"x"
        assert (await client.get(f"/{BOUND}/metadata/from-edge")).json()["result"] == {"m": 1}
        listed = (await client.get(f"/{BOUND}/keys")).json()["result"]
        assert listed == [{"name": "from-edge", "metadata": {"m": 1}}]


async def test_expiration_follows_virtual_time(autojump_clock: trio.abc.Clock) -> None:
    sim = make_sim()
    async with api(sim) as client:
        await client.put(f"/{BOUND}/values/short", content=b"v", params={"expiration_ttl": 60})
        response = await client.get(f"/{BOUND}/values/short")
        assert int(response.headers["expiration"]) == int(sim.start_time) + 60
        await trio.sleep(60)
        assert (await client.get(f"/{BOUND}/values/short")).status_code == 404
        assert (await client.get(f"/{BOUND}/keys")).json()["result"] == []


async def test_renaming_a_bound_namespace_keeps_it_bound(autojump_clock: trio.abc.Clock) -> None:
    sim = make_sim()
    async with api(sim) as client:
        renamed = await client.put(f"/{BOUND}", json={"title": "renamed"})
        assert renamed.json()["result"] == {"id": BOUND, "title": "renamed", "supports_url_encoding": True}
        await client.put(f"/{BOUND}/values/k", content=b"still bound")
        await trio.sleep(5)
        assert await sim.env("SFO").MY_KV.get("k") == "still bound"
        refused = await client.delete(f"/{BOUND}")
        assert refused.status_code == 400 and "binding 'MY_KV'" in refused.json()["errors"][0]["message"]


async def test_created_namespaces_have_their_own_keyspaces(autojump_clock: trio.abc.Clock) -> None:
    sim = make_sim()
    async with api(sim) as client:
        created = (await client.post("", json={"title": "mine"})).json()["result"]["id"]
        await client.put(f"/{created}/bulk", json=[{"key": "k", "value": "elsewhere"}])
        await trio.sleep(5)
        assert await sim.env("SFO").MY_KV.get("k") is None
        assert (await client.get(f"/{created}/values/k")).content == b"elsewhere"
        assert (await client.delete(f"/{created}")).json() == {
            "success": True,
            "errors": [],
            "messages": [],
            "result": {},
        }
        assert (await client.get(f"/{created}/values/k")).json()["errors"][0]["code"] == 10013
    assert {row.ns for row in sim.history if row.op == "put"} == {created}


async def run_workload(seed: int) -> str:
    sim = make_sim(seed)
    async with api(sim) as client:
        first = (await client.post("", json={"title": "a"})).json()["result"]["id"]
        await client.put(f"/{first}/bulk", json=[{"key": f"k{i}", "value": str(i)} for i in range(5)])
        await client.put(f"/{BOUND}/values/x", content=b"1", params={"expiration_ttl": 120})
        await client.request("DELETE", f"/{first}/bulk", json=["k1"])
        await client.post(f"/{first}/bulk/get", json={"keys": ["k0", "k1"], "withMetadata": True})
        await client.get(f"/{first}/keys", params={"limit": 2})
        await client.put(f"/{first}/values/bad", content=b"v", params={"expiration_ttl": 1})
        await trio.sleep(1)
        await sim.env("SFO").MY_KV.get("x")
    return first + sim.history.to_jsonl_text()


def test_the_same_seed_gives_the_same_ids_and_history() -> None:
    first = run(run_workload, 11)
    assert first == run(run_workload, 11)
    assert first != run(run_workload, 12)
    assert '"edge":"central"' in first and '"error":"KVError: KV PUT failed: 400' in first

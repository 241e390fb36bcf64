"""Hostile input: JSON nested thousands deep, NaN, a bulk body of millions of items, a number for a type. Each gets
a clear 4xx (or a clear error in the binding), nothing is stored, and nothing costs memory out of proportion."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import trio

import workersim
from workersim import FixedDelay, Simulation
from workersim.server.dev import WorkerApp
from workersim.server.rest import RestApp, binding_namespace_id

ACCOUNT, TOKEN = "acc", "tok"
BOUND = binding_namespace_id("KV")
DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000


@asynccontextmanager
async def api() -> AsyncIterator[tuple[Simulation, httpx.AsyncClient]]:
    sim = Simulation(edges=("SFO",), kv_namespaces=("KV",), delays=FixedDelay(0))
    app = RestApp.for_simulation(sim, ACCOUNT, TOKEN)
    base = f"http://workersim/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with sim, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base, headers=auth) as client:
        yield sim, client


def refused(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and words in body["errors"][0]["message"]


async def test_deep_json_is_a_400_on_every_endpoint_that_reads_json(autojump_clock: trio.abc.Clock) -> None:
    async with api() as (sim, client):
        refused(await client.post("", content=DEEP), 400, "nested too deeply")
        refused(await client.put(f"/{BOUND}", content=DEEP_OBJECT), 400, "nested too deeply")
        refused(await client.put(f"/{BOUND}/bulk", content=DEEP), 400, "nested too deeply")
        refused(await client.post(f"/{BOUND}/bulk/delete", content=DEEP), 400, "nested too deeply")
        refused(await client.request("DELETE", f"/{BOUND}/bulk", content=DEEP), 400, "nested too deeply")
        refused(await client.post(f"/{BOUND}/bulk/get", content=DEEP_OBJECT), 400, "nested too deeply")
        bulk = '[{"key": "k", "value": "v", "metadata": ' + DEEP + "}]"
        refused(await client.put(f"/{BOUND}/bulk", content=bulk), 400, "nested too deeply")
        # A 6 KB metadata part nested a thousand deep: kept as text, which is then over the metadata limit.
        files = {"value": (None, "v"), "metadata": (None, "[" * 3000 + "]" * 3000)}
        refused(await client.put(f"/{BOUND}/values/k", files=files), 413, "Metadata length")
        assert (await client.get(f"/{BOUND}/keys")).json()["result"] == []
    assert not [row for row in sim.history if row.op in ("put", "delete") and not hasattr(row, "error")]


async def test_the_binding_refuses_deep_json_clearly(autojump_clock: trio.abc.Clock) -> None:
    nested: object = 1
    for _ in range(5000):
        nested = [nested]
    async with Simulation(edges=("SFO",), kv_namespaces=("KV",)) as sim:
        kv = sim.env("SFO").KV
        with pytest.raises(TypeError, match="KV metadata must be JSON-serializable: it is nested too deeply"):
            await kv.put("k", "v", metadata=nested)
        assert await kv.get("k") is None
        await kv.put("deep", DEEP)
        with pytest.raises(json.JSONDecodeError, match="JSON nested too deeply"):
            await kv.get("deep", "json")


async def test_nan_is_not_json_as_javascript_reads_it(autojump_clock: trio.abc.Clock) -> None:
    async with api() as (sim, client):
        kv = sim.env("SFO").KV
        for text in ("NaN", "[Infinity]", '{"x": -Infinity}'):
            await kv.put("n", text)
            with pytest.raises(json.JSONDecodeError, match="is not valid JSON"):
                await kv.get("n", "json")
            reply = await client.post(f"/{BOUND}/bulk/get", json={"keys": ["n"], "type": "json"})
            refused(reply, 400, "non-json value")


async def test_a_number_is_not_a_type(autojump_clock: trio.abc.Clock) -> None:
    async with api() as (sim, client):
        await sim.env("SFO").KV.put("k", "v")
        refused(await client.post(f"/{BOUND}/bulk/get", json={"keys": ["k"], "type": 0}), 400, "'type' must be")
        refused(await client.post(f"/{BOUND}/bulk/get", json={"keys": ["k"], "withMetadata": 0}), 400, "true or false")


async def test_a_huge_bulk_body_is_refused_before_it_costs_memory(autojump_clock: trio.abc.Clock) -> None:
    items = 2_000_000
    body = "[" + ",".join(["{}"] * items) + "]"  # 6 MB: two million dicts would take well over 100 MB
    async with api() as (_sim, client):
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        reply = await client.put(f"/{BOUND}/bulk", content=body)
        peak = tracemalloc.get_traced_memory()[1] - start
        tracemalloc.stop()
    refused(reply, 400, "at most 10000 {key, value} objects")
    # The body itself (as bytes and as text, and the client's copy) and 10,001 small dicts: tens of MB, not 100s.
    assert peak < 48 * 1024 * 1024


async def test_repeated_credentials_a_bad_host_and_a_websocket_are_refused(autojump_clock: trio.abc.Clock) -> None:
    async with api() as (sim, client):
        twice = [("Authorization", "Bearer wrong"), ("Authorization", f"Bearer {TOKEN}")]
        refused(await client.get("", headers=twice), 400, "the authorization header was sent more than once")
        app = RestApp.for_simulation(sim, ACCOUNT, TOKEN)
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return {"type": "websocket.connect"}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        await app({"type": "websocket", "path": "/client/v4/", "headers": []}, receive, send)
        assert [message["type"] for message in sent] == ["websocket.close"]

    async def fetch(request: workersim.Request) -> workersim.Response:
        return workersim.Response(request.url)

    worker_sim = Simulation(edges=("SFO",), worker=fetch)
    transport = httpx.ASGITransport(app=WorkerApp(worker_sim))
    async with worker_sim, httpx.AsyncClient(transport=transport, base_url="http://w") as dev:
        reply = await dev.get("/", headers={"Host": "["})
        assert reply.status_code == 400 and "Invalid URL" in reply.text

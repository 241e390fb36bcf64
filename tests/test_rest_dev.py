"""The dev server serves the REST API under /client/v4/ beside the worker, over the same simulation."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from _rest_support import ACCOUNT, TOKEN, workersim_process
from cloudflare import Cloudflare

from workersim.server.rest import binding_namespace_id

WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        key = request.url.rsplit("/", 1)[1]
        if request.method == "POST":
            await self.env.KV.put(key, await request.text())
            return Response("stored")
        value = await self.env.KV.get(key)
        return Response(value or "missing", status=200 if value is not None else 404)
"""


def test_the_dev_server_serves_the_api_beside_the_worker(tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    env = {**os.environ, "WORKERSIM_ACCOUNT_ID": ACCOUNT, "WORKERSIM_API_TOKEN": TOKEN}
    args = ("dev", str(worker), "--kv", "KV", "--edges", "SFO,LHR", "--delay", "0", "--port", "0", "--quiet")
    with workersim_process(*args, env=env) as server:
        assert f"REST API on {server.url}/client/v4" in server.banner and TOKEN not in server.banner
        sdk = Cloudflare(api_token=TOKEN, base_url=f"{server.url}/client/v4", max_retries=0)
        bound = binding_namespace_id("KV")
        assert [ns.title for ns in sdk.kv.namespaces.list(account_id=ACCOUNT)] == ["KV"]

        sdk.kv.namespaces.values.update("from-rest", account_id=ACCOUNT, namespace_id=bound, value=b"hello")
        with httpx.Client(base_url=server.url, timeout=10) as client:
            seen = client.get("/from-rest", headers={"X-Workersim-Edge": "LHR"})
            assert (seen.status_code, seen.text) == (200, "hello")  # the REST write reached the edge's binding
            assert client.post("/from-worker", content="written at SFO").text == "stored"
            assert client.get("/client/v4/accounts").status_code == 404  # the API's paths are not the worker's
            assert client.get(f"/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces").status_code == 401
        got = sdk.kv.namespaces.values.get("from-worker", account_id=ACCOUNT, namespace_id=bound)
        assert got.read() == b"written at SFO"  # the central store has the binding's write at once

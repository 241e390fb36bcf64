"""Load: 20 concurrent clients write 200 distinct keys each over HTTP; every acknowledged write reads back."""

from __future__ import annotations

import httpx
import trio
from _rest_support import ACCOUNT, TOKEN, api_process

CLIENTS = 20
KEYS_EACH = 200


async def test_concurrent_writers_lose_and_duplicate_nothing() -> None:
    with api_process("--account", ACCOUNT, "--token", TOKEN, "--quiet") as server:
        base = f"{server.url}/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            base += "/" + (await client.post(base, json={"title": "load"})).json()["result"]["id"]
        acknowledged: list[tuple[str, str]] = []

        async def writer(client_id: int) -> None:
            async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
                for i in range(KEYS_EACH):
                    key, value = f"client{client_id:02d}/key{i:03d}", f"value {client_id} {i}"
                    response = await client.put(f"{base}/values/{key.replace('/', '%2F')}", content=value)
                    if response.status_code == 200:
                        acknowledged.append((key, value))

        async with trio.open_nursery() as nursery:
            for client_id in range(CLIENTS):
                nursery.start_soon(writer, client_id)
        assert len(acknowledged) == CLIENTS * KEYS_EACH

        expected = dict(acknowledged)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
            names: list[str] = []
            cursor = ""
            while True:
                page = (await client.get(f"{base}/keys", params={"limit": 1000, "cursor": cursor})).json()
                names += [entry["name"] for entry in page["result"]]
                cursor = page["result_info"]["cursor"]
                if not cursor:
                    break
            assert names == sorted(expected)  # every key once, nothing else
            keys = sorted(expected)
            for start in range(0, len(keys), 100):
                batch = keys[start : start + 100]
                values = (await client.post(f"{base}/bulk/get", json={"keys": batch})).json()["result"]["values"]
                assert values == {key: expected[key] for key in batch}

"""``workersim api``: the command, its banner, credentials from the environment, and logs without secrets."""

from __future__ import annotations

import contextlib
import io
import os
import textwrap

import httpx
from _rest_support import ACCOUNT, OTHER_ACCOUNT, TOKEN, api_process

from workersim import History


def without_workersim_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("WORKERSIM_")}


def test_a_generated_token_is_printed_with_examples_that_work() -> None:
    with api_process(env=without_workersim_env()) as server:
        lines = server.banner.splitlines()
        account = next(line.split(":", 1)[1].strip() for line in lines if "account id:" in line)
        token = next(line.split()[2] for line in lines if "API token:" in line)
        assert len(account) == 32 and len(token) >= 24 and "generated" in server.banner
        assert f"Bearer {token}" in server.banner and f"CLOUDFLARE_API_TOKEN={token}" in server.banner
        url = f"{server.url}/client/v4/accounts/{account}/storage/kv/namespaces"
        assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).json()["success"] is True
        start = lines.index("Python SDK (pip install cloudflare):") + 1
        snippet = textwrap.dedent("\n".join(lines[start : lines.index("wrangler:")]))
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(snippet, {})  # the SDK example, exactly as printed
        assert "title='demo'" in printed.getvalue()
        assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        logged = server.stop()
    assert f"GET /client/v4/accounts/{account}/storage/kv/namespaces 200" in logged
    assert f"GET /client/v4/accounts/{account}/storage/kv/namespaces 401" in logged
    assert token not in logged and "wrong" not in logged


def test_account_and_token_come_from_the_environment() -> None:
    env = {**without_workersim_env(), "WORKERSIM_ACCOUNT_ID": ACCOUNT, "WORKERSIM_API_TOKEN": TOKEN}
    with api_process(env=env) as server:
        assert f"account id: {ACCOUNT}" in server.banner and TOKEN not in server.banner
        auth = {"Authorization": f"Bearer {TOKEN}"}
        base = f"{server.url}/client/v4/accounts"
        created = httpx.post(f"{base}/{ACCOUNT}/storage/kv/namespaces", json={"title": "t"}, headers=auth)
        namespace = created.json()["result"]["id"]
        put = httpx.put(
            f"{base}/{ACCOUNT}/storage/kv/namespaces/{namespace}/values/k?expiration_ttl=120",
            content=b"v",
            headers=auth,
        )
        assert put.status_code == 200
        assert httpx.get(f"{base}/{OTHER_ACCOUNT}/storage/kv/namespaces", headers=auth).status_code == 403
        logged = server.stop()
    assert "/values/k 200" in logged and "expiration_ttl" not in logged and TOKEN not in logged


def test_history_is_written_at_shutdown(tmp_path) -> None:
    path = tmp_path / "history.jsonl"
    env = {**without_workersim_env(), "WORKERSIM_ACCOUNT_ID": ACCOUNT, "WORKERSIM_API_TOKEN": TOKEN}
    with api_process("--history", str(path), env=env) as server:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        base = f"{server.url}/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
        namespace = httpx.post(base, json={"title": "t"}, headers=auth).json()["result"]["id"]
        assert httpx.put(f"{base}/{namespace}/values/k", content=b"v", headers=auth).status_code == 200
        assert httpx.get(f"{base}/{namespace}/values/k", headers=auth).content == b"v"
        logged = server.stop()
    assert "SIGTERM, shutting down" in logged
    rows = [
        (row.edge, row.op, getattr(row, "key", None), getattr(row, "value", None)) for row in History.from_jsonl(path)
    ]
    assert ("central", "put", "k", b"v") in rows and ("central", "get", "k", b"v") in rows
    assert f"wrote {len(rows)} operations to {path}" in logged

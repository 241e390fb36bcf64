"""wrangler (npm), unchanged, against a workersim REST server through ``CLOUDFLARE_API_BASE_URL``."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from _rest_support import ACCOUNT, TOKEN, RunningServer, running_server
from _wrangler import find_wrangler, run_wrangler

WRANGLER, WHY_NOT = find_wrangler()
pytestmark = pytest.mark.skipif(WRANGLER is None, reason=WHY_NOT)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server() as s:
        yield s


def test_wrangler_kv_commands(server: RunningServer, tmp_path: Path) -> None:
    executable = WRANGLER or pytest.skip(WHY_NOT)

    def wrangler(*args: str) -> str:
        home = Path(tempfile.mkdtemp(dir=tmp_path))  # one each: some commands run side by side
        done = run_wrangler(executable, list(args), base_url=server.base_url, account=ACCOUNT, token=TOKEN, home=home)
        assert done.returncode == 0, f"wrangler {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    created = wrangler("kv", "namespace", "create", "from-wrangler")
    [namespace] = set(re.findall(r"\b[0-9a-f]{32}\b", created))
    listed = json.loads(wrangler("kv", "namespace", "list"))
    assert {"id": namespace, "title": "from-wrangler", "supports_url_encoding": True} in listed
    assert "MY_KV" in [entry["title"] for entry in listed]

    remote = ["--namespace-id", namespace, "--remote"]
    bulk = tmp_path / "bulk.json"
    bulk.write_text(json.dumps([{"key": "b1", "value": "1"}, {"key": "b2", "value": "aGk=", "base64": True}]))
    before = server.unix_now()
    with ThreadPoolExecutor() as pool:  # independent commands side by side: each wrangler takes seconds to start
        list(
            pool.map(
                lambda args: wrangler(*args, *remote),
                [
                    ("kv", "key", "put", "dir/key x", "hello wrangler"),
                    ("kv", "key", "put", "meta", "v2", "--ttl", "120", "--metadata", '{"a":1}'),
                    ("kv", "bulk", "put", str(bulk)),
                ],
            )
        )
    assert wrangler("kv", "key", "get", "dir/key x", *remote).strip() == "hello wrangler"
    wrangler("kv", "key", "delete", "dir/key x", *remote)
    keys = json.loads(wrangler("kv", "key", "list", *remote))
    assert [key["name"] for key in keys] == ["b1", "b2", "meta"]
    assert keys[2]["metadata"] == {"a": 1} and before + 120 <= keys[2]["expiration"] <= server.unix_now() + 120

    sdk = server.sdk()
    assert sdk.kv.namespaces.values.get("b2", account_id=ACCOUNT, namespace_id=namespace).read() == b"hi"
    writes = [row for row in server.apply(lambda now: list(server.sim.history)) if row.op in ("put", "delete")]
    assert {row.edge for row in writes} == {"central"} and len(writes) == 5

"""``workersim export`` reads a ``--persist`` file into REST bulk-write JSON, and ``workersim import`` writes such a
dump to a running server: data moves from one server's file to another server unchanged."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import subprocess
import time
from pathlib import Path

import httpx
from _rest_support import workersim_process

from workersim.cli import main

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "transfer-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def api(*args: str):  # type: ignore[no-untyped-def]
    return workersim_process("api", "--port", "0", "--account", ACCOUNT, "--token", TOKEN, "--quiet", *args)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def test_export_then_import_moves_the_data_to_another_server(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    expires = int(time.time()) + 3600
    planned = {
        "first": [
            {"key": "text", "value": "héllo"},
            {"key": "binary", "value": base64.b64encode(b"\xff\x00\xfe").decode(), "base64": True},
            {"key": "meta", "value": "m", "metadata": {"tags": ["a", "b"]}},
            {"key": "ttl", "value": "t", "expiration": expires},
        ],
        "second": [{"key": f"k{i:03}", "value": str(i)} for i in range(120)],
    }
    with api("--persist", str(state)) as server, httpx.Client(headers=AUTH, timeout=10) as client:
        base = f"{server.url}/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
        for title, pairs in planned.items():
            ns = client.post(base, json={"title": title}).json()["result"]["id"]
            assert client.put(f"{base}/{ns}/bulk", json=pairs).status_code == 200
            assert client.put(f"{base}/{ns}/values/deleted", content=b"x").status_code == 200
            assert client.delete(f"{base}/{ns}/values/deleted").status_code == 200
        empty = client.post(base, json={"title": "empty"}).json()["result"]["id"]
        assert client.put(f"{base}/{empty}/values/gone", content=b"x").status_code == 200
        assert client.delete(f"{base}/{empty}/values/gone").status_code == 200

    dump = tmp_path / "dump.json"
    done = cli("export", "--persist", str(state), "--out", str(dump))
    assert done.returncode == 0, done.stderr
    exported = json.loads(dump.read_text(encoding="utf-8"))
    assert {title: sorted(pairs, key=lambda pair: pair["key"]) for title, pairs in exported.items()} == {
        title: sorted(pairs, key=lambda pair: pair["key"]) for title, pairs in planned.items()
    }
    one = cli("export", "--persist", str(state), "--namespace", "second")
    assert json.loads(one.stdout) == planned["second"]

    with api() as server, httpx.Client(headers=AUTH, timeout=10) as client:
        url = f"{server.url}/client/v4"
        done = cli("import", str(dump), "--url", url, "--account", ACCOUNT, "--token", TOKEN)
        assert done.returncode == 0, done.stderr
        base = f"{url}/accounts/{ACCOUNT}/storage/kv/namespaces"
        ids = {ns["title"]: ns["id"] for ns in client.get(base).json()["result"]}
        assert set(ids) == {"first", "second"}
        first = f"{base}/{ids['first']}"
        assert client.get(f"{first}/values/text").content == "héllo".encode()
        assert client.get(f"{first}/values/binary").content == b"\xff\x00\xfe"
        assert client.get(f"{first}/metadata/meta").json()["result"] == {"tags": ["a", "b"]}
        assert client.get(f"{first}/values/ttl").headers["expiration"] == str(expires)
        keys = client.get(f"{base}/{ids['second']}/keys").json()["result"]
        assert [key["name"] for key in keys] == [pair["key"] for pair in planned["second"]]
        # An array dump goes into the namespace named (created when missing).
        array = tmp_path / "array.json"
        array.write_text(json.dumps(planned["second"][:3]), encoding="utf-8")
        assert cli("import", str(array), "--url", url, "--account", ACCOUNT, "--token", TOKEN).returncode == 2
        done = cli("import", str(array), "--url", url, "--account", ACCOUNT, "--token", TOKEN, "--namespace", "third")
        assert done.returncode == 0, done.stderr
        third = {ns["title"]: ns["id"] for ns in client.get(base).json()["result"]}["third"]
        assert len(client.get(f"{base}/{third}/keys").json()["result"]) == 3


def test_export_refuses_a_file_that_is_not_a_state_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_text("not sqlite", encoding="utf-8")
    done = cli("export", "--persist", str(bad))
    assert done.returncode == 2 and done.stdout == ""
    assert (
        done.stderr.startswith(f"workersim export: --persist {bad}: not a SQLite database")
        and done.stderr.count("\n") == 1
    )

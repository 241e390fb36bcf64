"""``--persist``: the real servers, run as subprocesses, keep their KV state in SQLite across restarts and crashes,
and refuse (untouched) files they cannot use."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from _rest_support import workersim_process

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "persist-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def api(*args: str):  # type: ignore[no-untyped-def]
    return workersim_process("api", "--port", "0", "--account", ACCOUNT, "--token", TOKEN, "--quiet", *args)


def namespaces(url: str) -> str:
    return f"{url}/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"


def test_a_restart_keeps_namespaces_keys_values_metadata_and_expirations(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    expires = int(time.time()) + 3600
    with api("--persist", str(state)) as server, httpx.Client(headers=AUTH, timeout=10) as client:
        base = namespaces(server.url)
        kept = client.post(base, json={"title": "kept"}).json()["result"]["id"]
        gone = client.post(base, json={"title": "gone"}).json()["result"]["id"]
        renamed = client.post(base, json={"title": "old title"}).json()["result"]["id"]
        assert client.put(f"{base}/{renamed}", json={"title": "new title"}).status_code == 200
        assert client.put(f"{base}/{kept}/values/plain", content=b"\x00binary\xff").status_code == 200
        meta = client.put(f"{base}/{kept}/values/meta", files={"value": b"v", "metadata": b'{"a": [1, 2]}'})
        assert meta.status_code == 200
        assert client.put(f"{base}/{kept}/values/ttl?expiration={expires}", content=b"later").status_code == 200
        assert client.put(f"{base}/{kept}/values/overwritten", content=b"first").status_code == 200
        assert client.put(f"{base}/{kept}/values/overwritten", content=b"second").status_code == 200
        assert client.put(f"{base}/{kept}/values/deleted", content=b"x").status_code == 200
        assert client.delete(f"{base}/{kept}/values/deleted").status_code == 200
        bulk = [{"key": f"bulk-{i}", "value": str(i), "metadata": {"i": i}} for i in range(50)]
        assert client.put(f"{base}/{kept}/bulk", json=bulk).status_code == 200
        assert client.put(f"{base}/{gone}/values/k", content=b"v").status_code == 200
        assert client.delete(f"{base}/{gone}").status_code == 200
    with api("--persist", str(state)) as server, httpx.Client(headers=AUTH, timeout=10) as client:
        base = namespaces(server.url)
        listed = client.get(base).json()["result"]
        assert [(ns["id"], ns["title"]) for ns in listed] == [(kept, "kept"), (renamed, "new title")]
        assert client.get(f"{base}/{kept}/values/plain").content == b"\x00binary\xff"
        assert client.get(f"{base}/{kept}/metadata/meta").json()["result"] == {"a": [1, 2]}
        ttl = client.get(f"{base}/{kept}/values/ttl")
        assert (ttl.content, ttl.headers["expiration"]) == (b"later", str(expires))
        assert client.get(f"{base}/{kept}/values/overwritten").content == b"second"
        assert client.get(f"{base}/{kept}/values/deleted").status_code == 404
        got = client.post(
            f"{base}/{kept}/bulk/get", json={"keys": [item["key"] for item in bulk], "withMetadata": True}
        ).json()["result"]["values"]
        assert got == {item["key"]: {"value": item["value"], "metadata": item["metadata"]} for item in bulk}
        keys = client.get(f"{base}/{kept}/keys").json()["result"]
        assert sorted(key["name"] for key in keys) == sorted(
            ["plain", "meta", "ttl", "overwritten", *(item["key"] for item in bulk)]
        )
        assert client.get(f"{base}/{gone}/values/k").status_code == 404
        # Ids are never drawn twice, not even after a restart: the next namespace gets a fresh one.
        fresh = client.post(base, json={"title": "fresh"}).json()["result"]["id"]
        assert fresh not in (kept, gone, renamed)


def test_without_an_account_a_restart_serves_the_same_account(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    with workersim_process("api", "--port", "0", "--persist", str(state)) as server:
        first = server.banner.split("account id: ")[1].split()[0]
    with workersim_process("api", "--port", "0", "--persist", str(state)) as server:
        assert server.banner.split("account id: ")[1].split()[0] == first


PROPAGATING = """
import json
import time

from workers import Response


async def fetch(request, env, ctx):
    if request.method == "PUT":
        await env.KV.put("k", await request.text())
    value = await env.KV.get("k")
    return Response(json.dumps({"value": value, "t": time.monotonic()}))
"""
DELAY, SCALE = 80.0, 10.0
"""A write takes 80 simulated seconds (8 real ones) to reach the other edges: the shutdown and the restart may take
most of that on a busy machine and still leave the write on its way."""


def test_a_write_made_just_before_shutdown_arrives_after_the_restart_when_it_would_have(tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(PROPAGATING, encoding="utf-8")
    state = tmp_path / "state.sqlite3"
    args = ("dev", str(worker), "--kv", "KV", "--edges", "SFO,LHR", "--port", "0", "--persist", str(state))
    timing = ("--delay", str(DELAY), "--max-delay", str(DELAY), "--time-scale", str(SCALE), "--quiet")
    with workersim_process(*args, *timing) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        written = client.put("/", content="hello", headers={"X-Workersim-Edge": "SFO"}).json()
        assert written["value"] == "hello"
        stale = client.get("/", headers={"X-Workersim-Edge": "LHR"}).json()
        assert stale["value"] is None
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
    arrival = written["t"] + DELAY  # virtual seconds: the delay the test chose, from the write's own time
    with workersim_process(*args, *timing) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        at_sfo = client.get("/", headers={"X-Workersim-Edge": "SFO"}).json()
        assert at_sfo["value"] == "hello"
        # The clock went on from where it stopped (it does not count the time the server was down).
        assert stale["t"] <= at_sfo["t"] < arrival
        reads = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            read = client.get("/", headers={"X-Workersim-Edge": "LHR"}).json()
            reads.append(read)
            if read["value"] is not None:
                break
            time.sleep(0.1)
    assert reads[0]["value"] is None, "the write had not reached LHR yet when the server restarted"
    assert reads[-1]["value"] == "hello", "the write never reached LHR after the restart"
    margin = 0.05  # the worker reads its clock a moment after the KV read
    for read in reads:
        assert (read["value"] is not None) == (read["t"] >= arrival - margin) or abs(read["t"] - arrival) < margin


CLIENTS = 20


def test_a_sigkill_during_concurrent_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    acknowledged: list[dict[str, str]] = [{} for _ in range(CLIENTS)]
    requests = [0] * CLIENTS
    sent: dict[str, set[str]] = {}
    bulks: list[list[str]] = []
    lock = threading.Lock()
    with api("--persist", str(state)) as server:
        base = namespaces(server.url)
        with httpx.Client(headers=AUTH) as client:
            ns = client.post(base, json={"title": "crash"}).json()["result"]["id"]
        stop = threading.Event()

        def writer(number: int) -> None:
            with httpx.Client(headers=AUTH, timeout=10) as client:
                for i in range(100_000):
                    if stop.is_set():
                        return
                    # Each client rewrites its own few keys (so versions pile up and are collected), and now and
                    # then writes a batch of 20 keys that must be all there or all missing.
                    key, value = f"c{number}-k{i % 7}", f"client {number} write {i} " + "x" * (i % 300)
                    batch = [f"c{number}-bulk{i}-{j}" for j in range(20)] if i % 10 == 9 else [key]
                    with lock:
                        for name in batch:
                            sent.setdefault(name, set()).add(value)
                        if len(batch) > 1:
                            bulks.append(batch)
                    try:
                        if len(batch) > 1:
                            body = [{"key": name, "value": value} for name in batch]
                            response = client.put(f"{base}/{ns}/bulk", json=body)
                        else:
                            response = client.put(f"{base}/{ns}/values/{key}", content=value)
                        if response.status_code == 200:
                            acknowledged[number].update(dict.fromkeys(batch, value))
                            requests[number] += 1
                    except httpx.HTTPError:
                        return  # the server was killed while this request was on its way

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(2.0)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    expected = {key: value for acked in acknowledged for key, value in acked.items()}
    assert len(expected) > 100, f"only {len(expected)} writes were acknowledged before the kill"
    with api("--persist", str(state)) as server, httpx.Client(headers=AUTH, timeout=30) as client:
        base = f"{namespaces(server.url)}/{ns}"
        stored = {}
        cursor = ""
        while True:
            page = client.get(f"{base}/keys", params={"cursor": cursor} if cursor else {}).json()
            names = [key["name"] for key in page["result"]]
            for start in range(0, len(names), 100):
                chunk = names[start : start + 100]
                stored.update(client.post(f"{base}/bulk/get", json={"keys": chunk}).json()["result"]["values"])
            cursor = page["result_info"]["cursor"]
            if not cursor:
                break
    # Every acknowledged write is there: its own value, or a later one of the same client (sent before the kill,
    # written, but not acknowledged in time).
    missing = [key for key in expected if key not in stored]
    assert not missing, f"{len(missing)} of {len(expected)} acknowledged keys are missing: {missing[:5]}"
    for key, value in expected.items():
        assert int(stored[key].split()[3]) >= int(value.split()[3]), f"{key}: older than the acknowledged write"
    # Nothing half-written: every stored value is one that was sent for its key, and every batch is whole or absent.
    for key, value in stored.items():
        assert value in sent.get(key, set()), key
    for batch in bulks:
        present = [name in stored for name in batch]
        assert all(present) or not any(present), f"a batch was half-written: {batch[0]}"
    print(f"{sum(requests)} acknowledged write requests ({len(expected)} keys), all there after SIGKILL and restart")


def _state_file(tmp_path: Path) -> Path:
    """A real state file, made by a server that wrote a few hundred values."""
    state = tmp_path / "real.sqlite3"
    with api("--persist", str(state)) as server, httpx.Client(headers=AUTH, timeout=10) as client:
        base = namespaces(server.url)
        ns = client.post(base, json={"title": "t"}).json()["result"]["id"]
        body = [{"key": f"k{i}", "value": "v" * 2000} for i in range(300)]
        assert client.put(f"{base}/{ns}/bulk", json=body).status_code == 200
    return state


def _refusal(args: list[str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "workersim.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def _damaged(tmp_path: Path, kind: str) -> Path:
    target = tmp_path / f"{kind}.sqlite3"
    if kind == "truncated":
        data = _state_file(tmp_path).read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif kind == "text":
        target.write_text("name,value\nnot,sqlite\n" * 20, encoding="utf-8")
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "foreign":
        with sqlite3.connect(target) as connection:
            connection.execute("CREATE TABLE recipes (name TEXT, steps TEXT)")
            connection.execute("INSERT INTO recipes VALUES ('bread', 'knead')")
        connection.close()
    elif kind == "newer":
        target.write_bytes(_state_file(tmp_path).read_bytes())
        with sqlite3.connect(target) as connection:
            connection.execute("UPDATE workersim_schema SET version = 99")
        connection.close()
    elif kind == "other-edges":
        target.write_bytes(_state_file(tmp_path).read_bytes())
    return target


REFUSALS = [
    ("truncated", ["api"], "the SQLite file is damaged or cut short"),
    ("text", ["api"], "not a SQLite database"),
    ("empty", ["api"], "not a SQLite database"),
    ("foreign", ["api"], "not a workersim state file"),
    ("newer", ["api"], "written by a newer workersim (schema 99"),
    ("other-edges", ["dev", "{worker}", "--edges", "SFO,LHR"], "it was written with --edges SFO,IAD,GRU"),
]


@pytest.mark.parametrize(("kind", "command", "words"), REFUSALS, ids=[case[0] for case in REFUSALS])
def test_an_unusable_file_is_refused_in_one_line_and_left_untouched(
    tmp_path: Path, kind: str, command: list[str], words: str
) -> None:
    target = _damaged(tmp_path, kind)
    worker = tmp_path / "worker.py"
    worker.write_text(PROPAGATING, encoding="utf-8")
    before = target.read_bytes()
    beside = sorted(path.name for path in tmp_path.iterdir())
    args = [arg.format(worker=worker) for arg in command]
    done = _refusal([*args, "--port", "0", "--persist", str(target)])
    assert (done.returncode, done.stdout) == (2, "")
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"workersim {args[0]}: --persist {target}: "), lines[0]
    assert words in lines[0] and lines[0].endswith("the file was left as it is"), lines[0]
    assert target.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == beside, "files were created beside it"


def test_a_file_another_server_is_using_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    with api("--persist", str(state)):
        before = state.read_bytes()
        done = _refusal(["api", "--port", "0", "--persist", str(state)])
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == (
            f"workersim api: --persist {state}: another workersim server is using it; stop that one first, or use "
            "another file; the file was left as it is\n"
        )
        assert state.read_bytes() == before


def test_partitions_and_faults_are_kept_across_a_restart(tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(PROPAGATING, encoding="utf-8")
    state = tmp_path / "state.sqlite3"
    args = ("dev", str(worker), "--kv", "KV", "--edges", "SFO,LHR", "--port", "0", "--persist", str(state))
    timing = ("--delay", "1", "--max-delay", "1", "--quiet", "--no-reload")
    with workersim_process(*args, *timing) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.post("/__workersim/partition", params={"edges": "LHR"}).status_code == 200
        assert client.put("/", content="held", headers={"X-Workersim-Edge": "SFO"}).status_code == 200
        assert client.post("/__workersim/faults", params={"outage": "on"}).status_code == 200
    with workersim_process(*args, *timing) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        status = client.get("/__workersim/status").json()
        assert (status["cut_off"], status["faults"]) == (["LHR"], {"rate_limit": False, "outage": True})
        assert client.put("/", content="refused", headers={"X-Workersim-Edge": "SFO"}).status_code == 500
        assert client.post("/__workersim/faults", params={"outage": "off"}).status_code == 200
        client.post("/__workersim/advance", params={"seconds": "60"})
        assert client.get("/", headers={"X-Workersim-Edge": "LHR"}).json()["value"] is None  # still held back
        client.post("/__workersim/heal")
        assert client.get("/", headers={"X-Workersim-Edge": "LHR"}).json()["value"] == "held"

"""Live control of a running ``workersim dev`` (a subprocess): partitions, heals, faults and time jumps sent with
``workersim ctl`` (and curl-style requests), observed through requests at two edges."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path

import httpx
from _rest_support import workersim_process

from workersim import History
from workersim.cli import main
from workersim.core.rows import KVWrite

WORKER = """
import json
import time

from workers import Response


async def fetch(request, env, ctx):
    try:
        if request.method == "PUT":
            await env.KV.put("k", await request.text())
        value = await env.KV.get("k")
    except Exception as error:  # a fault switched on: say which
        return Response(str(error), status=503)
    return Response(json.dumps({"value": value, "t": time.monotonic()}))
"""
DELAY = 30.0
"""Every write takes 30 virtual seconds to reach the other edge: on the real clock, it never does during the test
unless time is advanced."""


def ctl(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``workersim ctl --url URL ARGS``, run in this process (the server is the subprocess)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["ctl", "--url", url, *args])
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def ok(url: str, *args: str) -> str:
    done = ctl(url, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_partition_heal_faults_advance_and_history_through_the_control_path(tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER, encoding="utf-8")
    args = ("dev", str(worker), "--kv", "KV", "--edges", "SFO,LHR", "--port", "0", "--quiet", "--no-reload")
    timing = ("--delay", str(DELAY), "--max-delay", str(DELAY))
    with workersim_process(*args, *timing) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        url = server.url

        def at(edge: str, value: str | None = None) -> httpx.Response:
            headers = {"X-Workersim-Edge": edge}
            return client.put("/", content=value, headers=headers) if value else client.get("/", headers=headers)

        # A partition holds a write back, even past its propagation delay; the heal delivers it.
        assert "cut off: LHR" in ok(url, "partition", "LHR")
        assert at("SFO", "v1").json()["value"] == "v1"
        before = at("LHR").json()
        status = json.loads(ok(url, "--json", "advance", str(2 * DELAY)))
        assert status["now"] >= before["t"] + 2 * DELAY
        assert at("LHR").json()["value"] is None
        assert "cut off: none" in ok(url, "heal")
        assert at("LHR").json()["value"] == "v1"

        # Without a partition, a write reaches the other edge once its delay has passed, and not before.
        assert at("SFO", "v2").json()["value"] == "v2"
        assert at("LHR").json()["value"] == "v1"
        ok(url, "advance", str(DELAY + 1))
        assert at("LHR").json()["value"] == "v2"

        # Faults: an outage fails writes everywhere; the rate limit fails a second write within a second.
        assert "faults on: outage" in ok(url, "faults", "--outage", "on")
        refused = at("LHR", "v3")
        assert (refused.status_code, refused.text) == (503, "KV PUT failed: 503 Service Unavailable")
        assert "faults on: rate_limit" in ok(url, "faults", "--outage", "off", "--rate-limit", "on")
        assert at("SFO", "v4").status_code == 200
        limited = at("SFO", "v5")
        assert (limited.status_code, limited.text) == (503, "KV PUT failed: 429 Too Many Requests")
        assert "faults on: none" in ok(url, "faults", "--rate-limit", "off")
        assert at("SFO", "v6").json()["value"] == "v6"

        # The same endpoints answer plain HTTP requests (as the README's curl lines send them).
        assert client.post("/__workersim/partition", params={"edges": "SFO"}).json()["cut_off"] == ["SFO"]
        assert client.post("/__workersim/heal", params={"edges": "SFO"}).json()["cut_off"] == []

        # Mistakes are refused with a reason (and `workersim ctl` exits 2 with it).
        unknown = ctl(url, "partition", "XYZ")
        assert unknown.returncode == 2 and "unknown edge 'XYZ'; the edges are SFO, LHR" in unknown.stderr
        assert ctl(url, "advance", "-5").returncode == 2
        assert client.get("/__workersim/partition").status_code == 405

        shown = json.loads(ok(url, "--json", "status"))
        assert (shown["edges"], shown["cut_off"], shown["faults"]) == (
            ["SFO", "LHR"],
            [],
            {"rate_limit": False, "outage": False},
        )
        history = tmp_path / "history.jsonl"
        ok(url, "history", "--out", str(history))
    writes = [row for row in History.from_jsonl(history) if isinstance(row, KVWrite)]
    assert [(row.edge, row.value) for row in writes] == [("SFO", b"v1"), ("SFO", b"v2"), ("SFO", b"v4"), ("SFO", b"v6")]


def test_ctl_without_a_server_says_so(tmp_path: Path) -> None:
    done = ctl("http://127.0.0.1:9", "status")
    assert done.returncode == 1 and done.stderr.startswith("workersim ctl: cannot reach workersim dev at")

"""Hot reload: ``workersim dev`` (a subprocess) runs the new code after the worker file is edited, keeps its KV
data, and keeps serving the previous code when an edit does not load."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

WORKER = """
from workers import Response

VERSION = {version}
hits = 0  # module-level state: each isolate has its own, and a reload starts it again


async def fetch(request, env, ctx):
    global hits
    hits += 1
    if request.method == "PUT":
        await env.KV.put("k", await request.text())
    return Response(f"version={{VERSION}} hits={{hits}} kv={{await env.KV.get('k')}}")
"""
DEADLINE = 60.0
"""Real seconds to wait for a reload (the watcher reacts in well under a second when the machine is idle)."""


def poll(until: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not until():
        assert time.monotonic() < deadline, f"no {what} within {DEADLINE} s"
        time.sleep(0.1)


def test_an_edit_is_served_at_once_with_the_kv_data_and_a_broken_edit_keeps_the_old_code(tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER.format(version=1), encoding="utf-8")
    log = tmp_path / "dev.log"
    command = [sys.executable, "-m", "workersim.cli", "dev", str(worker), "--kv", "KV", "--edges", "SFO,LHR"]
    command += ("--delay", "0")
    with open(log, "w", encoding="utf-8") as stderr:
        server = subprocess.Popen([*command, "--port", "0"], stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert server.stdout is not None
        url = re.search(r"http://[0-9.]+:[0-9]+", server.stdout.readline()).group(0)  # type: ignore[union-attr]
        with httpx.Client(base_url=url, timeout=10) as client:

            def at(edge: str, value: str | None = None) -> str:
                headers = {"X-Workersim-Edge": edge}
                response = (
                    client.put("/", content=value, headers=headers) if value else client.get("/", headers=headers)
                )
                assert response.status_code == 200, response.text
                return response.text

            assert at("SFO", "kept") == "version=1 hits=1 kv=kept"
            assert at("SFO") == "version=1 hits=2 kv=kept"

            worker.write_text(WORKER.format(version=2), encoding="utf-8")
            poll(lambda: at("SFO").startswith("version=2"), "reload to version 2")
            # A fresh isolate (its module state starts again, each poll counted one hit) and the same KV data.
            assert re.fullmatch(r"version=2 hits=\d+ kv=kept", at("SFO"))
            assert at("LHR") == "version=2 hits=1 kv=kept"

            broken = WORKER.format(version=3) + "\ndef broken(:\n"
            worker.write_text(broken, encoding="utf-8")
            line = broken.splitlines().index("def broken(:") + 1
            error = f"invalid syntax (worker.py, line {line})"
            poll(lambda: error in log.read_text(encoding="utf-8"), "logged load error")
            assert at("SFO").startswith("version=2 ")
            assert at("LHR").startswith("version=2 ")

            worker.write_text(WORKER.format(version=4), encoding="utf-8")
            poll(lambda: at("LHR").startswith("version=4"), "reload to version 4 after the broken edit")
            assert at("SFO") == "version=4 hits=1 kv=kept"
    finally:
        server.terminate()
        server.wait(timeout=30)
    logged = log.read_text(encoding="utf-8")
    assert f"worker.py changed but the worker does not load, so the previous code still serves: {error}" in logged
    assert "Traceback" not in logged

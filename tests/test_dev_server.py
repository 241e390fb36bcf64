"""`workersim dev` as a user runs it: a subprocess on a free loopback port, driven over real HTTP with httpx."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import workersim
from workersim.checkers import check_all

ROOT = Path(__file__).resolve().parent.parent
SHORTENER = ROOT / "examples" / "url_shortener" / "worker.py"
DELAY, SCALE = 8.0, 10.0  # a write takes 8 simulated seconds to propagate: 0.8 real seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dev_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "workersim.cli", "dev", *args]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    port = free_port()
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            dev_command(
                str(SHORTENER),
                "--kv",
                "LINKS",
                "--edges",
                "SFO,LHR,NRT",
                "--port",
                str(port),
                "--seed",
                "7",
                "--delay",
                str(DELAY),
                "--time-scale",
                str(SCALE),
                "--history",
                str(tmp_path / "history.jsonl"),
            ),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=ROOT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                # An unknown edge is answered without running the worker, so polling leaves no trace.
                httpx.get(f"{base}/", headers={"X-Workersim-Edge": "?"}, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"workersim dev did not start:\n{log.read_text()}") from None
                time.sleep(0.05)
        yield base, process, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_dev_server_edges_rays_staleness_and_clean_shutdown(server: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    base, process, log = server
    with httpx.Client(base_url=base, timeout=5) as client:
        default = client.get("/nothing")
        assert default.status_code == 404 and default.headers["cf-ray"].endswith("-SFO")

        unknown = client.get("/", headers={"X-Workersim-Edge": "XYZ"})
        assert unknown.status_code == 400
        assert unknown.text == "unknown edge 'XYZ' in X-Workersim-Edge; the edges are SFO, LHR, NRT\n"

        created = client.post("/shorten", json={"url": "https://example.org/long"}, headers={"X-Workersim-Edge": "LHR"})
        written_at = time.monotonic()
        assert created.status_code == 201
        ray, edge = created.headers["cf-ray"].split("-")
        assert edge == "LHR" and len(ray) == 16
        code = created.json()["code"]

        at_lhr = client.get(f"/{code}", headers={"X-Workersim-Edge": "LHR"})
        at_sfo = client.get(f"/{code}", headers={"X-Workersim-Edge": "sfo"})
        assert time.monotonic() - written_at < DELAY / SCALE, "too slow to observe the stale read"
        assert (at_lhr.status_code, at_lhr.headers["location"]) == (302, "https://example.org/long")
        assert at_sfo.status_code == 404 and at_sfo.headers["cf-ray"].endswith("-SFO")

        time.sleep(max(0.0, written_at + DELAY / SCALE + 0.2 - time.monotonic()))
        fresh = client.get(f"/{code}", headers={"X-Workersim-Edge": "SFO"})
        assert (fresh.status_code, fresh.headers["location"]) == (302, "https://example.org/long")

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0
    output = log.read_text()
    assert "Traceback" not in output
    assert "SIGINT, shutting down" in output
    history = workersim.History.from_jsonl(log.with_name("history.jsonl"))
    assert f"wrote {len(history)} operations to" in output
    assert all(report.ok for report in check_all(history, max_delay=10.0))
    reads = [row for row in history if row["op"] == "get" and row.get("key", "").endswith(code)]
    put = next(row for row in history if row["op"] == "put" and row["key"].endswith(code))
    assert [(row["edge"], row["version"]) for row in reads] == [
        ("LHR", put["version"]),
        ("SFO", None),
        ("SFO", put["version"]),
    ]
    assert put["request"] == ray
    lines = [line for line in output.splitlines() if "cf-ray=" in line]
    assert [line.split()[:5] for line in lines] == [
        ["SFO", "GET", "/nothing", "->", "404"],
        ["LHR", "POST", "/shorten", "->", "201"],
        ["LHR", "GET", f"/{code}", "->", "302"],
        ["SFO", "GET", f"/{code}", "->", "404"],
        ["SFO", "GET", f"/{code}", "->", "302"],
    ]


def test_dev_refuses_a_bad_configuration_with_a_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text('main = "src/missing.py"\n')
    result = subprocess.run(dev_command(str(config)), capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"workersim dev: {config}: main = 'src/missing.py', but there is no file" in result.stderr

"""`workersim dev` as a user runs it: a subprocess on port 0 (it prints the port it bound), driven over real HTTP
with httpx."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from _rest_support import workersim_process

import workersim
from workersim.checkers import check_all

ROOT = Path(__file__).resolve().parent.parent
SHORTENER = ROOT / "examples" / "url_shortener" / "worker.py"
# A write takes 30 simulated seconds to propagate, 3 real seconds at this scale: the stale read, a few milliseconds
# after the write, has a margin no scheduler hiccup eats, and the test waits for propagation only once.
DELAY, SCALE = 30.0, 10.0
FRESH_DEADLINE = 60.0
"""Real seconds to keep polling for the fresh read after the write should have arrived."""


def dev_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "workersim.cli", "dev", *args]


def poll_until_fresh(client: httpx.Client, path: str, edge: str, deadline: float) -> httpx.Response:
    """GET ``path`` at ``edge`` until it stops being a 404 (the write arrived) or the deadline passes."""
    while True:
        response = client.get(path, headers={"X-Workersim-Edge": edge})
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)  # few requests, so the unread stderr pipe cannot fill up while polling


def test_dev_server_edges_rays_staleness_and_clean_shutdown(tmp_path: Path) -> None:
    history_path = tmp_path / "history.jsonl"
    args = ("dev", str(SHORTENER), "--kv", "LINKS", "--edges", "SFO,LHR,NRT", "--port", "0", "--seed", "7")
    timing = ("--delay", str(DELAY), "--max-delay", str(DELAY), "--time-scale", str(SCALE))
    with workersim_process(*args, *timing, "--history", str(history_path)) as server:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            default = client.get("/nothing")
            assert default.status_code == 404 and default.headers["cf-ray"].endswith("-SFO")

            unknown = client.get("/", headers={"X-Workersim-Edge": "XYZ"})
            assert unknown.status_code == 400
            assert unknown.text == "unknown edge 'XYZ' in X-Workersim-Edge; the edges are SFO, LHR, NRT\n"

            before_write = time.monotonic()
            url = "https://example.org/long"
            created = client.post("/shorten", json={"url": url}, headers={"X-Workersim-Edge": "LHR"})
            assert created.status_code == 201
            ray, edge = created.headers["cf-ray"].split("-")
            assert edge == "LHR" and len(ray) == 16
            code = created.json()["code"]

            at_lhr = client.get(f"/{code}", headers={"X-Workersim-Edge": "LHR"})
            at_sfo = client.get(f"/{code}", headers={"X-Workersim-Edge": "sfo"})
            # Not a timing guess: if this failed, the machine stalled for seconds and the read proves nothing.
            assert time.monotonic() - before_write < DELAY / SCALE, "too slow to observe the stale read"
            assert (at_lhr.status_code, at_lhr.headers["location"]) == (302, url)
            assert at_sfo.status_code == 404 and at_sfo.headers["cf-ray"].endswith("-SFO")

            time.sleep(max(0.0, before_write + DELAY / SCALE - time.monotonic()))
            fresh = poll_until_fresh(client, f"/{code}", "SFO", time.monotonic() + FRESH_DEADLINE)
            assert (fresh.status_code, fresh.headers["location"]) == (302, url)

        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=15) == 0
        output = server.process.stderr.read()  # type: ignore[union-attr]
    assert "Traceback" not in output
    assert "SIGINT, shutting down" in output
    history = workersim.History.from_jsonl(history_path)
    assert f"wrote {len(history)} operations to" in output
    assert all(report.ok for report in check_all(history, max_delay=DELAY))
    reads = [row for row in history if row.op == "get" and getattr(row, "key", "").endswith(code)]
    put = next(row for row in history if row.op == "put" and row.key.endswith(code))
    assert put.request == ray
    seen = [(row.edge, row.version) for row in reads]
    # Polling may have read SFO stale a few more times before the write arrived; then it reads it.
    assert seen[:2] == [("LHR", put.version), ("SFO", None)]
    assert set(seen[2:-1]) <= {("SFO", None)} and seen[-1] == ("SFO", put.version)
    # What the fixed delay promises, on the server's own (virtual) clock: stale before it, fresh after.
    assert all(row.invoke < put.complete + DELAY for row in reads[1:-1])
    assert reads[-1].invoke >= put.complete + DELAY

    lines = [line.split()[:5] for line in output.splitlines() if "cf-ray=" in line]
    assert lines[:4] == [
        ["SFO", "GET", "/nothing", "->", "404"],
        ["LHR", "POST", "/shorten", "->", "201"],
        ["LHR", "GET", f"/{code}", "->", "302"],
        ["SFO", "GET", f"/{code}", "->", "404"],
    ]
    assert lines[4:-1] == [["SFO", "GET", f"/{code}", "->", "404"]] * (len(lines) - 5)
    assert lines[-1] == ["SFO", "GET", f"/{code}", "->", "302"]


def test_dev_refuses_a_bad_configuration_with_a_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text('main = "src/missing.py"\n')
    result = subprocess.run(dev_command(str(config)), capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"workersim dev: {config}: main = 'src/missing.py', but there is no file" in result.stderr


EXPIRING = """
import time
from workers import Response


async def fetch(request, env, ctx):
    # What real workers write: an absolute expiration from the worker's own clock.
    await env.KV.put("session", "s", expiration=int(time.time()) + 120)
    return Response.json({"time": time.time()})
"""


def test_dev_server_handlers_read_the_scaled_clock(tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(EXPIRING, encoding="utf-8")
    scale = 100.0
    with workersim_process("dev", str(worker), "--kv", "KV", "--port", "0", "--time-scale", str(scale)) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            started = time.time()
            first = client.get("/")
            time.sleep(1.0)  # drives a real server: one real second is a hundred simulated ones
            second = client.get("/")
            elapsed = time.time() - started
    # The put's expiration (from time.time() + 120) was accepted: the worker's clock is the simulation's.
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    # Between the two requests, simulated time moved on by about 100 times the real time that passed.
    simulated = second.json()["time"] - first.json()["time"]
    assert 1.0 * scale * 0.9 <= simulated <= elapsed * scale * 1.1


def test_dev_server_bounds_request_bodies_and_keeps_logs_on_one_line(tmp_path: Path) -> None:
    with workersim_process(
        "dev", str(SHORTENER), "--kv", "LINKS", "--port", "0", "--max-body", "1000"
    ) as server:  # fmt: skip
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert client.post("/shorten", content=b"x" * 1001).status_code == 413  # declared length
            streamed = client.post("/shorten", content=iter([b"x" * 600, b"x" * 600]))  # no length: counted
            assert streamed.status_code == 413
            assert client.get("/forged%0Afake%20line%1B[31m").status_code == 404
        logged = server.stop()
    forged = [line for line in logged.splitlines() if "forged" in line]
    assert len(forged) == 1 and "\\n" in forged[0] and "\x1b" not in logged
    assert not any(line.startswith("fake line") for line in logged.splitlines())


ESCAPING = """
import sys
from workers import Response


import asyncio


class Out(BaseException):
    pass


async def fetch(request, env, ctx):
    tail = request.url.rsplit("/", 1)[1]
    if tail == "exit":
        sys.exit(1)
    if tail == "interrupt":
        raise KeyboardInterrupt
    if tail == "out":
        raise Out("out")
    if tail == "loop":
        while True:  # a CPU loop that never awaits: only the CPU limit stops it
            try:
                sum(range(1000))
            except Exception:  # swallowing errors does not keep it alive
                pass
    if tail == "spin":
        while True:  # awaits, but never ends
            await asyncio.sleep(0)
    return Response("alive")
"""


def test_dev_server_survives_a_worker_that_exits(tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(ESCAPING, encoding="utf-8")
    with workersim_process("dev", str(worker), "--port", "0") as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for escape in ("exit", "interrupt", "out"):
                assert client.get(f"/{escape}").status_code == 500
                assert client.get("/").text == "alive"  # the server is still there
        assert server.process.poll() is None
        started = time.monotonic()
        logged = server.stop()  # SIGTERM: a clean stop
    assert time.monotonic() - started < 10
    assert logged.count("worker error in fetch") == 3


def test_dev_server_stops_handlers_over_their_cpu_limit(tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(ESCAPING, encoding="utf-8")
    with workersim_process("dev", str(worker), "--port", "0", "--cpu-ms", "300") as server:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for stuck in ("loop", "spin"):
                answers: list[httpx.Response] = []
                runner = threading.Thread(target=lambda s=stuck, a=answers: a.append(client.get(f"/{s}")))
                runner.start()
                time.sleep(0.05)  # drives a real server: the stuck request is in
                assert client.get("/").text == "alive"  # answered while the other request is stuck or after
                runner.join(timeout=60)
                [answer] = answers
                assert answer.status_code == 503 and "Error 1102" in answer.text, answer.text
                assert "CPU limit of 300 ms" in answer.text
        logged = server.stop()
    assert logged.count("ExceededResources") >= 2


def test_sigterm_stops_a_server_whose_worker_spins_in_a_cpu_loop(tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(ESCAPING, encoding="utf-8")
    with workersim_process("dev", str(worker), "--port", "0", "--cpu-ms", "600000") as server:
        threading.Thread(target=lambda: httpx.get(f"{server.url}/loop", timeout=60), daemon=True).start()
        time.sleep(0.5)  # drives a real server: the loop has the CPU
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
    assert time.monotonic() - started < 10


PLATFORM_WORKER = """
from js import console
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def scheduled(self, controller, env, ctx):
        runs = await env.KV.get("runs", type="json") or []
        await env.KV.put("runs", json.dumps(runs + [controller.cron]))
        console.log("scheduled run for", controller.cron)

    async def fetch(self, request):
        if request.url.endswith("/runs"):
            return Response(await env_get(self.env, "runs") or "[]")
        return Response(f"{self.env.STAGE} {self.env.API_KEY}")


async def env_get(env, key):
    return await env.KV.get(key)


import json
"""

PLATFORM_CONFIG = """
name = "platform"
main = "src/entry.py"
kv_namespaces = [{ binding = "KV", id = "1" }]

[triggers]
crons = ["* * * * *"]

[assets]
directory = "./public"

[env.staging]
kv_namespaces = [{ binding = "KV", id = "2" }]
vars = { STAGE = "staging" }
"""


def test_dev_server_runs_crons_on_the_scaled_clock_serves_assets_and_reads_env_sections(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(PLATFORM_WORKER, encoding="utf-8")
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "hello.txt").write_text("static hello", encoding="utf-8")
    (tmp_path / ".dev.vars").write_text("API_KEY=dev-secret\n", encoding="utf-8")
    config = tmp_path / "wrangler.toml"
    config.write_text(PLATFORM_CONFIG, encoding="utf-8")
    # 60 simulated seconds per real second: the every-minute cron fires about once a real second.
    args = ("dev", str(config), "--env", "staging", "--port", "0", "--time-scale", "60", "--edges", "LHR,SFO")
    with workersim_process(*args) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert client.get("/hello.txt").text == "static hello"
            assert client.get("/").text == "staging dev-secret"
            manual = client.get("/__scheduled", params={"cron": "0 12 * * *"})
            assert (manual.status_code, manual.text) == (200, "Ran scheduled event")
            deadline = time.monotonic() + 60
            runs: list[str] = []
            while time.monotonic() < deadline:
                runs = client.get("/runs").json()
                if runs.count("* * * * *") >= 2:
                    break
                time.sleep(0.3)
        server.process.terminate()
        logs = server.process.communicate(timeout=20)[1]
    assert "0 12 * * *" in runs and runs.count("* * * * *") >= 2, runs
    assert "scheduled run for 0 12 * * *" in logs


PROJECT_ENTRY = """
from workers import Response, WorkerEntrypoint

from greeting import greet
import wsim_dev_vendored


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(greet(self.env.NAME) + " " + self.env.TOKEN + " " + wsim_dev_vendored.WORD)
"""


def test_dev_serves_a_project_folder_as_pywrangler_lays_it_out(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(PROJECT_ENTRY, encoding="utf-8")
    (tmp_path / "src" / "greeting.py").write_text("def greet(name):\n    return 'hi ' + name\n", encoding="utf-8")
    (tmp_path / "python_modules").mkdir()
    (tmp_path / "python_modules" / "wsim_dev_vendored.py").write_text("WORD = 'vendored'\n", encoding="utf-8")
    (tmp_path / ".dev.vars").write_text("TOKEN=from-dev-vars\n", encoding="utf-8")
    (tmp_path / "wrangler.jsonc").write_text(
        '{\n  // pywrangler init\n  "name": "p",\n  "main": "src/entry.py",\n'
        '  "compatibility_flags": ["python_workers"],\n  "vars": { "NAME": "ada", },\n}\n',
        encoding="utf-8",
    )
    with workersim_process("dev", str(tmp_path), "--port", "0") as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert client.get("/").text == "hi ada from-dev-vars vendored"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run(dev_command(str(empty)), capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"workersim dev: {empty}: no wrangler.toml, wrangler.jsonc, wrangler.json in this folder" in result.stderr

"""Worker requests per second: through ``sim.fetch``, and over loopback HTTP through ``workersim dev``.

The handler does one KV get and one put. ``sim.fetch`` runs on virtual time, one client and 100 concurrent
clients. The dev server is measured beside a plain hypercorn hello-world app (hypercorn's trio worker, the same
client, connections and request count, in the same run): its ceiling on this machine; the ratio is what the
simulation costs on top of serving HTTP at all. Each figure is the best of ``--repeat`` runs.

``--instructions`` also counts CPU instructions per ``sim.fetch`` request (one client) with valgrind's callgrind:
the difference between runs of 5,000 and 1,000 requests, so start-up cancels out; with Python's garbage collector
on (as a run has it) and off.

    python benchmarks/requests.py [--requests 20000] [--http-requests 4000] [--connections 16] [--repeat 3]
                                  [--instructions]
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import h11
import trio
from kv_ops import timed  # type: ignore[import-not-found]  # the sibling benchmark's concurrent timer

import workersim

EDGES = ("SFO", "LHR", "NRT")

WORKER = """
from workers import Response


async def fetch(request, env, ctx):
    count = await env.KV.get("count")
    await env.KV.put("count", "1" if count is None else str(int(count) + 1))
    return Response("ok")
"""

HELLO = """
import sys, trio
from hypercorn.config import Config
from hypercorn.trio import serve


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


config = Config()
config.bind = [f"127.0.0.1:{sys.argv[1]}"]
config.accesslog = None
trio.run(serve, app, config)
"""


async def handler(request: workersim.Request, env: Any, ctx: Any) -> workersim.Response:
    count = await env.KV.get("count")
    await env.KV.put("count", "1" if count is None else str(int(count) + 1))
    return workersim.Response("ok")


def sim_fetch_rate(requests: int, clients: int) -> tuple[float, float]:
    """Requests per wall second and per CPU second of this process through ``sim.fetch`` with ``clients``
    concurrent callers. The run is single-threaded, so the second figure is its rate on one core of its own,
    whatever else the machine is doing."""

    async def main() -> tuple[float, float]:
        sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), seed=1, worker=handler)
        async with sim:
            cpu = time.process_time()
            wall = await timed(clients, requests, lambda i: sim.fetch("https://bench.example/", edge=EDGES[i % 3]))
            return wall, requests // clients * clients / (time.process_time() - cpu)

    return workersim.run(main)


ISOLATE_EDGES = tuple(f"E{i:02d}" for i in range(30))


def isolate_rates(requests: int, worker_file: Path) -> tuple[float, float, float]:
    """Requests per second through ``sim.fetch`` at 30 edges, one client, round robin over the edges: with the
    handler given as a function (one module for every edge) and as a file (30 isolates, one an edge); and the
    memory one isolate takes (tracemalloc, after each edge has loaded its own)."""

    async def run(worker: Any, measure_memory: bool) -> tuple[float, float]:
        sim = workersim.Simulation(edges=ISOLATE_EDGES, kv_namespaces=("KV",), seed=1, worker=worker)
        async with sim:
            per_isolate = 0.0
            if measure_memory:
                gc.collect()
                tracemalloc.start()
                before = tracemalloc.get_traced_memory()[0]
                for edge in ISOLATE_EDGES:
                    await sim.fetch("https://bench.example/", edge=edge)
                per_isolate = (tracemalloc.get_traced_memory()[0] - before) / len(ISOLATE_EDGES)
                tracemalloc.stop()
            else:
                for edge in ISOLATE_EDGES:  # every isolate loaded before the clock starts
                    await sim.fetch("https://bench.example/", edge=edge)
            start = time.perf_counter()
            for i in range(requests):
                await sim.fetch("https://bench.example/", edge=ISOLATE_EDGES[i % len(ISOLATE_EDGES)])
            return requests / (time.perf_counter() - start), per_isolate

    shared, _ = workersim.run(run, handler, False)
    isolated, _ = workersim.run(run, str(worker_file), False)
    _, memory = workersim.run(run, str(worker_file), True)
    return shared, isolated, memory


def fetch_only(requests: int, collect: bool) -> None:
    """Make ``requests`` requests through ``sim.fetch`` from one client (the process valgrind counts), with or
    without Python's garbage collector."""
    if not collect:
        gc.disable()

    async def main() -> None:
        sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), seed=1, worker=handler)
        async with sim:
            for i in range(requests):
                await sim.fetch("https://bench.example/", edge=EDGES[i % 3])

    workersim.run(main)


def instructions_per_request(first: int, last: int, *, collect: bool = True) -> float | None:
    """CPU instructions per ``sim.fetch`` request from the ``first``-th to the ``last``-th, from callgrind runs of
    ``last`` and ``first`` requests (start-up cancels out).

    With the collector on, the count depends on where its full passes fall: the first one after start-up walks
    every object the imports made (about 50,000), which in a window of a few hundred requests is thousands of
    instructions a request that a long run never pays again, so the window is thousands of requests long. Both runs
    use one string-hash seed: with a random one, set and dict layouts (and so the count) differ from run to run by a
    few thousand instructions a request."""
    if not shutil.which("valgrind"):
        return None
    counts = []
    for n in (first, last):
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
             "--fetch-only", str(n)] + ([] if collect else ["--no-gc"]),
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        counts.append(int(re.findall(r"Collected : (\d+)", done.stderr)[-1]))
    return (counts[1] - counts[0]) / (last - first)


async def http_client(port: int, requests: int, connections: int) -> float:
    """Requests per second from ``connections`` keep-alive HTTP/1.1 connections (h11 over trio sockets)."""

    async def connection(count: int) -> None:
        sent = 0
        while sent < count:  # hypercorn closes a connection after 1000 requests (keep_alive_max_requests)
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            conn = h11.Connection(h11.CLIENT)
            async with stream:
                while sent < count and conn.our_state is h11.IDLE:
                    headers = [("host", "bench"), ("x-workersim-edge", EDGES[sent % 3])]
                    request = conn.send(h11.Request(method="GET", target="/", headers=headers))
                    await stream.send_all(request + conn.send(h11.EndOfMessage()))
                    await _read_response(stream, conn)
                    sent += 1
                    if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                        conn.start_next_cycle()

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(connections):
            nursery.start_soon(connection, requests // connections)
    return requests // connections * connections / (time.perf_counter() - start)


async def _read_response(stream: trio.SocketStream, conn: h11.Connection) -> None:
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive_some(65536))
        elif isinstance(event, h11.Response) and event.status_code != 200:
            raise RuntimeError(f"the server answered {event.status_code}")
        elif isinstance(event, h11.EndOfMessage):
            return


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(command: list[str], port: int) -> Iterator[None]:
    """Run a server subprocess until it answers on ``port``; stop it afterwards."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command} did not start") from None
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


def http_rates(commands: list[Callable[[int], list[str]]], requests: int, connections: int, repeat: int) -> list[float]:
    """The best requests/s of each server; runs alternate between the servers so that a change in the machine's
    load during the run affects them alike."""
    ports = [free_port() for _ in commands]
    with ExitStack() as stack:
        for command, port in zip(commands, ports, strict=True):
            stack.enter_context(server(command(port), port))
            trio.run(http_client, port, min(requests, 200), connections)  # warm up
        best = [0.0] * len(ports)
        for _ in range(repeat):
            for index, port in enumerate(ports):
                best[index] = max(best[index], trio.run(http_client, port, requests, connections))
        return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000, help="requests per sim.fetch run")
    parser.add_argument("--http-requests", type=int, default=4000, help="requests per HTTP run")
    parser.add_argument("--connections", type=int, default=16, help="concurrent HTTP connections")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the best counts)")
    parser.add_argument("--instructions", action="store_true", help="count instructions per sim.fetch (valgrind)")
    parser.add_argument("--fetch-only", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-gc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fetch_only:
        fetch_only(args.fetch_only, collect=not args.no_gc)
        return
    if args.instructions:
        for collect in (True, False):
            count = instructions_per_request(1000, 5000, collect=collect)
            print(
                f"instructions per sim.fetch request (callgrind, 1 client, requests 1,000 to 5,000, garbage collector "
                f"{'on' if collect else 'off'}):",
                "no valgrind" if count is None else f"{count:,.0f}",
            )

    rows: list[tuple[str, float, float | None]] = []
    for clients in (1, 100):
        runs = [sim_fetch_rate(args.requests, clients) for _ in range(args.repeat)]
        rows.append((f"sim.fetch, {clients} client{'s' * (clients > 1)}", max(runs)[0], max(cpu for _, cpu in runs)))
    with tempfile.TemporaryDirectory() as folder:
        worker = Path(folder) / "worker.py"
        worker.write_text(WORKER)
        isolates = [isolate_rates(args.requests, worker) for _ in range(args.repeat)]
        shared = max(run[0] for run in isolates)
        isolated = max(run[1] for run in isolates)
        memory = min(run[2] for run in isolates)
        hello = Path(folder) / "hello.py"
        hello.write_text(HELLO)
        dev, ceiling = http_rates(
            [
                lambda port: [
                    sys.executable,
                    "-m",
                    "workersim.cli",
                    "dev",
                    str(worker),
                    "--kv",
                    "KV",
                    "--edges",
                    ",".join(EDGES),
                    "--port",
                    str(port),
                    "--quiet",
                ],
                lambda port: [sys.executable, str(hello), str(port)],
            ],
            args.http_requests,
            args.connections,
            args.repeat,
        )
    rows += [
        (f"workersim dev over HTTP, {args.connections} connections", dev, None),
        (f"hypercorn hello world over HTTP, {args.connections} connections", ceiling, None),
    ]

    width = max(len(name) for name, _, _ in rows)
    print(f"{'what':<{width}}  {'requests/s':>11}  {'per CPU-second':>14}")
    for name, rate, per_cpu in rows:
        print(f"{name:<{width}}  {rate:>11,.0f}  {'' if per_cpu is None else f'{per_cpu:,.0f}':>14}")
    print(f"{'dev server / hello-world ceiling':<{width}}  {dev / ceiling:>11.2f}")
    print(
        f"\nsim.fetch at {len(ISOLATE_EDGES)} edges, 1 client: one module for every edge {shared:,.0f}/s, "
        f"a file worker ({len(ISOLATE_EDGES)} isolates) {isolated:,.0f}/s, ratio {isolated / shared:.2f}; "
        f"memory per isolate {memory / 1024:,.1f} KiB"
    )


if __name__ == "__main__":
    main()

"""A small PUT's latency on a real `workersim api` while other clients keep it busy, against the same PUT idle.

    python benchmarks/starvation.py [--puts 300] [--rounds 3] [--server api|dev]

Starts the server on a free port and measures ``--puts`` sequential small PUTs (one keep-alive connection) idle,
then under load from another process (``tests/_hostile_clients.py``, the load of
``tests/test_server_starvation.py``): ``--streamers`` clients stream endless bodies in 64 KiB blocks,
``--tricklers`` send a byte a millisecond into 1 MB bodies, and ``--flooders`` announce 100 MB bodies, which the
server refuses at once and closes, and reconnect. The server has the first CPU to itself; the load and the
measuring client share the last. Each round measures idle and loaded in turn, with the same server; it prints p50,
p90 and p99 of both, their ratios, how busy the server was (its CPU time over the wall time) and how much the
streamers sent. To measure another checkout's server with the same load, run this file with ``PYTHONPATH``
pointing at that checkout.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the load and the server harness

from _hostile_clients import STREAMERS, TRICKLERS, cpu_seconds, hostile_load, put_latencies, server_pinned  # noqa: E402
from _rest_support import ACCOUNT, TOKEN, ApiProcess, api_process, workersim_process  # noqa: E402

DEV_WORKER = """
from workers import Response


async def fetch(request, env, ctx):
    await env.KV.put("body", await request.text())
    return Response("stored")
"""


def dev_process(worker: Path, env: dict[str, str]) -> contextlib.AbstractContextManager[ApiProcess]:
    """``workersim dev WORKER --port 0 --kv KV --quiet``."""
    return workersim_process("dev", str(worker), "--port", "0", "--kv", "KV", "--quiet", "--no-reload", env=env)


def percentiles(times: list[float]) -> tuple[float, float, float]:
    """p50, p90 and p99 in milliseconds."""
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[89] * 1000, cuts[98] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--puts", type=int, default=300, help="PUTs measured idle and under load (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="idle/loaded rounds (default 3)")
    parser.add_argument("--streamers", type=int, default=STREAMERS, help=f"default {STREAMERS}")
    parser.add_argument("--tricklers", type=int, default=TRICKLERS, help=f"default {TRICKLERS}")
    parser.add_argument("--flooders", type=int, default=0, help="default 0")
    parser.add_argument(
        "--server",
        choices=("api", "dev"),
        default="api",
        help="workersim api, or workersim dev (a worker that stores its request body) measured through its REST "
        "mount (default api)",
    )
    args = parser.parse_args()
    env = {**os.environ, "WORKERSIM_ACCOUNT_ID": ACCOUNT, "WORKERSIM_API_TOKEN": TOKEN}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    folder = tempfile.TemporaryDirectory()
    worker = Path(folder.name) / "worker.py"
    worker.write_text(DEV_WORKER, encoding="utf-8")
    start = api_process("--quiet", env=env) if args.server == "api" else dev_process(worker, env)
    with (
        folder,
        start as server,
        server_pinned(server.process.pid),
        httpx.Client(headers=auth) as client,
    ):
        base = f"{server.url}/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
        url = f"{base}/{client.post(base, json={'title': 'starvation'}).json()['result']['id']}"
        put_latencies(client, url, 50)  # warm up
        print(f"{'round':>5} {'idle p50/p90/p99 ms':>22} {'loaded p50/p90/p99 ms':>24} {'p50 x':>6} {'p99 x':>6} "
              f"{'busy':>5} {'MiB/s':>6}")  # fmt: skip
        ratios = []
        for round_ in range(1, args.rounds + 1):
            idle = percentiles(put_latencies(client, url, args.puts))
            load = hostile_load(url, TOKEN, streamers=args.streamers, tricklers=args.tricklers, flooders=args.flooders)
            with load as sent:
                time.sleep(0.5)  # let the load build up
                cpu, wall, streamed = cpu_seconds(server.process.pid), time.perf_counter(), sent.value
                loaded = percentiles(put_latencies(client, url, args.puts))
                elapsed = time.perf_counter() - wall
                busy = (cpu_seconds(server.process.pid) - cpu) / elapsed
                rate = (sent.value - streamed) / elapsed / 2**20
            ratios.append(loaded[0] / idle[0])
            print(
                f"{round_:>5} {'/'.join(f'{t:.1f}' for t in idle):>22} {'/'.join(f'{t:.1f}' for t in loaded):>24} "
                f"{loaded[0] / idle[0]:>6.1f} {loaded[2] / idle[2]:>6.1f} {busy:>5.0%} {rate:>6.0f}"
            )
        print(f"median p50 ratio over {args.rounds} rounds: {statistics.median(ratios):.1f}x (target: 10x)")


if __name__ == "__main__":
    main()

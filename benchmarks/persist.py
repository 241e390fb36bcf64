"""Acknowledged REST writes per second with ``--persist`` against without, measured in the same run.

Two ``workersim api`` servers run side by side, one keeping its state in a SQLite file (``--persist``: every
response waits for a commit that reached the disk, commits grouped across concurrent requests), one in memory.
Keep-alive clients PUT small values with fresh keys (the raw-socket client of ``benchmarks/rest.py``); the phases
take turns round after round and the best of each is shown. At the end the persistent server is stopped and its
file read back: it must hold every acknowledged write.

    python benchmarks/persist.py [--seconds 2] [--rounds 3] [--connections 16 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import trio
from rest import ACCOUNT, NAMESPACES, TOKEN, exchange, load, request

from workersim.server._persist import load as load_state


def start_api(*args: str) -> tuple[subprocess.Popen[str], str, int]:
    """A ``workersim api`` process on a free port, and the host and port it listens on."""
    command = [sys.executable, "-m", "workersim.cli", "api", "--port", "0", "--account", ACCOUNT, "--token", TOKEN]
    process = subprocess.Popen([*command, "--quiet", *args], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # type: ignore[union-attr]
    host, port = re.search(r"http://([0-9.]+):([0-9]+)", line).groups()  # type: ignore[union-attr]
    return process, host, int(port)


async def namespace(host: str, port: int) -> str:
    async with await trio.open_tcp_stream(host, port) as stream:
        _, body = await exchange(stream, request("POST", NAMESPACES, b'{"title":"bench"}'), bytearray())
    return f"{NAMESPACES}/{json.loads(body)['result']['id']}"


async def measure(args: argparse.Namespace, state: Path) -> tuple[dict[str, float], tuple[int, int], int]:
    """The best writes/s of each phase, the writes the persistent server acknowledged and those sent to it, and
    the keys its file holds once it has stopped."""
    servers = {"in memory": start_api(), "--persist": start_api("--persist", str(state))}
    try:
        paths = {name: await namespace(host, port) for name, (_, host, port) in servers.items()}
        counters = {name: 0 for name in servers}
        acknowledged = {name: 0 for name in servers}

        def writer(name: str):  # type: ignore[no-untyped-def]
            def put(c: int, i: int) -> bytes:
                counters[name] += 1
                return request("PUT", f"{paths[name]}/values/k{counters[name]:08d}", b"small value")

            return put

        def acknowledge(name: str):  # type: ignore[no-untyped-def]
            def count(c: int, i: int) -> None:
                acknowledged[name] += 1

            return count

        best: dict[str, float] = {}
        for _ in range(args.rounds):
            for connections in args.connections:
                for name, (_, host, port) in servers.items():
                    rate = await load(host, port, writer(name), connections, args.seconds, answered=acknowledge(name))
                    phase = f"{name}, {connections} clients"
                    best[phase] = max(best.get(phase, 0.0), rate)
    finally:
        for process, _, _ in servers.values():
            process.send_signal(signal.SIGTERM)
        for process, _, _ in servers.values():
            process.wait(timeout=60)
    held = sum(1 for _, _, versions in load_state(state).versions if versions[-1].value is not None)
    return best, (acknowledged["--persist"], counters["--persist"]), held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each phase in each round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all phases; the best of each is shown")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 1], help="concurrent keep-alive clients")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds (one short round)")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 0.5, 1
    with tempfile.TemporaryDirectory() as folder:
        best, writes, held = trio.run(measure, args, Path(folder) / "state.sqlite3")
    print(
        f"Acknowledged REST writes/s (PUT, small values, fresh keys), best of {args.rounds} rounds of "
        f"{args.seconds:g} s per phase, Python {sys.version.split()[0]}"
    )
    print(f"{'phase':<28}{'writes/s':>10}{'/ in memory':>13}")
    for connections in args.connections:
        memory = best[f"in memory, {connections} clients"]
        for name in ("in memory", "--persist"):
            rate = best[f"{name}, {connections} clients"]
            print(f"{name + f', {connections} clients':<28}{rate:>10.0f}{rate / memory:>13.2f}")
    # Each write has a key of its own. Every acknowledged write must be in the file; a write sent as the server
    # closed a keep-alive connection (hypercorn does after 1000 requests) may be there or not, never acknowledged.
    acknowledged, sent = writes
    print(f"the --persist file holds {held} keys; the server acknowledged {acknowledged} writes of {sent} sent")
    if not acknowledged <= held <= sent:
        raise SystemExit("the file does not hold every acknowledged write")


if __name__ == "__main__":
    main()

"""Binding throughput and memory per key, at 3 and at 300 edges.

Every operation goes through the real binding inside trio tasks on virtual time (validation, the conductor's
ordering, the core, the history). Prints a table of ops/s per phase, the put ratio 300/3 edges, and bytes of
memory per key. ``--instructions`` counts CPU instructions per put with valgrind: a check of the 300/3 ratio that
no other load on the machine can disturb. ``--peer`` also runs the Miniflare KV benchmark from
``shared/peers/miniflare`` in the same run and prints our ratios to it.

    python benchmarks/kv_ops.py [--ops 20000] [--tasks 100] [--repeat 3] [--peer] [--instructions]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

import workersim

VALUE = "v" * 16
PEER_DIR = Path(__file__).resolve().parents[2] / "shared" / "peers" / "miniflare"
MINIFLARE = "miniflare@4.20260426.0"


def edge_names(count: int) -> tuple[str, ...]:
    return tuple(f"E{i:03d}" for i in range(count))


async def timed(tasks: int, ops: int, op: Callable[[int], Awaitable[object]]) -> float:
    """Run ``ops`` calls of ``op(i)`` spread over ``tasks`` concurrent tasks; return ops per wall second."""
    per_task = ops // tasks

    async def worker(t: int) -> None:
        for i in range(t * per_task, (t + 1) * per_task):
            await op(i)

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for t in range(tasks):
            nursery.start_soon(worker, t)
    return per_task * tasks / (time.perf_counter() - start)


async def phases(edges: int, ops: int, tasks: int) -> dict[str, float]:
    names = edge_names(edges)
    sim = workersim.Simulation(edges=names, kv_namespaces=("KV",), seed=1)
    results: dict[str, float] = {}
    async with sim:
        near, far = sim.env(names[0]).KV, sim.env(names[-1]).KV
        results["put"] = await timed(tasks, ops, lambda i: near.put(f"key-{i:08d}", VALUE))
        results["get hit"] = await timed(tasks, ops, lambda i: near.get(f"key-{i:08d}"))
        results["get miss"] = await timed(tasks, ops, lambda i: near.get(f"nope-{i:08d}"))
        await trio.sleep(sim.max_delay)
        results["get far edge"] = await timed(tasks, ops, lambda i: far.get(f"key-{i:08d}"))
        list_ops = max(tasks, ops // 50)
        results["list (100 keys)"] = await timed(
            tasks, list_ops, lambda i: near.list(prefix=f"key-{(i * 100) % ops:08d}"[:-2], limit=100)
        )
        results["delete"] = await timed(tasks, ops, lambda i: near.delete(f"key-{i:08d}"))
    return results


def measure(edges: int, ops: int, tasks: int) -> dict[str, float]:
    """Every phase at ``edges`` edges."""
    return workersim.run(phases, edges, ops, tasks)


def memory_per_key(edges: int, keys: int) -> float:
    """Bytes the model holds per stored key (versions, index, key and value), at ``edges`` edges."""
    names = edge_names(edges)

    async def fill() -> float:
        sim = workersim.Simulation(edges=names, kv_namespaces=("KV",), seed=1)
        async with sim:
            kv = sim.env(names[0]).KV
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            for i in range(keys):
                await kv.put(f"key-{i:08d}", VALUE)
            sim.history.rows.clear()  # the history is the caller's record, not the store's memory
            gc.collect()
            used = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            return used / keys

    return workersim.run(fill)


async def _puts_only(edges: int, per_task: int) -> None:
    names = edge_names(edges)
    async with workersim.Simulation(edges=names, kv_namespaces=("KV",), seed=1) as sim:
        kv = sim.env(names[0]).KV
        await timed(100, 100 * per_task, lambda i: kv.put(f"key-{i:08d}", VALUE))


def instructions_per_put(edges: int, per_task: int = 100) -> float | None:
    """CPU instructions per put at ``edges`` edges, counted by valgrind's callgrind: unlike seconds, the count
    does not depend on what else the machine is doing. Two runs (no puts, then 100 tasks x ``per_task`` puts)
    cancel out start-up. ``None`` without valgrind."""
    if not shutil.which("valgrind"):
        return None

    def count(n: int) -> int:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                __file__,
                "--puts-only",
                str(edges),
                str(n),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        return int(next(line for line in done.stderr.splitlines() if "Collected" in line).split()[-1])

    return (count(per_task) - count(0)) / (100 * per_task)


def run_peer(ops: int) -> dict[str, float] | None:
    """Run Miniflare's KV benchmark (needs node and npm); ops/s per phase, or ``None`` if it cannot run."""
    if not (shutil.which("node") and shutil.which("npm")):
        print("peer: node/npm not found, Miniflare not measured", file=sys.stderr)
        return None
    work = Path(os.environ.get("WORKERSIM_PEER_DIR", Path(tempfile.gettempdir()) / "workersim-miniflare-peer"))
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(PEER_DIR / "bench.mjs", work / "bench.mjs")
    if not (work / "node_modules" / "miniflare").exists():
        subprocess.run(["npm", "init", "-y"], cwd=work, check=True, capture_output=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", MINIFLARE], cwd=work, check=True, capture_output=True
        )
    done = subprocess.run(["node", "bench.mjs", str(ops), "2000"], cwd=work, capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULTS_JSON"))
    return json.loads(line.split(" ", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=20_000, help="operations per phase (default 20000)")
    parser.add_argument("--tasks", type=int, default=100, help="concurrent trio tasks (default 100)")
    parser.add_argument("--memory-keys", type=int, default=20_000, help="keys stored for memory per key")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each figure is the best (default 3)")
    parser.add_argument("--peer", action="store_true", help="also run the Miniflare peer benchmark (node, npm)")
    parser.add_argument("--peer-ops", type=int, default=10_000, help="operations per Miniflare phase")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count CPU instructions per put at 3 and 300 edges with valgrind",
    )
    parser.add_argument("--puts-only", nargs=2, type=int, metavar=("EDGES", "PER_TASK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.puts_only:
        workersim.run(_puts_only, *args.puts_only)
        return

    table: dict[int, dict[str, float]] = {3: {}, 300: {}}
    # Rounds alternate between 3 and 300 edges and each figure is the best round's, so a busy moment on a
    # shared machine does not decide a ratio.
    for _ in range(args.repeat):
        for edges in (3, 300):
            rates = measure(edges, args.ops, args.tasks)
            rates["sequential put (1 task)"] = measure_sequential(edges, args.ops)
            for phase, rate in rates.items():
                table[edges][phase] = max(rate, table[edges].get(phase, 0.0))
    python = sys.version.split()[0]
    print(
        f"workersim binding, {args.ops} ops per phase, {args.tasks} concurrent tasks, best of {args.repeat}, "
        f"Python {python}"
    )
    print(f"{'phase':<26}{'3 edges':>14}{'300 edges':>14}{'300/3':>8}")
    for phase in table[3]:
        a, b = table[3][phase], table[300][phase]
        print(f"{phase:<26}{a:>12,.0f}/s{b:>12,.0f}/s{b / a:>8.2f}")
    mem = {edges: memory_per_key(edges, args.memory_keys) for edges in (3, 300)}
    print(f"{'memory per key (bytes)':<26}{mem[3]:>14,.0f}{mem[300]:>14,.0f}{mem[300] / mem[3]:>8.2f}")
    print(f"put throughput ratio 300/3 edges: {table[300]['put'] / table[3]['put']:.2f}")
    if args.instructions:
        counts = {edges: instructions_per_put(edges) for edges in (3, 300)}
        if counts[3] and counts[300]:
            print(
                f"instructions per put (callgrind): {counts[3]:,.0f} at 3 edges, {counts[300]:,.0f} at 300 edges; "
                f"throughput ratio 300/3 by instructions: {counts[3] / counts[300]:.2f}"
            )
    if args.peer:
        peer = run_peer(args.peer_ops)
        if peer:
            print_peer(table[3], peer)


def print_peer(ours: dict[str, float], peer: dict) -> None:
    """Our 3-edge figures beside Miniflare's inside-the-worker ones, as ratios."""
    pairs = (
        ("put (1 task)", ours["sequential put (1 task)"], "put"),
        ("put (concurrent)", ours["put"], "putpar (par=64)"),
        ("get hit", ours["get hit"], "get"),
        ("get miss", ours["get miss"], "getmiss"),
        ("delete", ours["delete"], "delete"),
        ("list, keys/s", ours["list (100 keys)"] * 100, "list"),
    )
    print("\nMiniflare peer, inside the worker (same machine, same run):")
    print(f"{'phase':<20}{'workersim':>14}{'miniflare':>14}{'ratio':>9}")
    for name, mine, op in pairs:
        theirs = _peer_value(peer, op)
        if theirs:
            print(f"{name:<20}{mine:>12,.0f}/s{theirs:>12,.0f}/s{mine / theirs:>8.1f}x")


def _peer_value(peer: dict, op: str) -> float | None:
    """The ops/s of Miniflare's inside-the-worker phase ``op`` (put, get, getmiss, delete)."""
    for row in peer.get("results", []):
        if row.get("where") == "inside-worker" and row.get("op") == op:
            return float(row["ops_per_s"])
    return None


def measure_sequential(edges: int, ops: int) -> float:
    """Puts from one task, one after another: the conductor's worst case (no batching)."""
    return workersim.run(_sequential, edges, ops)


async def _sequential(edges: int, ops: int) -> float:
    names = edge_names(edges)
    async with workersim.Simulation(edges=names, kv_namespaces=("KV",)) as sim:
        kv = sim.env(names[0]).KV
        return await timed(1, ops, lambda i: kv.put(f"key-{i:08d}", VALUE))


if __name__ == "__main__":
    main()

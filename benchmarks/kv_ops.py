"""Binding throughput and memory per key at 3 and at 300 edges, with Miniflare's KV binding measured like for like.

Every operation goes through the real binding inside trio tasks on virtual time (validation, the conductor's
ordering, the core, the history). Three groups of phases, each at 3 and at 300 edges, with the ratio 300/3:

- the binding's operations, every call at one virtual instant: put, get (hit, miss), list, delete, and reads at
  a far edge while the newest version of every key is still on its way there and after it has settled;
- puts paced over virtual time (each task makes ``BURST`` puts every ``PACE`` virtual seconds, so versions settle
  and the replaced ones are collected during the phase): fresh keys, and overwrites of keys rewritten every
  ``PACE`` seconds, so that older versions are still propagating when the next one is written;
- the same paced puts after a healed partition (one edge cut off at virtual time 0 and joined again 1 s later).

``--peer`` runs Miniflare's KV binding (``benchmarks/peers/miniflare``, installed with ``npm ci`` on first use)
in the same run, with the same value size, key names and list calls, once with 1 call in flight and once with
``--tasks`` in flight, beside workersim at 3 edges with 1 task and with ``--tasks`` tasks. ``--instructions``
counts CPU instructions per paced put with valgrind's callgrind: a 300/3 ratio no other load can disturb.

    python benchmarks/kv_ops.py [--ops 20000] [--tasks 100] [--repeat 3] [--value-bytes 100] [--peer]
                                [--instructions] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import trio

import workersim

PEER_DIR = Path(__file__).resolve().parent / "peers" / "miniflare"
EDGE_COUNTS = (3, 300)
BURST = 5
"""Puts a task makes at one virtual instant in the paced phases (a sleep before each put would cost more than the
put, and hide the put's own cost in a wall-clock ratio)."""
PACE = 2.0
"""Virtual seconds each task waits between two bursts in the paced phases."""
HOT_KEYS = BURST
"""Keys each task rewrites in the overwrite phases, one per put of a burst: each is rewritten every ``PACE``
seconds while a write takes 1 s on average (up to 10) to reach an edge, so the version it replaces is still on its
way to some edges."""
PUT_KINDS = ("fresh", "overwrite")
PUT_GROUPS = ((False, "paced put"), (True, "after a healed partition: put"))
"""Whether a group of paced-put phases follows a healed partition, and the start of its row names."""
HEAL_AFTER = 1.0
"""Virtual seconds the partition lasts in the after-heal phases."""
CHECKPOINT = "bare trio checkpoint loop"
"""The row of the ceiling every rate is compared with."""
TARGETS = {("put", 1): 0.5, ("get, hit", 1): 0.5, ("put", 100): 0.45, ("get, hit", 100): 0.45}
"""Rates (as a share of the checkpoint loop with as many tasks) the conductor aims for."""
CALLGRIND_TASKS = 20
"""Tasks in a callgrind run: fewer than in the timed phases, since callgrind runs Python some 50 times slower."""


def edge_names(count: int) -> tuple[str, ...]:
    """``count`` edge names that sort in creation order; the last one is the far edge."""
    return tuple(f"E{i:03d}" for i in range(count))


def key(i: int) -> str:
    """The ``i``-th key; the 100 keys ``key(100 j)`` .. ``key(100 j + 99)`` share the prefix ``key(100 j)[:-2]``."""
    return f"key-{i:08d}"


async def timed(
    tasks: int,
    ops: int,
    op: Callable[[int], Awaitable[object]],
    *,
    check: Callable[[object], bool] | None = None,
    pace: float = 0.0,
    burst: int = 1,
) -> float:
    """Run ``ops`` calls of ``op(i)`` spread over ``tasks`` concurrent tasks; return calls per wall second.

    Task ``t`` makes calls ``t * ops // tasks`` up to the next task's first, one after another, waiting ``pace``
    virtual seconds before each ``burst`` of them. ``check`` must accept every result: a benchmark of calls that do
    no real work would flatter us.

    A full garbage collection runs first, untimed, so that the phase pays for the collections its own calls cause
    (the collector stays on while it runs) and not for a full pass that the objects left by earlier phases and the
    set-up made due: without it, whichever phase that pass falls in loses a quarter of its rate.
    """

    async def worker(t: int) -> None:
        first = t * ops // tasks
        for i in range(first, (t + 1) * ops // tasks):
            if pace and (i - first) % burst == 0:
                await trio.sleep(pace)
            result = await op(i)
            if check is not None and not check(result):
                raise RuntimeError(f"call {i} returned {result!r}")

    gc.collect()
    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for t in range(tasks):
            nursery.start_soon(worker, t)
    return ops / (time.perf_counter() - start)


async def binding_phases(edges: int, ops: int, tasks: int, value_bytes: int) -> dict[str, float]:
    """Calls per second of each binding operation, ``tasks`` tasks at a time, with no virtual time passing
    during a phase (between phases only where said)."""
    names = edge_names(edges)
    sim = workersim.Simulation(edges=names, kv_namespaces=("KV",), seed=1)
    old, new = "v" * value_bytes, "w" * value_bytes
    rates: dict[str, float] = {}
    async with sim:
        near, far = sim.env(names[0]).KV, sim.env(names[-1]).KV
        # The ceiling: the same harness and tasks doing nothing but a trio checkpoint, in the same process and run.
        rates[CHECKPOINT] = await timed(tasks, ops, lambda i: trio.lowlevel.checkpoint())
        rates["put"] = await timed(tasks, ops, lambda i: near.put(key(i), old))
        rates["get, hit"] = await timed(tasks, ops, lambda i: near.get(key(i)), check=lambda r: r == old)
        rates["get, miss"] = await timed(tasks, ops, lambda i: near.get(f"nope-{i:08d}"), check=lambda r: r is None)
        # As many calls as would list every key ten times: a phase long enough to time (as in bench.mjs).
        blocks = max(ops // 100, 1)
        rates["list, 100 keys a call"] = await timed(
            tasks,
            ops // 10,
            lambda i: near.list(prefix=key(i % blocks * 100)[:-2], limit=100),
            check=lambda r: isinstance(r, dict) and len(r["keys"]) == 100,
        )
        # Let the first versions settle, then rewrite every key at one instant (not timed): each far read below
        # finds the newest version still on its way, works out that it has not arrived, and falls back.
        await trio.sleep(sim.max_delay)
        await timed(tasks, ops, lambda i: near.put(key(i), new))
        rates["get at a far edge, writes in flight"] = await timed(
            tasks, ops, lambda i: far.get(key(i)), check=lambda r: r in (old, new)
        )
        await trio.sleep(sim.max_delay)
        rates["get at a far edge, settled"] = await timed(
            tasks, ops, lambda i: far.get(key(i)), check=lambda r: r == new
        )
        rates["delete"] = await timed(tasks, ops, lambda i: near.delete(key(i)))
    return rates


async def paced_puts(
    edges: int, ops: int, tasks: int, value_bytes: int, healed: bool, kinds: tuple[str, ...] = PUT_KINDS
) -> dict[str, float]:
    """Puts per second of each of ``kinds`` (``fresh`` keys, ``overwrite`` of hot keys), paced over virtual time;
    ``healed``: after a partition of the far edge that healed early."""
    names = edge_names(edges)
    sim = workersim.Simulation(edges=names, kv_namespaces=("KV",), seed=1)
    value = "v" * value_bytes
    per_task = max(ops // tasks, 1)
    targets: dict[str, Callable[[int], str]] = {
        "fresh": key,
        "overwrite": lambda i: f"hot-{i // per_task:04d}-{i % HOT_KEYS}",  # a task's own keys, one per burst put
    }
    rates: dict[str, float] = {}
    async with sim:
        if healed:
            sim.partition([names[-1]])
            await trio.sleep(HEAL_AFTER)
            sim.heal([names[-1]])
        kv = sim.env(names[0]).KV
        for kind in kinds:
            target = targets[kind]
            rates[kind] = await timed(
                tasks, ops, lambda i, target=target: kv.put(target(i), value), pace=PACE, burst=BURST
            )
    return rates


def measure(edges: int, ops: int, tasks: int, value_bytes: int) -> dict[str, float]:
    """Every phase at ``edges`` edges with ``tasks`` tasks, by its row name."""
    rates = workersim.run(binding_phases, edges, ops, tasks, value_bytes)
    for healed, label in PUT_GROUPS:
        for kind, rate in workersim.run(paced_puts, edges, ops, tasks, value_bytes, healed).items():
            rates[f"{label}, {kind}"] = rate
    return rates


def memory_per_key(edges: int, keys: int, value_bytes: int) -> float:
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
                await kv.put(key(i), "v" * value_bytes)
            sim.history.rows = []  # the history is the caller's record, not the store's memory
            gc.collect()
            used = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            return used / keys

    return workersim.run(fill)


def instructions_per_put(edges: int, healed: bool, kind: str, per_task: int) -> float | None:
    """CPU instructions per paced put of ``kind`` at ``edges`` edges, counted by valgrind's callgrind: unlike
    seconds, the count does not depend on what else the machine is doing. The difference between runs of
    ``2 * per_task`` and ``per_task`` puts a task (``CALLGRIND_TASKS`` tasks) cancels start-up and counts the
    puts of the second half, in the steady state when ``per_task`` puts span ``max_delay`` or more: each of them
    also pays for collecting a version written ``max_delay`` earlier. ``None`` without valgrind."""
    if not shutil.which("valgrind"):
        return None

    def count(n: int) -> int:
        command = [sys.executable, __file__, "--puts-only", str(edges), kind, str(n)] + ["--healed"] * healed
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        return int(next(line for line in done.stderr.splitlines() if "Collected" in line).split()[-1])

    return (count(2 * per_task) - count(per_task)) / (CALLGRIND_TASKS * per_task)


def instruction_table(per_task: int) -> dict[tuple[str, int], float | None]:
    """Instructions per put for each (row name, edge count); two callgrind runs at a time, one per core."""
    jobs = {
        (f"{label}, {kind}", edges): (edges, healed, kind)
        for healed, label in PUT_GROUPS
        for kind in PUT_KINDS
        for edges in EDGE_COUNTS
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {row: pool.submit(instructions_per_put, *job, per_task) for row, job in jobs.items()}
        return {row: future.result() for row, future in futures.items()}


def prepare_peer() -> bool:
    """Whether Miniflare can run: node and npm are there and its pinned packages are (or now are) installed.
    Says why not at once, before minutes of measuring."""
    if not (shutil.which("node") and shutil.which("npm")):
        print("peer skipped: node or npm is not installed, so Miniflare is not measured", file=sys.stderr)
        return False
    if (PEER_DIR / "node_modules" / "miniflare").is_dir():
        return True
    print(f"peer: installing Miniflare into {PEER_DIR / 'node_modules'} (npm ci, once)", file=sys.stderr)
    try:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True, capture_output=True, timeout=600
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        detail = getattr(error, "stderr", None) or b""
        tail = detail.decode(errors="replace").strip().splitlines()[-3:] if isinstance(detail, bytes) else []
        print(f"peer skipped: npm ci failed ({error}); Miniflare is not measured", *tail, sep="\n", file=sys.stderr)
        return False
    return True


def run_peer(ops: int, value_bytes: int, pars: tuple[int, ...]) -> dict[tuple[str, int], float] | None:
    """Miniflare's calls per second for each (op, calls in flight); ``None`` (said why) if it failed."""
    command = ["node", "bench.mjs", str(ops), str(value_bytes), *map(str, pars)]
    try:
        done = subprocess.run(command, cwd=PEER_DIR, capture_output=True, text=True, check=True, timeout=1800)
        line = next(line for line in done.stdout.splitlines() if line.startswith("RESULTS_JSON"))
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, StopIteration) as error:
        print(f"peer failed: {error}; Miniflare is not measured", file=sys.stderr)
        return None
    rows = json.loads(line.split(" ", 1)[1])["results"]
    return {(row["op"], row["par"]): float(row["calls_per_s"]) for row in rows}


PEER_OPS = {
    "put": "put",
    "get, hit": "get",
    "get, miss": "getmiss",
    "list, 100 keys a call": "list",
    "delete": "delete",
}
"""Our row names and bench.mjs's op names for the phases both sides run."""


def best(table: dict, rates: dict) -> None:
    """Keep in ``table`` the highest rate seen so far for each key of ``rates``."""
    for name, rate in rates.items():
        table[name] = max(rate, table.get(name, 0.0))


def print_scaling(table: dict[int, dict[str, float]], memory: dict[int, float]) -> None:
    """Each phase at 3 and 300 edges and the ratio 300/3 (above 1: faster at 300 edges)."""
    print(f"{'phase':<52}{'3 edges':>12}{'300 edges':>12}{'300/3':>8}")
    for phase in table[3]:
        a, b = table[3][phase], table[300][phase]
        print(f"{phase:<52}{a:>10,.0f}/s{b:>10,.0f}/s{b / a:>8.2f}")
    a, b = memory[3], memory[300]
    print(f"{'memory per stored key (bytes)':<52}{a:>12,.0f}{b:>12,.0f}{b / a:>8.2f}")


def print_instructions(counts: dict[tuple[str, int], float | None]) -> None:
    """Instructions per put at 3 and 300 edges, and the throughput ratio 300/3 they imply."""
    if any(count is None for count in counts.values()):
        print("instructions: valgrind not found, not counted", file=sys.stderr)
        return
    print(f"\n{'instructions per put (callgrind)':<52}{'3 edges':>12}{'300 edges':>12}{'300/3':>8}")
    for row in dict.fromkeys(row for row, _ in counts):
        a, b = counts[row, 3], counts[row, 300]
        assert a is not None and b is not None
        print(f"{row:<52}{a:>12,.0f}{b:>12,.0f}{a / b:>8.2f}")
    print("(300/3 here is instructions at 3 edges / at 300: the throughput ratio they imply)")


def print_ceiling(like: dict[int, dict[str, float]]) -> None:
    """Each binding rate at 3 edges beside the bare checkpoint loop measured in the same round's run."""
    print(f"\n{'against a bare trio checkpoint loop':<40}{'tasks':>6}{'rate':>13}{'loop':>13}{'share':>7}{'target':>8}")
    for tasks, rates in like.items():
        loop = rates[CHECKPOINT]
        for phase, rate in rates.items():
            if phase == CHECKPOINT or phase.startswith(("paced", "after")):
                continue
            target = TARGETS.get((phase, tasks))
            aim = "" if target is None else f"{target:>8.2f}"
            print(f"{phase:<40}{tasks:>6}{rate:>11,.0f}/s{loop:>11,.0f}/s{rate / loop:>7.2f}{aim}")


def print_peer(ours: dict[int, dict[str, float]], theirs: dict[tuple[str, int], float]) -> None:
    """workersim at 3 edges beside Miniflare, phase by phase, at the same number of calls in flight."""
    print(f"\n{'phase':<24}{'in flight':>10}{'workersim':>13}{'Miniflare':>13}{'ratio':>9}")
    for par, rates in ours.items():
        for phase, op in PEER_OPS.items():
            mine, peer = rates[phase], theirs[op, par]
            print(f"{phase:<24}{par:>10}{mine:>11,.0f}/s{peer:>11,.0f}/s{mine / peer:>8.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=20_000, help="calls per phase (default 20000)")
    parser.add_argument("--tasks", type=int, default=100, help="concurrent trio tasks (default 100)")
    parser.add_argument("--value-bytes", type=int, default=100, help="size of every value (default 100)")
    parser.add_argument("--memory-keys", type=int, default=20_000, help="keys stored for memory per key")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each figure is the best (default 3)")
    parser.add_argument("--peer", action="store_true", help="also run Miniflare like for like (node, npm)")
    parser.add_argument("--peer-ops", type=int, default=10_000, help="calls per Miniflare phase (default 10000)")
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions per put with valgrind (minutes)"
    )
    parser.add_argument(
        "--instruction-puts",
        type=int,
        default=25,
        help="puts a task in the smaller callgrind run (default 25: 5 bursts, 10 virtual s, the max_delay)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds (tiny, one round)")
    parser.add_argument("--puts-only", nargs=3, metavar=("EDGES", "KIND", "PER_TASK"), help=argparse.SUPPRESS)
    parser.add_argument("--healed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.puts_only:
        edges, kind, per_task = int(args.puts_only[0]), args.puts_only[1], int(args.puts_only[2])
        workersim.run(
            paced_puts, edges, CALLGRIND_TASKS * per_task, CALLGRIND_TASKS, args.value_bytes, args.healed, (kind,)
        )
        return
    if args.quick:
        args.ops, args.memory_keys, args.repeat, args.peer_ops, args.instruction_puts = 1000, 1000, 1, 200, 5

    peer_ready = args.peer and prepare_peer()
    scaling: dict[int, dict[str, float]] = {edges: {} for edges in EDGE_COUNTS}
    # workersim at 3 edges with 1 task and with --tasks tasks, against Miniflare with as many calls in flight.
    like = {1: {}, args.tasks: scaling[3]}
    pars = tuple(like)
    peer: dict[tuple[str, int], float] = {}
    # Rounds alternate between the setups and each figure is the best round's, so a slow moment of a shared
    # machine does not decide a ratio; Miniflare takes its turn in every round for the same reason.
    for _ in range(args.repeat):
        for edges in EDGE_COUNTS:
            best(scaling[edges], measure(edges, args.ops, args.tasks, args.value_bytes))
        if args.tasks != 1:
            best(like[1], workersim.run(binding_phases, 3, args.ops, 1, args.value_bytes))
        if peer_ready:
            rates = run_peer(args.peer_ops, args.value_bytes, pars)
            peer_ready = rates is not None
            best(peer, rates or {})
    memory = {edges: memory_per_key(edges, args.memory_keys, args.value_bytes) for edges in EDGE_COUNTS}

    print(
        f"workersim binding: {args.ops} calls a phase, {args.tasks} concurrent tasks, {args.value_bytes}-byte values, "
        f"best of {args.repeat}, Python {sys.version.split()[0]}; paced puts: {BURST} a task every {PACE:g} "
        f"virtual s, overwrites rewrite each key every {PACE:g} s"
    )
    print_scaling(scaling, memory)
    print_ceiling(like)
    if args.instructions:
        print_instructions(instruction_table(args.instruction_puts))
    if peer_ready and peer:
        print(f"\nMiniflare like for like: workersim at 3 edges, {args.peer_ops} Miniflare calls a phase, same run")
        print_peer(like, peer)


if __name__ == "__main__":
    main()

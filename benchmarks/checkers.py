"""Checker throughput over a large recorded history: operations checked a second, and what ``workersim check`` costs
against parsing the file's JSON alone.

The history is recorded by the real simulation: ``sim.run_load`` over ``--edges`` edges and ``--keys`` keys
(90 % gets, 10 % puts) until ``--ops`` operations. Background load belongs to no request, so, to give the
application-level checkers work, every row is then given a request: each edge's rows, in order, are cut into
requests of ``--per-request`` operations (a read and the write after it of the same key in one request are a
read-modify-write). Then, each timed once in this process:

- on the rows in memory: the rows into an ``OpTable`` (the columns every checker shares), then ``check_all`` (the
  five consistency checkers), ``check_anomalies`` (the three application ones) and ``staleness`` (the statistics)
  on it; together they are "every checker". CPU time is what counts (other processes inflate the wall time, shown
  beside it). On code from before the table, each of the three walks the rows itself;
- the history written as JSON Lines: parsing every line with ``json.loads`` alone, then ``workersim check`` on the
  file in a subprocess (its CPU and wall time, and peak memory), which reads the file straight into the table;
- with ``--callgrind``, instructions per row of every checker (a ``valgrind --tool=callgrind`` run checking
  ``--callgrind-rows`` rows, minus one that only loads them).

    python benchmarks/checkers.py [--ops 1000000] [--edges 8] [--keys 10000] [--callgrind]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import attrs

import workersim
from workersim.checkers import check_all, check_anomalies, staleness
from workersim.core.rows import AnyRow

try:
    from workersim.checkers.table import OpTable
except ImportError:  # earlier checkers, for before/after figures: a table of Python lists, or none at all
    try:
        from workersim.core.staleness import OpTable  # type: ignore[no-redef]
    except ImportError:  # each checker walks the rows itself
        OpTable = None  # type: ignore[assignment,misc]

MAX_DELAY = 10.0
TARGET = 1_000_000
MEASURE = (
    "import os, subprocess, sys; child = subprocess.Popen(sys.argv[1:]); _, status, use = os.wait4(child.pid, 0); "
    "print(use.ru_utime + use.ru_stime, use.ru_maxrss, file=sys.stderr); sys.exit(os.waitstatus_to_exitcode(status))"
)
"""Runs a command and reports its CPU seconds and peak memory (KB) from its own rusage. The benchmark's own
RUSAGE_CHILDREN would not do: Linux counts a child's peak from before its exec, which is the (large) parent's."""


def record(ops: int, edges: int, keys: int, per_request: int) -> list[AnyRow]:
    """A history of ``ops`` operations recorded by the simulation, with requests assigned (see the docstring)."""
    names = tuple(f"E{i}" for i in range(edges))
    rate = 1000.0

    async def main() -> list[AnyRow]:
        sim = workersim.Simulation(edges=names, kv_namespaces=("KV",), seed=7, max_delay=MAX_DELAY)
        async with sim:
            await sim.run_load(rate=rate, duration=ops / rate * 1.05 + 1, keys=keys, value_size=16)
        return list(sim.history.rows)

    rows = workersim.run(main)[:ops]
    seen: dict[str, int] = {}
    assigned = []
    for row in rows:
        count = seen.get(row.edge, 0)
        seen[row.edge] = count + 1
        assigned.append(attrs.evolve(row, request=f"{row.edge}-{count // per_request}"))
    return assigned


def timed(action: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``action()`` (other processes on the machine inflate the wall time), and its
    result."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def callgrind(rows_file: Path, rows: int) -> dict[str, float]:
    """Instructions per row of each checker (each walks the rows into its own table, as when called alone; the
    table's own count is given too): a callgrind run that checks minus one that only loads."""
    counts = {}
    children = ("load", *(() if OpTable is None else ("OpTable.of",)), "check_all", "check_anomalies", "staleness")
    for what in children:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "callgrind.out"
            subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
                 "--child", what, str(rows_file), str(rows)],
                check=True, capture_output=True,
            )  # fmt: skip
            summary = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
            assert summary is not None, "callgrind wrote no summary"
            counts[what] = int(summary.group(1))
    return {what: (count - counts["load"]) / rows for what, count in counts.items() if what != "load"}


def child(what: str, rows_file: Path, rows: int) -> None:
    """Under callgrind: load ``rows`` rows, and run one checker over them unless ``what`` is ``load``."""
    with rows_file.open("rb") as file:
        history = pickle.load(file)[:rows]
    if what == "OpTable.of":
        OpTable.of(history)
    elif what == "check_all":
        check_all(history, MAX_DELAY)
    elif what == "check_anomalies":
        check_anomalies(history)
    elif what == "staleness":
        staleness(history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=8)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--per-request", type=int, default=4, help="operations per request (default 4)")
    parser.add_argument("--callgrind", action="store_true", help="also count instructions per row (slow)")
    parser.add_argument("--callgrind-rows", type=int, default=20_000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), int(args.child[2]))
        return
    start = time.perf_counter()
    rows = record(args.ops, args.edges, args.keys, args.per_request)
    print(
        f"recorded {len(rows):,} operations over {args.edges} edges and {args.keys:,} keys "
        f"in {time.perf_counter() - start:.1f} s"
    )
    # What `workersim check` does: one walk of the history into a table, shared by every checker.
    table: Any = rows
    wall_total = cpu_total = 0.0
    steps: list[tuple[str, Callable[[Any], Any]]] = [
        ("check_all", partial(check_all, max_delay=MAX_DELAY)),
        ("check_anomalies", check_anomalies),
        ("staleness", staleness),
    ]
    if OpTable is not None:
        steps.insert(0, ("OpTable.of", OpTable.of))
    for name, step in steps:
        wall, cpu, result = timed(partial(step, table))
        wall_total, cpu_total = wall_total + wall, cpu_total + cpu
        if name == "OpTable.of":
            table, result = result, f"{len(result):,} single-key operations"
        reports = result if isinstance(result, list) else [result]
        verdict = ", ".join(f"{r.name} {'ok' if r.ok else len(r.violations)}" for r in reports if hasattr(r, "ok"))
        print(f"  {name:16} {cpu:6.2f} s CPU ({wall:6.2f} s wall)  {len(rows) / cpu:>11,.0f} ops/s  "
              f"{verdict or str(result)[:80]}")  # fmt: skip
    rate = len(rows) / cpu_total
    print(
        f"every checker: {cpu_total:.2f} s CPU ({wall_total:.2f} s wall), {rate:,.0f} ops/s on one core "
        f"(target {TARGET:,}: {'met' if rate >= TARGET else 'NOT met'})"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.jsonl"
        history = workersim.sim.History()
        history.rows.extend(rows)
        history.to_jsonl(path)
        size = path.stat().st_size

        def parse() -> int:
            with path.open(encoding="utf-8") as file:
                return sum(1 for line in file if json.loads(line))

        _, parse_seconds, _ = timed(parse)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        command = [sys.executable, "-m", "workersim.cli", "check", str(path), "--max-delay", str(MAX_DELAY)]
        wall, _, done = timed(
            lambda: subprocess.run([sys.executable, "-c", MEASURE, *command], env=env, capture_output=True, text=True)
        )
        check_seconds, peak = map(float, done.stderr.split()[-2:])
        print(
            f"file: {size / 1e6:.0f} MB; json.loads of every line {parse_seconds:.2f} s CPU; `workersim check` "
            f"{check_seconds:.2f} s CPU ({wall:.2f} s wall, exit {done.returncode}), "
            f"{check_seconds / parse_seconds:.1f}x parsing (target at most 2x), peak memory {peak / 1024:.0f} MB"
        )
        if args.callgrind:
            rows_file = Path(folder) / "rows.pickle"
            with rows_file.open("wb") as file:
                pickle.dump(rows[: args.callgrind_rows], file)
            per_row = callgrind(rows_file, min(args.callgrind_rows, len(rows)))
            print(
                f"callgrind, instructions per row over {min(args.callgrind_rows, len(rows)):,} rows: "
                + ", ".join(f"{name} {count:,.0f}" for name, count in per_row.items())
            )


if __name__ == "__main__":
    main()

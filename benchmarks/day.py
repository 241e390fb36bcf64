"""A simulated day: 300 edges, 100 operations a second for 86,400 virtual seconds (8.64 million operations), with
the history streamed to a file, in wall time and memory.

By default it runs a fraction of the day (``--hours``, one hour) and extrapolates linearly, printing both; memory
is sampled (tracemalloc) after every simulated ``--sample`` seconds so a reader can see it stay flat.

    python benchmarks/day.py [--hours 1] [--edges 300] [--rate 100] [--keys 10000] [--sample 600]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from pathlib import Path

import trio
import trio.testing

import workersim

DAY = 86_400


async def simulate(args: argparse.Namespace, path: Path) -> tuple[float, list[tuple[float, int]], int]:
    names = tuple(f"E{i:03d}" for i in range(args.edges))
    sim = workersim.Simulation(edges=names, kv_namespaces=("KV",), seed=1)
    samples: list[tuple[float, int]] = []
    async with sim:
        sim.history.stream_to(path)
        seconds = args.hours * 3600
        start = time.perf_counter()
        done = 0.0
        while done < seconds:
            step = min(args.sample, seconds - done)
            await sim.run_load(rate=args.rate, duration=step, keys=args.keys, seed=int(done))
            done += step
            samples.append((done, tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0))
        elapsed = time.perf_counter() - start
        rows = sim.history.recorded
    return elapsed, samples, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="virtual hours to run (default 1; 24 is the day)")
    parser.add_argument("--edges", type=int, default=300)
    parser.add_argument("--rate", type=float, default=100.0, help="operations a virtual second (default 100)")
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--sample", type=float, default=600.0, help="virtual seconds between memory samples")
    parser.add_argument("--memory", action="store_true", help="sample memory with tracemalloc (slows the run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "day.jsonl"
        gc.collect()
        if args.memory:
            tracemalloc.start()
        elapsed, samples, rows = trio.run(simulate, args, path, clock=trio.testing.MockClock(autojump_threshold=0))
        size = path.stat().st_size
    seconds = args.hours * 3600
    print(
        f"{args.edges} edges, {args.rate:g} ops/s, {args.keys} keys: {seconds:,.0f} virtual s, {rows:,} operations "
        f"in {elapsed:.1f} s wall ({rows / elapsed:,.0f} ops/s, {elapsed / rows * 1e6:.2f} us an operation); "
        f"history streamed: {size / 1e6:.0f} MB"
    )
    print(f"the whole day ({DAY * args.rate:,.0f} operations) extrapolated: {elapsed * DAY / seconds:.0f} s wall")
    if args.memory:
        print("memory held (MB) after each sample:", ", ".join(f"{used / 1e6:.1f}" for _, used in samples))


if __name__ == "__main__":
    main()

"""Seeds per second of a sweep of a small scenario (``scenarios/stale_read.py``, judged by every checker): in this
process alone, on a local process pool of 1 and of 2 processes, and on a Dask cluster of 2 single-threaded worker
processes on this machine (``distributed.LocalCluster``), through the same ``workersim.sweep.sweep``.

Each executor is warmed first (its processes started, workersim imported, the scenario loaded), so the rates are
those of a running sweep. The ratios that matter: 2 processes / 1 process (the target is 1.7x on 2 cores), and
Dask / the 2-process pool (Dask's overhead: scheduling, serialisation, its own threads). The per-seed cost is what
the README's estimate of a 10-million-seed campaign starts from.

Timings drift when other work shares the CPU, and more than one might think: with autogroup scheduling (Linux's
default on desktops, ``/proc/sys/kernel/sched_autogroup_enabled``) the CPU is shared fairly between sessions, not
processes, so while other sessions keep the cores busy a sweep's processes together get one session's share,
however many there are. ``--own-sessions`` starts each pool worker in a session of its own (``os.setsid``), as
workers started from their own shells would be, to see the scaling the pool itself allows.

    python benchmarks/sweep.py [--seeds 4000] [--repeat 5] [--no-dask] [--own-sessions]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psutil  # installed with Dask (the dask and test extras)

from workersim.sweep import chunk_size_for, resolve_target, run_seed, summarize, sweep

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "stale_read.py"


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and every process under it (pool workers, Dask's)."""
    processes = [psutil.Process(), *psutil.Process().children(recursive=True)]
    return sum(sum(process.cpu_times()[:2]) for process in processes)


Measured = tuple[float, float, float]
"""Seeds per second; how busy the workers were; CPU milliseconds per seed over all the sweep's processes."""


def rate(executor: Executor, workers: int, seeds: int) -> Measured:
    """One sweep of ``seeds`` seeds (after a warm-up on every worker). Busy is the share of ``workers x elapsed``
    the workers spent running seeds (the rest went to waiting on the coordinator, moving tasks and results, or to
    other programs holding the CPU); the CPU time per seed counts the coordinator's and the scheduler's too, and
    does not depend on what else runs on the machine."""
    target = resolve_target(str(SCENARIO))
    for _ in sweep(target, range(10 * workers), executor, chunk_size=1, in_flight=2 * workers):
        pass
    cpu = cpu_seconds()
    start = time.perf_counter()
    results = list(
        sweep(target, range(seeds), executor, chunk_size=chunk_size_for(seeds, workers), in_flight=2 * workers + 1)
    )
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    summary = summarize(results)
    assert summary.seeds == seeds
    return seeds / elapsed, summary.seconds / (workers * elapsed), 1000 * cpu / seeds


def in_process(seeds: int) -> Measured:
    target = resolve_target(str(SCENARIO))
    run_seed(target, 0)
    cpu = cpu_seconds()
    start = time.perf_counter()
    busy = sum(run_seed(target, seed).seconds for seed in range(seeds))
    elapsed = time.perf_counter() - start
    return seeds / elapsed, busy / elapsed, 1000 * (cpu_seconds() - cpu) / seeds


@contextmanager
def pool(workers: int, own_sessions: bool) -> Iterator[Executor]:
    start = os.setsid if own_sessions else None
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=start) as executor:
        yield executor


@contextmanager
def dask(workers: int) -> Iterator[Executor]:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            executor = client.get_executor()
            yield executor
            executor.shutdown(wait=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=5, help="rounds; each runs one sweep on every executor in turn")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask cluster")
    parser.add_argument(
        "--own-sessions",
        action="store_true",
        help="start each pool worker in a session of its own (Linux schedules sessions, not processes, fairly)",
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        # Every executor stays up and each round measures them one after the other, so that a change in the
        # machine's other load hits all of them alike: the per-round ratios are the figures to trust.
        executors: dict[str, tuple[Executor | None, int]] = {"in this process": (None, 1)}
        executors["local pool, 1 process"] = (stack.enter_context(pool(1, args.own_sessions)), 1)
        executors["local pool, 2 processes"] = (stack.enter_context(pool(2, args.own_sessions)), 2)
        if not args.no_dask:
            executors["Dask, 2 worker processes"] = (stack.enter_context(dask(2)), 2)
        rounds: list[dict[str, Measured]] = []
        for _ in range(args.repeat):
            rounds.append(
                {
                    name: in_process(args.seeds) if executor is None else rate(executor, workers, args.seeds)
                    for name, (executor, workers) in executors.items()
                }
            )
    for name in executors:
        value, busy, _ = max(found[name] for found in rounds)
        cpu = statistics.median(found[name][2] for found in rounds)
        print(
            f"{name:<25} best {value:7.1f} seeds/s ({1000 / value:5.3f} ms/seed), workers busy {busy:6.1%}, "
            f"median CPU {cpu:5.3f} ms/seed"
        )
    ratios = {"2 processes / 1 process (target 1.7x)": ("local pool, 2 processes", "local pool, 1 process")}
    if not args.no_dask:
        ratios["Dask / local pool of 2 processes"] = ("Dask, 2 worker processes", "local pool, 2 processes")
    summary: dict[str, object] = {"seeds": args.seeds, "rounds": rounds}
    for label, (top, bottom) in ratios.items():
        each = sorted(found[top][0] / found[bottom][0] for found in rounds)
        print(f"{label}: median {statistics.median(each):.2f}x (rounds: {', '.join(f'{r:.2f}' for r in each)})")
        summary[label] = statistics.median(each)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

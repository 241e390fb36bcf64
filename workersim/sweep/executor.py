"""Running a sweep on any ``concurrent.futures.Executor``: a local process pool, Dask's (``Client.get_executor()``),
Ray's, or any other that can pickle a ``Target`` and ``run_chunk``.

Seeds travel in chunks (one task per chunk, so that a task's overhead is shared by many short runs) and only a few
chunks per worker are in flight at once, so a sweep of millions of seeds never holds millions of futures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from itertools import islice
from typing import Any

import attrs

from .results import SeedResult, first_difference, spread
from .targets import run_seed


def run_chunk(target: Callable[[int], Any], seeds: tuple[int, ...], keep_history: bool = False) -> list[SeedResult]:
    """Run ``target`` on each of ``seeds`` in turn, in this process: the task a sweep sends to a worker."""
    return [run_seed(target, seed, keep_history=keep_history) for seed in seeds]


def chunk_size_for(seeds: int, workers: int) -> int:
    """A chunk size that gives every worker about eight chunks (so they finish together), at most 100 seeds."""
    return max(1, min(100, seeds // (max(1, workers) * 8)))


def sweep(
    target: Callable[[int], Any],
    seeds: Iterable[int],
    executor: Executor,
    *,
    chunk_size: int = 1,
    in_flight: int = 8,
    keep_history: bool = False,
) -> Iterator[SeedResult]:
    """Run ``target`` on every seed of ``seeds`` through ``executor`` and yield each seed's result as its chunk
    finishes (in no particular order). At most ``in_flight`` chunks of ``chunk_size`` seeds are submitted at a
    time. ``target`` must pickle (a ``Target``, a module-level function, a frozen attrs instance ...)."""
    if chunk_size < 1 or in_flight < 1:
        raise ValueError(f"chunk_size and in_flight must be at least 1, got {chunk_size} and {in_flight}")
    chunks = _chunks(iter(seeds), chunk_size)
    pending: set[Future[list[SeedResult]]] = set()
    try:
        while True:
            for chunk in chunks:
                pending.add(executor.submit(run_chunk, target, chunk, keep_history))
                if len(pending) >= in_flight:
                    break
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield from future.result()
    finally:
        for future in pending:
            future.cancel()


def _chunks(seeds: Iterator[int], size: int) -> Iterator[tuple[int, ...]]:
    while chunk := tuple(islice(seeds, size)):
        yield chunk


@attrs.frozen(kw_only=True)
class Mismatch:
    """A seed whose history differed between runs: proof that the target is not deterministic."""

    seed: int
    recorded: SeedResult
    """The sweep's run of the seed."""
    worker_rerun: SeedResult
    """Its rerun on the executor, with its history text."""
    rerun: SeedResult
    """Its rerun in this process, with its history text."""

    def describe(self) -> str:
        """A few lines naming each run's hash and worker, and the reruns' first differing history line."""
        runs = (("the sweep", self.recorded), ("a rerun", self.worker_rerun), ("a rerun", self.rerun))
        hashes = ", ".join(f"{result.history_sha256} in {name} on {result.worker}" for name, result in runs)
        lines = [f"seed {self.seed} is not deterministic: history sha256 {hashes}"]
        difference = first_difference(self.worker_rerun.history or "", self.rerun.history or "")
        if difference is None:
            lines.append(f"  (the reruns on {self.worker_rerun.worker} and {self.rerun.worker} agreed)")
        else:
            number, one, two = difference
            lines += [
                f"  first differing history line, line {number}:",
                f"  {self.worker_rerun.worker}: {one}",
                f"  {self.rerun.worker}: {two}",
            ]
        return "\n".join(lines)


def verify(
    target: Callable[[int], Any], results: Iterable[SeedResult], count: int, executor: Executor
) -> tuple[list[int], list[Mismatch]]:
    """Rerun ``count`` of the seeds in ``results`` (spread evenly over them) twice, with their history texts: once
    on ``executor`` (a worker, perhaps another than the sweep's) and once in this process (certainly another), and
    compare the three hashes of each. Returns the seeds rerun and those whose hashes differed."""
    recorded = {result.seed: result for result in results if result.history_sha256 is not None}
    chosen = spread(list(recorded), count)
    remote = [executor.submit(run_chunk, target, (seed,), True) for seed in chosen]
    here = [run_seed(target, seed, keep_history=True) for seed in chosen]
    mismatches = []
    for seed, future, rerun in zip(chosen, remote, here, strict=True):
        [there] = future.result()
        if len({recorded[seed].history_sha256, there.history_sha256, rerun.history_sha256}) > 1:
            mismatches.append(Mismatch(seed=seed, recorded=recorded[seed], worker_rerun=there, rerun=rerun))
    return chosen, mismatches

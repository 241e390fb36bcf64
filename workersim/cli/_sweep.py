"""The ``sweep`` and ``staleness`` subcommands: a target, or a staleness measurement, across many seeds on a local
process pool or a Dask cluster, with a progress bar."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from ..core.delays import DelayModel
from ..sweep import (
    ResultsFormatError,
    SeedResult,
    StalenessProbe,
    Summary,
    Tally,
    Target,
    chunk_size_for,
    curve,
    parse_delays,
    parse_results,
    parse_seeds,
    resolve_target,
    spread,
    sweep,
    verify,
)
from ._common import at_least_one, positive

USAGE = 2
"""Exit status for bad usage, an unreadable results file, a target that does not load, an unreachable cluster."""

NOT_DETERMINISTIC = 3
"""Exit status of ``sweep --verify`` when a seed's history differed between two runs."""


class _Refused(Exception):
    """A reason to stop before the sweep starts, said in one line (exit status 2)."""


def _seeds(text: str) -> range:
    try:
        return parse_seeds(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _delays(text: str) -> DelayModel:
    try:
        return parse_delays(text)
    except (ValueError, TypeError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


@contextmanager
def _executor(url: str | None, jobs: int | None) -> Iterator[tuple[Executor, int]]:
    """The executor ``--executor`` names and how many seeds it runs at once."""
    if url is None or url == "local":
        workers = jobs or os.cpu_count() or 1
        # spawn: fresh interpreters, as on a cluster, whatever threads this process has started.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool, workers
        return
    if not url.startswith("dask://"):
        raise _Refused(f"--executor is local or dask://HOST:PORT, got {url!r}")
    try:
        from distributed import Client
    except ImportError:
        raise _Refused("--executor dask:// needs Dask: pip install 'workersim[dask]'") from None
    try:
        client = Client("tcp://" + url.removeprefix("dask://"), timeout=30)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as error:
        raise _Refused(f"cannot reach the Dask scheduler at {url}: {error}") from None
    with client:
        threads = sum(client.nthreads().values())  # type: ignore[no-untyped-call]
        executor = client.get_executor()  # type: ignore[no-untyped-call]
        try:
            yield executor, max(1, threads)
        finally:
            executor.shutdown(wait=False)


def _progress(
    target: Callable[[int], Any], todo: Collection[int], executor: Executor, workers: int, chunk: int | None
) -> Iterator[SeedResult]:
    """Every seed's result as it arrives, under a progress bar with rate and ETA (on a terminal)."""
    from tqdm import tqdm  # type: ignore[import-untyped]

    size = chunk or chunk_size_for(len(todo), workers)
    with tqdm(total=len(todo), unit="seed", file=sys.stderr, disable=None, dynamic_ncols=True) as bar:
        for result in sweep(target, todo, executor, chunk_size=size, in_flight=2 * workers + 1):
            bar.update()
            yield result


def _resume(out: Path | None, seeds: range) -> list[SeedResult]:
    """The results ``out`` already holds for ``seeds``; a cut-off last line is cut from the file."""
    if out is None or not out.exists():
        return []
    try:
        text = out.read_text(encoding="utf-8")
        results, kept = parse_results(text)
    except (OSError, UnicodeDecodeError, ResultsFormatError) as error:
        raise _Refused(f"cannot resume from {out}: {error}") from None
    if kept < len(text):
        with out.open("r+", encoding="utf-8") as file:
            file.truncate(len(text[:kept].encode()))
    return [result for result in results if result.seed in seeds]


class _Remaining(Collection[int]):
    """The seeds of a range not done yet, without a list of them (a campaign may have millions)."""

    def __init__(self, seeds: range, done: set[int]) -> None:
        self._seeds, self._done = seeds, done
        self._count = len(seeds) - len(done)  # every seed in done is one of seeds

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        return (seed for seed in self._seeds if seed not in self._done)

    def __contains__(self, seed: object) -> bool:
        return seed in self._seeds and seed not in self._done


def _open_out(out: Path | None) -> TextIO | None:
    if out is None:
        return None
    try:
        return out.open("a", encoding="utf-8")
    except OSError as error:
        raise _Refused(f"cannot write the results to {out}: {error}") from None


def _show(outcome: str, result: SeedResult) -> str:
    return f"error: {result.error}" if result.error is not None else outcome


def _seeds_word(count: int) -> str:
    return f"{count} seed{'' if count == 1 else 's'}"


def _report(args: argparse.Namespace, target: Target, summary: Summary, ran: int, seconds: float) -> None:
    if args.json:
        data = summary.to_json()
        # Each failing seed as a line of the results file says it, less what differs from run to run.
        data["failing"] = [
            {
                "seed": result.seed,
                "outcome": result.outcome,
                "error": result.error,
                "history_sha256": result.history_sha256,
                "replay": target.replay(result.seed),
            }
            for result in summary.failing
        ]
        print(json.dumps(data))
        return
    seeds = args.seeds
    span = f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    earlier = f", {summary.seeds - ran} from {args.out}" if summary.seeds > ran else ""
    rate = f" ({ran / seconds:.1f} seeds/s)" if ran and seconds > 0 else ""
    counted = f"{_seeds_word(summary.seeds)} ({ran} run now{earlier})"
    print(f"{target.spec}, seeds {span}: {counted} in {seconds:.2f} s{rate}")
    for key, count in summary.counts.items():
        print(f"  {count:>8}  {key}")
    if summary.reads:
        share = summary.stale_reads / summary.reads
        worst = f"; the worst {summary.max_behind:.3f} s behind" if summary.max_behind is not None else ""
        print(f"staleness: {summary.stale_reads} of {summary.reads} reads stale ({share:.1%}){worst}")
    if summary.failing:
        print(f"failing: {_seeds_word(len(summary.failing))}")
        for result in summary.failing:
            print(f"  seed {result.seed}: {_show(result.key, result)}   replay: {target.replay(result.seed)}")


def _sweep(args: argparse.Namespace) -> int:
    # As `python -m` does: modules of the working directory can be targets (spawned workers inherit the path).
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        try:
            target = resolve_target(args.target)
        except Exception as error:  # noqa: BLE001 - whatever keeps the user's target from loading, said in one line
            raise _Refused(f"cannot load the target {args.target}: {type(error).__name__}: {error}") from None
        tally = Tally()
        # Only candidates for --verify are kept whole, the rest counted as they come; four per seed to rerun, as
        # a seed whose target raised has no history to compare.
        checked = set(spread(args.seeds, 4 * (args.verify or 0)))
        kept: list[SeedResult] = []
        done = set()
        for result in _resume(args.out, args.seeds):
            if result.seed in done:
                continue  # two sweeps appended the same seed: count it once
            done.add(result.seed)
            tally.add(result)
            kept += [result] if result.seed in checked else []
        out = _open_out(args.out)
        todo = _Remaining(args.seeds, done)
        start = time.perf_counter()
        with _executor(args.executor, args.jobs) as (executor, workers):
            for result in _progress(target, todo, executor, workers, args.chunk):
                tally.add(result)
                kept += [result] if result.seed in checked else []
                if out is not None:
                    out.write(result.to_line())
                    out.flush()
            seconds = time.perf_counter() - start
            if out is not None:
                out.close()
            summary = tally.summary()
            _report(args, target, summary, len(todo), seconds)
            if args.verify:
                chosen, mismatches = verify(target, kept, args.verify, executor)
                for mismatch in mismatches:
                    print(f"workersim sweep: {mismatch.describe()}", file=sys.stderr)
                if mismatches:
                    return NOT_DETERMINISTIC
                print(f"verified: {_seeds_word(len(chosen))} rerun on a worker and here gave the same history hashes")
    except _Refused as refusal:
        print(f"workersim sweep: {refusal}", file=sys.stderr)
        return USAGE
    return 1 if summary.failing else 0


def _executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=at_least_one, metavar="N", help="local worker processes (default: one per core)")
    parser.add_argument(
        "--executor", metavar="URL", help="local (the default: a process pool) or dask://HOST:PORT (a Dask scheduler)"
    )


def sweep_arguments(sweep_: argparse.ArgumentParser) -> None:
    """Define the ``sweep`` command's arguments on its parser."""
    sweep_.add_argument("target", metavar="TARGET", help="a scenario name, a scenario file, or module:function")
    sweep_.add_argument("--seeds", type=_seeds, required=True, metavar="A-B", help="the seeds, both ends included")
    _executor_options(sweep_)
    sweep_.add_argument(
        "--out", type=Path, metavar="FILE", help="append a JSON line per seed to FILE; seeds already there are skipped"
    )
    sweep_.add_argument(
        "--chunk", type=at_least_one, metavar="N", help="seeds per task (default: about 8 tasks per worker)"
    )
    verify_help = "rerun K seeds on a worker and in this process; exit 3 if a history differs"
    sweep_.add_argument("--verify", type=at_least_one, metavar="K", help=verify_help)
    sweep_.add_argument("--json", action="store_true", help="print the aggregate as one JSON object")
    sweep_.set_defaults(handler=_sweep)


def _staleness(args: argparse.Namespace) -> int:
    plots = [(path, kind) for path, kind in ((args.svg, "svg"), (args.png, "png")) if path is not None]
    try:
        if plots:
            try:
                import matplotlib
            except ImportError:
                raise _Refused("--svg and --png need matplotlib: pip install 'workersim[plot]'") from None
            matplotlib.use("Agg")
        span = args.max_delay if args.max_delay is not None else args.cache_ttl
        if span is None:
            raise _Refused("give --max-delay (or --cache-ttl, whose value it then defaults to)")
        try:
            probe = StalenessProbe(
                edges=args.edges, span=span, delays=args.delays, cache_ttl=args.cache_ttl, points=args.points
            )
            probe(0)  # a model that cannot run in this simulation (beyond --max-delay) is refused here
        except ValueError as error:
            raise _Refused(str(error)) from None
        with _executor(args.executor, args.jobs) as (executor, workers):
            points = curve(probe, _progress(probe, range(args.seeds), executor, workers, None))
    except _Refused as refusal:
        print(f"workersim staleness: {refusal}", file=sys.stderr)
        return USAGE
    if args.json:
        print(json.dumps(points))
    else:
        print(f"P(a read t s after a write at another edge sees it), {_model(args)}")
        for point in points:
            print(f"  t={point['t']:8.3f}s  p={point['p']:.3f}")
    for path, kind in plots:
        _plot(points, path, kind, args)
    return 0


def _model(args: argparse.Namespace) -> str:
    if args.cache_ttl is not None:
        model = f"edge cache, cacheTtl {args.cache_ttl} s"
    else:
        model = repr(args.delays) if args.delays is not None else "default delays (exponential, mean 1 s)"
    return f"{args.edges} edges, {model}, {args.seeds} seeds"


def _plot(points: Iterable[dict[str, float]], path: Path, kind: str, args: argparse.Namespace) -> None:
    import matplotlib.pyplot as plt

    data = list(points)
    figure, axes = plt.subplots(figsize=(7, 4.2))
    axes.plot([point["t"] for point in data], [point["p"] for point in data], marker=".", drawstyle="default")
    axes.set_title(f"How stale, how often: {_model(args)}", fontsize=10)
    axes.set_xlabel("seconds since the write (t)")
    axes.set_ylabel("P(a read at another edge sees the write)")
    axes.set_ylim(-0.02, 1.02)
    axes.set_xlim(0, data[-1]["t"])
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    # Text kept as text (searchable, readable by screen readers) and no date: the same curve, the same bytes.
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "workersim"}):
        figure.savefig(path, format=kind, metadata={"Date": None} if kind == "svg" else None)
    plt.close(figure)
    print(f"curve: {path}")


def staleness_arguments(parser: argparse.ArgumentParser) -> None:
    """Define the ``staleness`` command's arguments on its parser."""
    parser.add_argument("--edges", type=at_least_one, default=4, help="edges in the simulation, at least 2 (default 4)")
    parser.add_argument("--max-delay", type=positive, metavar="S", help="the last t, and the propagation bound")
    parser.add_argument(
        "--delays",
        type=_delays,
        metavar="MODEL",
        help="default, default:MEAN, fixed:SECONDS or uniform:LOW:HIGH (default: exponential, mean 1 s)",
    )
    parser.add_argument(
        "--cache-ttl",
        type=at_least_one,
        metavar="SECONDS",
        help="measure the edge-cache model with this cacheTtl instead of push propagation",
    )
    parser.add_argument("--seeds", type=at_least_one, default=200, metavar="K", help="seeds 0..K-1 (default 200)")
    parser.add_argument("--points", type=at_least_one, default=41, help="values of t, evenly spaced (default 41)")
    _executor_options(parser)
    parser.add_argument("--json", action="store_true", help='print [{"t": seconds, "p": probability}, ...]')
    parser.add_argument("--svg", type=Path, metavar="FILE", help="draw the curve to FILE as SVG (needs matplotlib)")
    parser.add_argument("--png", type=Path, metavar="FILE", help="draw the curve to FILE as PNG (needs matplotlib)")
    parser.set_defaults(handler=_staleness)

"""Seed sweeps: run a target (a scenario, a scenario file, or ``module:function``) on thousands of seeds through
any ``concurrent.futures.Executor`` (a local process pool, Dask's, Ray's), aggregate the outcomes, check that runs
are deterministic across workers, and measure staleness curves.

``workersim sweep`` and ``workersim staleness`` are the command lines over this package.
"""

from .executor import Mismatch, chunk_size_for, run_chunk, sweep, verify
from .results import (
    ERROR,
    PASSING,
    ResultsFormatError,
    SeedResult,
    Summary,
    Tally,
    first_difference,
    parse_results,
    parse_seeds,
    spread,
    summarize,
)
from .staleness import StalenessProbe, curve, edge_names, parse_delays
from .targets import SweepOutcome, Target, TargetError, judge, resolve_target, run_seed, worker_name

__all__ = [
    "ERROR",
    "PASSING",
    "Mismatch",
    "ResultsFormatError",
    "SeedResult",
    "StalenessProbe",
    "Summary",
    "SweepOutcome",
    "Tally",
    "Target",
    "TargetError",
    "chunk_size_for",
    "curve",
    "edge_names",
    "first_difference",
    "judge",
    "parse_delays",
    "parse_results",
    "parse_seeds",
    "resolve_target",
    "run_chunk",
    "run_seed",
    "spread",
    "summarize",
    "sweep",
    "verify",
    "worker_name",
]

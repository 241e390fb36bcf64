"""Checkers over recorded histories (pure functions; they depend on history rows only): the store's guarantees
(``check_all``) and the anomalies an application meets (``check_anomalies``). Each takes the rows, or their
``OpTable`` (built once, from rows or straight from a JSON Lines file, and shared)."""

from ._report import Report, Violation
from .anomalies import check_anomalies, check_then_act, lost_updates, stale_write_backs
from .consistency import (
    bounded_staleness,
    check_all,
    convergence,
    monotonic_reads,
    no_phantom_reads,
    read_your_writes,
)
from .invariants import Invariant, check_invariants, final_values
from .statistics import Staleness, staleness
from .table import OpTable

__all__ = [
    "Invariant",
    "OpTable",
    "Report",
    "Staleness",
    "Violation",
    "bounded_staleness",
    "check_all",
    "check_anomalies",
    "check_invariants",
    "check_then_act",
    "convergence",
    "final_values",
    "lost_updates",
    "monotonic_reads",
    "no_phantom_reads",
    "read_your_writes",
    "stale_write_backs",
    "staleness",
]

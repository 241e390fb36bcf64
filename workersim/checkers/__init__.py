"""Checkers over recorded histories (pure functions; they depend on history rows only): the store's guarantees
(``check_all``) and the anomalies an application meets (``check_anomalies``)."""

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
from .statistics import Staleness, staleness

__all__ = [
    "Report",
    "Staleness",
    "Violation",
    "bounded_staleness",
    "check_all",
    "check_anomalies",
    "check_then_act",
    "convergence",
    "lost_updates",
    "monotonic_reads",
    "no_phantom_reads",
    "read_your_writes",
    "stale_write_backs",
    "staleness",
]

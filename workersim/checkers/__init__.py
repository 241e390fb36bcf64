"""Consistency checkers over recorded histories (pure functions; they depend on history rows only)."""

from ._report import Report, Violation
from .consistency import (
    bounded_staleness,
    check_all,
    convergence,
    monotonic_reads,
    no_phantom_reads,
    read_your_writes,
)

__all__ = [
    "Report",
    "Violation",
    "bounded_staleness",
    "check_all",
    "convergence",
    "monotonic_reads",
    "no_phantom_reads",
    "read_your_writes",
]

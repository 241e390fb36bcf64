"""How stale a history's reads were: counts by edge and quantiles of how far behind the stale ones were."""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import numpy as np

from ..core.rows import AnyRow
from .table import OpTable


@attrs.frozen(kw_only=True)
class Staleness:
    """How stale the reads of a history were. A read is stale when a newer write of its key had been made
    (anywhere) before it; it has been stale since the first such write."""

    reads: int
    stale_reads: int
    p50: float | None
    """Median staleness of the stale reads, in seconds (``None`` without stale reads)."""
    p99: float | None
    max: float | None
    by_edge: dict[str, tuple[int, int]]
    """Per edge: (reads, stale reads)."""

    def __str__(self) -> str:
        if not self.stale_reads:
            return f"staleness: {self.reads} reads, none stale"
        edges = ", ".join(f"{edge} {stale}/{reads}" for edge, (reads, stale) in self.by_edge.items() if stale)
        return (
            f"staleness: {self.stale_reads} of {self.reads} reads stale; behind by p50 {self.p50:.3f}s, "
            f"p99 {self.p99:.3f}s, max {self.max:.3f}s (stale/reads by edge: {edges})"
        )

    def to_json(self) -> dict[str, object]:
        """The statistics as a JSON-ready dict."""
        return {
            "reads": self.reads,
            "stale_reads": self.stale_reads,
            "p50": self.p50,
            "p99": self.p99,
            "max": self.max,
            "by_edge": {edge: {"reads": r, "stale": s} for edge, (r, s) in self.by_edge.items()},
        }


def staleness(history: Iterable[AnyRow] | OpTable) -> Staleness:
    """How far behind the stale reads of ``history`` (rows, or their ``OpTable``) were: quantiles and counts by
    edge."""
    table = OpTable.of(history)
    reads = np.flatnonzero(~table.writing)
    missed = table.missed[reads]
    stale = missed >= 0
    # times are whole milliseconds; np.round, like round, rounds half to even
    behind = np.sort(np.round((table.invoke[reads[stale]] - table.invoke[missed[stale]]) * 1000) / 1000).tolist()
    edges = table.edges[reads]
    counts = np.bincount(edges, minlength=len(table.edge_names))
    stale_counts = np.bincount(edges[stale], minlength=len(table.edge_names))
    read_at = np.flatnonzero(counts)  # the edges that read, in the order of their first read
    seen_edges = read_at[np.argsort([int(np.argmax(edges == edge)) for edge in read_at.tolist()])].tolist()

    def quantile(q: float) -> float | None:
        return behind[min(len(behind) - 1, int(q * len(behind)))] if behind else None

    return Staleness(
        reads=len(reads),
        stale_reads=len(behind),
        p50=quantile(0.5),
        p99=quantile(0.99),
        max=behind[-1] if behind else None,
        by_edge={table.edge_names[e]: (int(counts[e]), int(stale_counts[e])) for e in seen_edges},
    )

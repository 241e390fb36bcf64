"""A history as a text timeline: one line per operation, each read saying which write it saw or missed."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..core.rows import (
    AnyRow,
    FetchRow,
    KVBulkRead,
    KVList,
    KVRead,
    KVRejected,
    KVWrite,
    LogRow,
    ResponseRow,
    ScheduledRow,
    text_value,
)
from ..core.staleness import Op, WriteIndex, single_key_ops

Arrival = Callable[[KVWrite, str], float | None]
"""When a write (its history row) reaches an edge, in virtual seconds; ``Simulation.arrival`` is one."""


def shown(value: bytes | None) -> str:
    """A value as a timeline shows it: its text in quotes, or ``(missing)``."""
    return "(missing)" if value is None else repr(text_value(value))


def timeline(history: Iterable[AnyRow], arrival: Arrival | None = None) -> str:
    """Render ``history`` as lines of ``time  edge  operation``.

    A read says which write it saw, or, when a newer write of the key existed already (it was stale), which write
    it missed and (given ``arrival``) when that write reaches the reading edge.
    """
    lines = [f"{'time':>8}  {'edge':<7}  operation"]
    writes = WriteIndex()
    for row in history:
        text = _describe(row, writes, arrival)
        if row.request is not None and not isinstance(row, FetchRow | ResponseRow | ScheduledRow):
            text += f"  [request {row.request}]"
        lines.append(f"{row.invoke:>7.3f}s  {row.edge:<7}  {text}")
        if isinstance(row, KVWrite):
            for op in single_key_ops((row,)):
                writes.add(op)
    return "\n".join(lines)


def _describe(row: AnyRow, writes: WriteIndex, arrival: Arrival | None) -> str:
    if isinstance(row, KVRejected):
        return f"{row.op} {row.target!r} -> {row.error}"
    if isinstance(row, KVWrite):
        if row.op == "delete":
            return f"delete {row.key!r}  (write #{row.id})"
        return f"put {row.key!r} = {shown(row.value)}  (write #{row.id})"
    if isinstance(row, FetchRow):
        return f"request {row.request}: {row.method} {row.url}"
    if isinstance(row, ResponseRow):
        return f"request {row.request}: response {row.status}"
    if isinstance(row, LogRow):
        return f"console.{row.level}: {row.message}"
    if isinstance(row, ScheduledRow):
        return f"scheduled run {row.request} for cron {row.cron!r}"
    if isinstance(row, KVList):
        return f"list prefix={row.prefix!r} -> {list(row.names)}"
    if isinstance(row, KVBulkRead):
        values = {key: text_value(value) for key, value in row.value.items()}
        return f"{row.op} {list(row.keys)!r} -> {values!r}"
    assert isinstance(row, KVRead)
    [read] = single_key_ops((row,))
    return f"{row.op} {row.key!r} -> {shown(row.value)}" + _verdict(read, writes, arrival)


def _verdict(read: Op, writes: WriteIndex, arrival: Arrival | None) -> str:
    missed = writes.newer_than_seen(read)
    if missed is not None:
        assert isinstance(missed.row, KVWrite)
        when = "" if arrival is None else _arrives(arrival(missed.row, read.edge), read.edge)
        return f"  <- stale: missed write #{missed.id}{when}"
    seen = writes.seen(read)
    if seen is not None and seen >= 0:
        return f"  (sees write #{writes.writes(read.ns, read.key)[seen].id})"
    return ""


def _arrives(at: float | None, edge: str) -> str:
    return f", held back from {edge} by a partition" if at is None else f", which reaches {edge} at {at:.3f}s"

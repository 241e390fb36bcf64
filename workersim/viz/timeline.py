"""A history as a text timeline: one line per operation, each read saying which write it saw or missed."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..core.cache import EdgeCache
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


SHOWN_CHARS = 60
"""How much of a value a timeline shows; a longer one is cut and its length given."""


def shown(value: bytes | None) -> str:
    """A value as a timeline shows it: its text in quotes (cut after ``SHOWN_CHARS`` characters, with its size),
    or ``(missing)``."""
    if value is None:
        return "(missing)"
    text = text_value(value)
    if text is not None and len(text) > SHOWN_CHARS:
        return f"{text[:SHOWN_CHARS]!r}... ({len(value)} bytes)"
    return repr(text)


def timeline(history: Iterable[AnyRow], arrival: Arrival | None = None, *, cache: EdgeCache | None = None) -> str:
    """Render ``history`` as lines of ``time  edge  operation``.

    A read says which write it saw, or, when a newer write of the key existed already (it was stale), which write
    it missed and (given ``arrival``) when that write reaches the reading edge. Under the edge-cache model (give
    ``cache``, the simulation's ``edge_cache``) a stale read is explained by the edge's cached answer instead: the
    write was in the central store already, and the edge answers from its cache until it ages past ``cacheTtl``.
    """
    lines = [f"{'time':>8}  {'edge':<7}  operation"]
    writes = WriteIndex()
    for row in history:
        text = describe(row, writes, arrival, cache)
        if row.request is not None and not isinstance(row, FetchRow | ResponseRow | ScheduledRow):
            text += f"  [request {row.request}]"
        lines.append(f"{row.invoke:>7.3f}s  {row.edge:<7}  {text}")
        if isinstance(row, KVWrite):
            for op in single_key_ops((row,)):
                writes.add(op)
    return "\n".join(lines)


def describe(row: AnyRow, writes: WriteIndex, arrival: Arrival | None, cache: EdgeCache | None = None) -> str:
    """One operation as the timeline words it (``writes`` holds the writes before it)."""
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
    return f"{row.op} {row.key!r} -> {shown(row.value)}" + verdict(read, writes, arrival, cache)


def verdict(read: Op, writes: WriteIndex, arrival: Arrival | None, cache: EdgeCache | None = None) -> str:
    """What the timeline says after a read (``writes`` holds the writes before it): the write it saw, or the
    write it missed and why, as ``timeline`` explains it."""
    missed = writes.newer_than_seen(read)
    if missed is not None:
        assert isinstance(missed.row, KVWrite)
        at = None if arrival is None else arrival(missed.row, read.edge)
        if cache is not None and at is not None:
            when = f", as {read.edge}'s cached answer is older; it expires at {at:.3f}s (cacheTtl)"
        else:
            when = "" if arrival is None else _arrives(at, read.edge)
        return f"  <- stale: missed write #{missed.id}{when}"
    seen = writes.seen(read)
    if seen is not None and seen >= 0:
        saw = writes.writes(read.ns, read.key)[seen]
        expired = ", which has expired" if read.value is None and saw.value is not None else ""
        return f"  (sees write #{saw.id}{expired})"
    return ""


def _arrives(at: float | None, edge: str) -> str:
    return f", held back from {edge} by a partition" if at is None else f", which reaches {edge} at {at:.3f}s"

"""Consistency checkers: pure functions from a history to a ``Report``, each linear in the history's length.

They read typed rows (``workersim.core.rows``) and decide which write a read saw with the one definition in
``workersim.core.staleness``. With the ``version`` each row carries (workersim records it), every check is
exact. A history recorded elsewhere may lack versions; then a read is matched to the latest earlier write of the
same value.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.rows import AnyRow
from ..core.staleness import Op, WriteIndex, single_key_ops, walk
from ._report import Report, Violation

Rows = Iterable[AnyRow]
_SLACK = 1e-9  # history times are milliseconds written as float seconds


def no_phantom_reads(history: Rows) -> Report:
    """Every value read was written by some write (or is the initial absence of the key)."""
    violations, checked = [], 0
    for op, writes in walk(history):
        if op.kind == "read":
            checked += 1
            if writes.seen(op) is None:
                violations.append(Violation((op.id,), f"{op.describe()} returned a value no earlier write wrote."))
    return Report("no_phantom_reads", checked, tuple(violations))


def read_your_writes(history: Rows) -> Report:
    """A read at an edge sees that edge's own latest write of the key, or something newer."""
    last_own: dict[tuple[str, str, str], int] = {}
    violations, checked = [], 0
    for op, writes in walk(history):
        slot = (op.edge, op.ns, op.key)
        if op.kind == "write":
            last_own[slot] = len(writes.writes(op.ns, op.key)) - 1
            continue
        own = last_own.get(slot)
        if own is None:
            continue
        checked += 1
        seen = writes.seen(op)
        if seen is None or seen < own:
            mine = writes.writes(op.ns, op.key)[own]
            message = f"{op.describe()} did not see the same edge's earlier {mine.describe()}."
            violations.append(Violation((mine.id, op.id), message))
    return Report("read_your_writes", checked, tuple(violations))


def monotonic_reads(history: Rows) -> Report:
    """Successive reads of a key at one edge never go back to an older write."""
    newest_read: dict[tuple[str, str, str], tuple[int, Op]] = {}
    violations, checked = [], 0
    for op, writes in walk(history):
        seen = writes.seen(op) if op.kind == "read" else None
        if seen is None:
            continue
        checked += 1
        slot = (op.edge, op.ns, op.key)
        before = newest_read.get(slot)
        if before is not None and seen < before[0]:
            message = f"{op.describe()} went back to an older write than {before[1].describe()}."
            violations.append(Violation((before[1].id, op.id), message))
        else:
            newest_read[slot] = (seen, op)
    return Report("monotonic_reads", checked, tuple(violations))


def bounded_staleness(history: Rows, max_delay: float) -> Report:
    """No read returns a value that was overwritten more than ``max_delay`` seconds before the read began."""
    settled: dict[tuple[str, str], int] = {}  # per key: the newest write that completed max_delay ago
    violations, checked = [], 0
    for op, writes in walk(history):
        if op.kind != "read":
            continue
        key_writes = writes.writes(op.ns, op.key)
        index = settled.get((op.ns, op.key), -1)
        while index + 1 < len(key_writes) and key_writes[index + 1].complete + max_delay <= op.invoke + _SLACK:
            index += 1
        settled[op.ns, op.key] = index
        seen = writes.seen(op)
        if seen is None:
            continue
        checked += 1
        if seen < index:
            newer = key_writes[index]
            message = f"{op.describe()} is stale: {newer.describe()} had been done for more than {max_delay} s."
            violations.append(Violation((newer.id, op.id), message))
    return Report("bounded_staleness", checked, tuple(violations))


def convergence(history: Rows, max_delay: float) -> Report:
    """Once writes to a key stop and ``max_delay`` passes, every edge reads the same, last, write."""
    ops = list(single_key_ops(history))
    final = WriteIndex()
    for op in ops:
        if op.kind == "write":
            final.add(op)
    violations, checked = [], 0
    for op in ops:
        key_writes = final.writes(op.ns, op.key)
        if op.kind != "read" or not key_writes or key_writes[-1].complete + max_delay > op.invoke + _SLACK:
            continue
        checked += 1
        if final.seen(op) != len(key_writes) - 1:
            last = key_writes[-1]
            message = f"{op.describe()} has not converged on the last write, {last.describe()}."
            violations.append(Violation((last.id, op.id), message))
    return Report("convergence", checked, tuple(violations))


def check_all(history: Rows, max_delay: float) -> list[Report]:
    """Every checker's report for ``history``."""
    rows = list(history)
    return [
        convergence(rows, max_delay),
        read_your_writes(rows),
        monotonic_reads(rows),
        bounded_staleness(rows, max_delay),
        no_phantom_reads(rows),
    ]

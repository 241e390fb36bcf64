"""Consistency checkers: pure functions from a history to a ``Report``, each linear in the history's length.

With the ``version`` each row carries (workersim records it), every check is exact. A history recorded elsewhere
may lack versions; then a read is matched to the latest earlier write of the same value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ._ops import Op, single_key_ops
from ._report import Report, Violation

Rows = Iterable[dict[str, Any]]
_SLACK = 1e-9  # history times are milliseconds written as float seconds


class _Writes:
    """Each key's writes in history order, and how reads resolve to them."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], list[Op]] = {}
        self.by_version: dict[tuple[str, str], dict[Any, int]] = {}
        self.by_value: dict[tuple[str, str], dict[str, int]] = {}

    def add(self, op: Op) -> None:
        slot = (op.ns, op.key)
        writes = self.by_key.setdefault(slot, [])
        if op.version is not None:
            self.by_version.setdefault(slot, {})[op.version] = len(writes)
        self.by_value.setdefault(slot, {})[_value_key(op.value)] = len(writes)
        writes.append(op)

    def seen(self, read: Op) -> int | None:
        """Index (in the key's writes) of the write ``read`` saw; -1 for the initial empty state; ``None`` when
        the read matches no write (a phantom)."""
        slot = (read.ns, read.key)
        if read.exact:
            if read.version is None:
                return -1
            return self.by_version.get(slot, {}).get(read.version)
        match = self.by_value.get(slot, {}).get(_value_key(read.value))
        if match is None and read.value is None:
            return -1
        return match


def _value_key(value: Any) -> str:
    return repr(value)


def _walk(history: Rows) -> Iterator[tuple[Op, _Writes]]:
    """Each operation in history order, with the table of the writes up to and including it."""
    writes = _Writes()
    for op in single_key_ops(history):
        if op.kind == "write":
            writes.add(op)
        yield op, writes


def no_phantom_reads(history: Rows) -> Report:
    """Every value read was written by some write (or is the initial absence of the key)."""
    violations, checked = [], 0
    for op, writes in _walk(history):
        if op.kind == "read":
            checked += 1
            if writes.seen(op) is None:
                violations.append(Violation((op.id,), f"{op.describe()} returned a value no earlier write wrote."))
    return Report("no_phantom_reads", checked, tuple(violations))


def read_your_writes(history: Rows) -> Report:
    """A read at an edge sees that edge's own latest write of the key, or something newer."""
    last_own: dict[tuple[str, str, str], int] = {}
    violations, checked = [], 0
    for op, writes in _walk(history):
        slot = (op.edge, op.ns, op.key)
        if op.kind == "write":
            last_own[slot] = len(writes.by_key[op.ns, op.key]) - 1
            continue
        own = last_own.get(slot)
        if own is None:
            continue
        checked += 1
        seen = writes.seen(op)
        if seen is None or seen < own:
            mine = writes.by_key[op.ns, op.key][own]
            message = f"{op.describe()} did not see the same edge's earlier {mine.describe()}."
            violations.append(Violation((mine.id, op.id), message))
    return Report("read_your_writes", checked, tuple(violations))


def monotonic_reads(history: Rows) -> Report:
    """Successive reads of a key at one edge never go back to an older write."""
    newest_read: dict[tuple[str, str, str], tuple[int, Op]] = {}
    violations, checked = [], 0
    for op, writes in _walk(history):
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
    for op, writes in _walk(history):
        if op.kind != "read":
            continue
        key_writes = writes.by_key.get((op.ns, op.key), [])
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
    rows = list(history)
    final = _Writes()
    for op in single_key_ops(rows):
        if op.kind == "write":
            final.add(op)
    violations, checked = [], 0
    for op in single_key_ops(rows):
        key_writes = final.by_key.get((op.ns, op.key))
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

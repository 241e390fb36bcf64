"""Consistency checkers: pure functions from a history to a ``Report``, each linear in the history's length.

They read typed rows (``workersim.core.rows``) and decide which write a read saw with the one definition in
``workersim.core.staleness``. With the ``version`` each row carries (workersim records it), every check is
exact. A history recorded elsewhere may lack versions; then a read is matched to the latest earlier write of the
same value.

Each takes the rows, or an ``OpTable`` of them: ``check_all`` walks the history once into a table, and every
checker loops over its columns, making an ``Op`` only to describe a violation.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.rows import AnyRow
from ..core.staleness import OpTable
from ._report import Report, Violation

Rows = Iterable[AnyRow] | OpTable
_SLACK = 1e-9  # history times are milliseconds written as float seconds


def no_phantom_reads(history: Rows) -> Report:
    """Every value read was written by some write (or is the initial absence of the key)."""
    table = OpTable.of(history)
    violations = [
        Violation((table.rows[i].id,), f"{table.op(i).describe()} returned a value no earlier write wrote.")
        for i, seen in enumerate(table.seen)
        if seen is None  # a write's own index is never None
    ]
    return Report("no_phantom_reads", table.writing.count(False), tuple(violations))


def read_your_writes(history: Rows) -> Report:
    """A read at an edge sees that edge's own latest write of the key, or something newer."""
    table = OpTable.of(history)
    last_own: dict[int, int] = {}
    violations, checked = [], 0
    for i, (writing, slot, place, seen) in enumerate(
        zip(table.writing, table.slots, table.places, table.seen, strict=True)
    ):
        if writing:
            assert seen is not None
            last_own[place] = seen
            continue
        own = last_own.get(place)
        if own is None:
            continue
        checked += 1
        if seen is None or seen < own:
            mine = table.write_op(slot, own)
            read = table.op(i)
            message = f"{read.describe()} did not see the same edge's earlier {mine.describe()}."
            violations.append(Violation((mine.id, read.id), message))
    return Report("read_your_writes", checked, tuple(violations))


def monotonic_reads(history: Rows) -> Report:
    """Successive reads of a key at one edge never go back to an older write."""
    table = OpTable.of(history)
    all_seen = table.seen
    newest_read: dict[int, int] = {}  # per key at an edge: the read that saw the newest write so far
    violations, checked = [], 0
    for i, (writing, place, seen) in enumerate(zip(table.writing, table.places, all_seen, strict=True)):
        if writing or seen is None:
            continue
        checked += 1
        before = newest_read.get(place)
        if before is not None and seen < all_seen[before]:  # type: ignore[operator]
            earlier, read = table.op(before), table.op(i)
            message = f"{read.describe()} went back to an older write than {earlier.describe()}."
            violations.append(Violation((earlier.id, read.id), message))
        else:
            newest_read[place] = i
    return Report("monotonic_reads", checked, tuple(violations))


def bounded_staleness(history: Rows, max_delay: float) -> Report:
    """No read returns a value that was overwritten more than ``max_delay`` seconds before the read began."""
    table = OpTable.of(history)
    rows = table.rows
    # per key: when each write has been done for max_delay, and the newest write that has been so far
    done = [[rows[write].complete + max_delay for write in writes] for writes in table.slot_writes]
    settled = [-1] * len(done)
    violations, checked = [], 0
    for i, (row, writing, slot, seen, made) in enumerate(
        zip(rows, table.writing, table.slots, table.seen, table.counts, strict=True)
    ):
        if writing:
            continue
        times = done[slot]
        index = settled[slot]
        while index + 1 < made and times[index + 1] <= row.invoke + _SLACK:
            index += 1
        settled[slot] = index
        if seen is None:
            continue
        checked += 1
        if seen < index:
            newer = table.write_op(slot, index)
            message = (
                f"{table.op(i).describe()} is stale: {newer.describe()} had been done for more than {max_delay} s."
            )
            violations.append(Violation((newer.id, row.id), message))
    return Report("bounded_staleness", checked, tuple(violations))


def convergence(history: Rows, max_delay: float) -> Report:
    """Once writes to a key stop and ``max_delay`` passes, every edge reads the same, last, write."""
    table = OpTable.of(history)
    rows = table.rows
    quiet = [rows[writes[-1]].complete + max_delay if writes else None for writes in table.slot_writes]
    violations, checked = [], 0
    for i, (row, writing, slot) in enumerate(zip(rows, table.writing, table.slots, strict=True)):
        since = quiet[slot]
        if writing or since is None or since > row.invoke + _SLACK:
            continue
        checked += 1
        last = len(table.slot_writes[slot]) - 1
        if table.final_seen(i) != last:
            final = table.write_op(slot, last)
            message = f"{table.op(i).describe()} has not converged on the last write, {final.describe()}."
            violations.append(Violation((final.id, row.id), message))
    return Report("convergence", checked, tuple(violations))


def check_all(history: Rows, max_delay: float) -> list[Report]:
    """Every checker's report for ``history``."""
    table = OpTable.of(history)
    return [
        convergence(table, max_delay),
        read_your_writes(table),
        monotonic_reads(table),
        bounded_staleness(table, max_delay),
        no_phantom_reads(table),
    ]

"""Consistency checkers: pure functions from a history to a ``Report``.

They read typed rows (``workersim.core.rows``) and decide which write a read saw with the one definition in
``workersim.core.staleness``. With the ``version`` each row carries (workersim records it), every check is
exact. A history recorded elsewhere may lack versions; then a read is matched to the latest earlier write of the
same value.

Each takes the rows, or an ``OpTable`` of them (``workersim.checkers.table``): ``check_all`` builds the table once,
and every checker is a few operations over its columns, making an ``Op`` only to describe a violation.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..core.rows import AnyRow
from ._report import Report, Violation
from .table import PHANTOM, Ints, OpTable, latest, running_max

Rows = Iterable[AnyRow] | OpTable
_SLACK = 1e-9  # history times are milliseconds written as float seconds


def no_phantom_reads(history: Rows) -> Report:
    """Every value read was written by some write (or is the initial absence of the key)."""
    table = OpTable.of(history)
    violations = []
    for i in np.flatnonzero(table.seen == PHANTOM).tolist():  # a write's own index is never PHANTOM
        read = table.op(i)
        violations.append(Violation((read.id,), f"{read.describe()} returned a value no earlier write wrote."))
    return Report("no_phantom_reads", len(table) - int(table.writing.sum()), tuple(violations))


def read_your_writes(history: Rows) -> Report:
    """A read at an edge sees that edge's own latest write of the key, or something newer."""
    table = OpTable.of(history)
    places, by_place = table.places
    mine = latest(places, table.writing, by_place)  # the same edge's latest earlier write of the key
    asked = ~table.writing & (mine >= 0)
    own = table.counts[np.maximum(mine, 0)] - 1
    violations = []
    for i in np.flatnonzero(asked & (table.seen < own)).tolist():  # PHANTOM is below every index
        write, read = table.op(int(mine[i])), table.op(i)
        message = f"{read.describe()} did not see the same edge's earlier {write.describe()}."
        violations.append(Violation((write.id, read.id), message))
    return Report("read_your_writes", int(asked.sum()), tuple(violations))


def monotonic_reads(history: Rows) -> Report:
    """Successive reads of a key at one edge never go back to an older write."""
    table = OpTable.of(history)
    reads = ~table.writing & (table.seen != PHANTOM)
    places, by_place = table.places
    ops = by_place[reads[by_place]]  # the reads by key at edge, in history order within each
    groups, seen = places[ops], table.seen[ops]
    # Each read against the newest write seen by an earlier read of the key at the edge (the running maximum up
    # to the one before it); the read that saw it is the latest one that did not go back.
    newest = running_max(groups, seen)
    first = np.ones(len(ops), bool)
    first[1:] = groups[1:] != groups[:-1]
    before = np.concatenate((np.full(1, -1, np.int64), newest[:-1]))
    back = ~first & (seen < before)
    holder = np.where(~back, np.arange(len(ops)), -1)
    holder = np.maximum.accumulate(np.concatenate((np.full(1, -1, np.int64), holder[:-1])))
    violations = []
    for j in sorted(np.flatnonzero(back).tolist(), key=lambda j: int(ops[j])):
        earlier, read = table.op(int(ops[holder[j]])), table.op(int(ops[j]))
        message = f"{read.describe()} went back to an older write than {earlier.describe()}."
        violations.append(Violation((earlier.id, read.id), message))
    return Report("monotonic_reads", len(ops), tuple(violations))


def bounded_staleness(history: Rows, max_delay: float) -> Report:
    """No read returns a value that was overwritten more than ``max_delay`` seconds before the read began."""
    table = OpTable.of(history)
    settled = _settled(table, max_delay)
    reads = ~table.writing & (table.seen != PHANTOM)
    violations = []
    for i in np.flatnonzero(reads & (table.seen < settled)).tolist():
        newer = table.write_op(int(table.slots[i]), int(settled[i]))
        read = table.op(i)
        message = f"{read.describe()} is stale: {newer.describe()} had been done for more than {max_delay} s."
        violations.append(Violation((newer.id, read.id), message))
    return Report("bounded_staleness", int(reads.sum()), tuple(violations))


def _settled(table: OpTable, max_delay: float) -> Ints:
    """For each read: the newest write of its key that, walking the key's writes in order as its reads come, had
    been done for ``max_delay`` when a read began (-1: none yet). The walk stops at the first write not yet done
    that long, even if a later one is; when every key's writes are done in order (the simulation's are), that is
    the running maximum over the key's reads of "how many writes made before the read were done by then"."""
    done = table.complete[table.write_ops] + max_delay
    starts = table.write_start
    write_keys = table.slots[table.write_ops]
    out_of_order = np.zeros(table.keys, bool)
    behind = np.flatnonzero((done[1:] < done[:-1]) & (write_keys[1:] == write_keys[:-1]))
    out_of_order[write_keys[behind]] = True
    out_of_order[write_keys[np.isnan(done)]] = True
    by_key = table.by_key
    reads = by_key[~table.writing[by_key]]
    limit = table.invoke[reads] + _SLACK
    out_of_order[table.slots[reads[np.isnan(limit)]]] = True
    settled = np.full(len(table), -1, np.int64)
    plain = ~out_of_order[table.slots[reads]]
    reads, limit = reads[plain], limit[plain]
    keys = table.slots[reads]
    in_order = ~out_of_order[write_keys]
    points = np.empty(int(in_order.sum()), complex)  # (key, time) pairs, ordered key first, then time
    points.real, points.imag = write_keys[in_order], done[in_order]
    asked = np.empty(len(reads), complex)
    asked.real, asked.imag = keys, limit
    first = np.zeros(table.keys, np.int64)  # where each key's writes start among those in order
    np.cumsum(np.where(out_of_order, 0, table.writes_per_key)[:-1], out=first[1:])
    ready = np.searchsorted(points, asked, side="right") - first[keys]
    settled[reads] = running_max(keys, np.minimum(table.counts[reads], ready) - 1)
    sorted_keys = table.slots[by_key]
    for key in np.flatnonzero(out_of_order).tolist():  # the walk itself, for keys written out of time order
        times = done[starts[key] : starts[key] + table.writes_per_key[key]].tolist()
        index = -1
        ops = by_key[np.searchsorted(sorted_keys, key) : np.searchsorted(sorted_keys, key, side="right")]
        for i, writing, made, invoke in zip(
            ops.tolist(),
            table.writing[ops].tolist(),
            table.counts[ops].tolist(),
            table.invoke[ops].tolist(),
            strict=True,
        ):
            if writing:
                continue
            while index + 1 < made and times[index + 1] <= invoke + _SLACK:
                index += 1
            settled[i] = index
    return settled


def convergence(history: Rows, max_delay: float) -> Report:
    """Once writes to a key stop and ``max_delay`` passes, every edge reads the same, last, write."""
    table = OpTable.of(history)
    slots = table.slots
    count = table.writes_per_key[slots]
    if len(table.write_ops):
        final = table.write_ops[np.maximum(table.write_start[slots] + count - 1, 0)]  # the key's last write
        quiet = table.complete[final] + max_delay
        asked = ~table.writing & (count > 0) & ~(quiet > table.invoke + _SLACK)
    else:
        final, asked = slots, np.zeros(len(table), bool)
    violations = []
    for i in np.flatnonzero(asked & (table.final_seen != count - 1)).tolist():
        write, read = table.op(int(final[i])), table.op(i)
        message = f"{read.describe()} has not converged on the last write, {write.describe()}."
        violations.append(Violation((write.id, read.id), message))
    return Report("convergence", int(asked.sum()), tuple(violations))


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

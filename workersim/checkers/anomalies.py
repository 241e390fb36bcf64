"""Anomalies an application meets, found from the history alone: what went wrong for the worker, not for the store.

The rows of a request's handler and ``waitUntil`` work carry its id, so a history says which reads a request
made before each of its writes. A write is *based on* the last read of the same key by the same request (if any).
Then, per key:

- **check-then-act**: two requests both read the key as missing and both created it (a double registration);
- **lost update**: two requests read the same version and both wrote the key: the later write replaced the
  earlier one without having seen it (a read-modify-write lost an increment, a cart lost an item);
- **write based on a stale read**: a request wrote the key after reading a version that another write had
  already replaced when it read (a logged-out session written back to life).

Which write a read saw, and whether it was stale, come from ``workersim.core.staleness`` (with versions, exact;
without them, by value). Rows without a request are not a request's and are not looked at.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import numpy as np

from ..core.rows import AnyRow
from ..core.staleness import Op
from ._report import Report, Violation
from .table import PHANTOM, Ints, OpTable, latest, order, pair

Rows = Iterable[AnyRow] | OpTable


@attrs.frozen
class _Bases:
    """Every request write based on an earlier read of its key by the same request (``write[j]`` based on
    ``read[j]``, which saw the key's ``seen[j]``-th write, -1 for "missing"), in history order, and how many request
    writes there were."""

    write: Ints
    read: Ints
    seen: Ints
    writes: int


def _shown(op: Op) -> str:
    return "missing" if op.value is None else repr(op.value.decode("utf-8", "replace"))


def _who(op: Op) -> str:
    return f"request {op.row.request} at {op.edge}"


def _writes_based_on_reads(table: OpTable) -> _Bases:
    asking = np.flatnonzero(table.requests >= 0)
    requests = table.requests[asking]
    writing = table.writing[asking]
    # per key in a request: its last read before each of its writes
    last_read = latest(pair(table.slots[asking], requests), ~writing)
    based = writing & (last_read >= 0)
    write, read = asking[based], asking[last_read[based]]
    seen = table.seen[read]
    kept = seen != PHANTOM  # a read that matches no write (a phantom) has its own checker
    return _Bases(write[kept], read[kept], seen[kept], int(writing.sum()))


_SAME = ": harmless if both meant the same change, a lost one if each meant its own (as two increments do)"
"""Said of a write that replaced another with an equal value, which the history alone cannot judge."""


def _races(table: OpTable, bases: _Bases, *, creations: bool) -> Report:
    if creations:
        chosen = (bases.seen == -1) & ~table.missing[bases.write]
    else:
        chosen = bases.seen != -1
    write, read, seen = bases.write[chosen], bases.read[chosen], bases.seen[chosen]
    # Group the writes by key and the write their read saw; each later one of another request races the first.
    groups = pair(table.slots[write], seen)
    sort = order(groups)
    heads = np.ones(len(sort), bool)
    heads[1:] = groups[sort][1:] != groups[sort][:-1]
    first = np.empty(len(sort), np.int64)
    first[sort] = sort[np.flatnonzero(heads)[np.cumsum(heads) - 1]]
    requests = table.requests[write]
    racing = np.flatnonzero((first != np.arange(len(sort))) & (requests != requests[first]))
    violations = []
    for j0, j in sorted(zip(first[racing].tolist(), racing.tolist(), strict=True)):
        a_read, a_write, b_read, b_write = (table.op(int(i)) for i in (read[j0], write[j0], read[j], write[j]))
        if creations:
            again = "with the same value " if a_write.value == b_write.value else ""
            message = (
                f"check-then-act race on {a_write.key!r}: {_who(a_read)} read it as missing at "
                f"{a_read.invoke:.3f}s and created it at {a_write.invoke:.3f}s (write #{a_write.id}); "
                f"{_who(b_read)} also read it as missing at {b_read.invoke:.3f}s and created it again {again}at "
                f"{b_write.invoke:.3f}s (write #{b_write.id}), replacing the first{_SAME if again else ''}."
            )
        else:
            # Named by its history id, as the timeline and the other messages name writes (not by store version).
            saw = table.op(int(table.write_ops[table.write_start[table.slots[read[j0]]] + seen[j0]]))
            message = (
                f"lost update of {a_write.key!r}: {_who(a_read)} and {_who(b_read)} both read "
                f"{_shown(a_read)} (write #{saw.id}) at {a_read.invoke:.3f}s and {b_read.invoke:.3f}s; "
                f"write #{b_write.id} ({_shown(b_write)} at {b_write.invoke:.3f}s) replaced write #{a_write.id} "
                f"({_shown(a_write)} at {a_write.invoke:.3f}s) without having seen it."
            )
        violations.append(Violation((a_read.id, a_write.id, b_read.id, b_write.id), message))
    return Report("check_then_act" if creations else "lost_updates", bases.writes, tuple(violations))


def lost_updates(history: Rows) -> Report:
    """No two requests read the same version of a key and both wrote it (a read-modify-write losing the other's
    update)."""
    table = OpTable.of(history)
    return _races(table, _writes_based_on_reads(table), creations=False)


def check_then_act(history: Rows) -> Report:
    """No two requests both read a key as missing and both created it (a double registration)."""
    table = OpTable.of(history)
    return _races(table, _writes_based_on_reads(table), creations=True)


def stale_write_backs(history: Rows) -> Report:
    """No request writes a key after reading a version that another write had already replaced."""
    table = OpTable.of(history)
    return _stale_write_backs(table, _writes_based_on_reads(table))


def _stale_write_backs(table: OpTable, bases: _Bases) -> Report:
    violations = []
    missed = table.missed[bases.read]  # as of the read: a write made after it did not make it stale
    for j in np.flatnonzero(missed >= 0).tolist():
        replaced, read, write = (table.op(int(i)) for i in (missed[j], bases.read[j], bases.write[j]))
        what = "deleted it" if replaced.value is None else f"written {_shown(replaced)}"
        same = write.value == replaced.value
        # Writing back the very value it missed undoes nothing, but may still lose a change (two increments to 6).
        outcome = f"without having seen it{_SAME}" if same else "undoing it"
        message = (
            f"write based on a stale read of {write.key!r}: {_who(read)} read {_shown(read)} at {read.invoke:.3f}s, "
            f"but write #{replaced.id} at {replaced.edge} had already {what} at {replaced.invoke:.3f}s; the request "
            f"then wrote {f'the same value, {_shown(write)},' if same else _shown(write)} at {write.invoke:.3f}s "
            f"(write #{write.id}), {outcome}."
        )
        violations.append(Violation((replaced.id, read.id, write.id), message))
    return Report("stale_write_backs", bases.writes, tuple(violations))


def check_anomalies(history: Rows) -> list[Report]:
    """Every application-level checker's report."""
    table = OpTable.of(history)
    bases = _writes_based_on_reads(table)
    return [
        _races(table, bases, creations=False),
        _races(table, bases, creations=True),
        _stale_write_backs(table, bases),
    ]

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

from ..core.rows import AnyRow
from ..core.staleness import Op, OpTable
from ._report import Report, Violation

Rows = Iterable[AnyRow] | OpTable


@attrs.frozen
class _Based:
    """A request's write of a key, with the read it was based on (``seen``: index of the write that read saw
    among the key's writes, -1 for "missing")."""

    write: Op
    read: Op
    seen: int


@attrs.frozen
class _Bases:
    """Every request write based on an earlier read of its key by the same request; the ones whose read was
    stale, with the write the read missed; and how many request writes there were."""

    based: list[_Based]
    stale: list[tuple[_Based, Op]]
    writes: int


def _shown(op: Op) -> str:
    return "missing" if op.value is None else repr(op.value.decode("utf-8", "replace"))


def _who(op: Op) -> str:
    return f"request {op.row.request} at {op.edge}"


def _writes_based_on_reads(table: OpTable) -> _Bases:
    requests: dict[str, int] = {}
    last_read: dict[int, int] = {}  # per key in a request (an int, not a tuple: see OpTable): its last read
    based: list[_Based] = []
    stale: list[tuple[_Based, Op]] = []
    writes = 0
    for i, (row, writing, slot) in enumerate(zip(table.rows, table.writing, table.slots, strict=True)):
        request = row.request
        if request is None:
            continue
        number = requests.get(request)
        if number is None:
            number = requests[request] = len(requests)
        if not writing:
            last_read[slot << 32 | number] = i
            continue
        writes += 1
        read = last_read.get(slot << 32 | number)
        seen = None if read is None else table.seen[read]
        if read is None or seen is None:
            continue  # a blind write, or one based on a read that matches no write (a phantom: its own checker)
        entry = _Based(table.op(i), table.op(read), seen)
        based.append(entry)
        missed = table.missed[read]  # as of the read: a write made after it did not make it stale
        if missed is not None:
            stale.append((entry, table.op(missed)))
    return _Bases(based, stale, writes)


def _races(bases: _Bases, *, creations: bool) -> Report:
    groups: dict[tuple[str, str, int], list[_Based]] = {}
    for entry in bases.based:
        if (entry.seen == -1) == creations and (not creations or entry.write.value is not None):
            groups.setdefault((entry.write.ns, entry.write.key, entry.seen), []).append(entry)
    violations = []
    for entries in groups.values():
        first = entries[0]
        for later in entries[1:]:
            if later.write.row.request == first.write.row.request:
                continue
            a, b = first, later
            if creations:
                message = (
                    f"check-then-act race on {a.write.key!r}: {_who(a.read)} read it as missing at "
                    f"{a.read.invoke:.3f}s and created it at {a.write.invoke:.3f}s (write #{a.write.id}); "
                    f"{_who(b.read)} also read it as missing at {b.read.invoke:.3f}s and created it again at "
                    f"{b.write.invoke:.3f}s (write #{b.write.id}), replacing the first."
                )
            else:
                message = (
                    f"lost update of {a.write.key!r}: {_who(a.read)} and {_who(b.read)} both read "
                    f"{_shown(a.read)} (version {a.read.version}) at {a.read.invoke:.3f}s and {b.read.invoke:.3f}s; "
                    f"write #{b.write.id} ({_shown(b.write)} at {b.write.invoke:.3f}s) replaced write #{a.write.id} "
                    f"({_shown(a.write)} at {a.write.invoke:.3f}s) without having seen it."
                )
            violations.append(Violation((a.read.id, a.write.id, b.read.id, b.write.id), message))
    return Report("check_then_act" if creations else "lost_updates", bases.writes, tuple(violations))


def lost_updates(history: Rows) -> Report:
    """No two requests read the same version of a key and both wrote it (a read-modify-write losing the other's
    update)."""
    return _races(_writes_based_on_reads(OpTable.of(history)), creations=False)


def check_then_act(history: Rows) -> Report:
    """No two requests both read a key as missing and both created it (a double registration)."""
    return _races(_writes_based_on_reads(OpTable.of(history)), creations=True)


def stale_write_backs(history: Rows) -> Report:
    """No request writes a key after reading a version that another write had already replaced."""
    return _stale_write_backs(_writes_based_on_reads(OpTable.of(history)))


def _stale_write_backs(bases: _Bases) -> Report:
    violations = []
    for entry, missed in bases.stale:
        read, write = entry.read, entry.write
        what = "deleted it" if missed.value is None else f"written {_shown(missed)}"
        message = (
            f"write based on a stale read of {write.key!r}: {_who(read)} read {_shown(read)} at {read.invoke:.3f}s, "
            f"but write #{missed.id} at {missed.edge} had already {what} at {missed.invoke:.3f}s; the request then "
            f"wrote {_shown(write)} at {write.invoke:.3f}s (write #{write.id}), undoing it."
        )
        violations.append(Violation((missed.id, read.id, write.id), message))
    return Report("stale_write_backs", bases.writes, tuple(violations))


def check_anomalies(history: Rows) -> list[Report]:
    """Every application-level checker's report."""
    bases = _writes_based_on_reads(OpTable.of(history))
    return [_races(bases, creations=False), _races(bases, creations=True), _stale_write_backs(bases)]

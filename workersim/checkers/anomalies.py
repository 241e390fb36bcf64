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
from ..core.staleness import Op, walk
from ._report import Report, Violation


@attrs.frozen
class _Based:
    """A request's write of a key, with the read it was based on (``seen``: index of the write that read saw
    among the key's writes, -1 for "missing")."""

    write: Op
    read: Op
    seen: int


def _shown(op: Op) -> str:
    return "missing" if op.value is None else repr(op.value.decode("utf-8", "replace"))


def _who(op: Op) -> str:
    return f"request {op.row.request} at {op.edge}"


def _writes_based_on_reads(history: Iterable[AnyRow]) -> tuple[list[_Based], list[tuple[_Based, Op]], int]:
    """Every request write based on an earlier read of its key by the same request; the ones whose read was
    stale, with the write the read missed; and how many request writes there were."""
    last_read: dict[tuple[str, str, str], tuple[Op, int | None, Op | None]] = {}
    based: list[_Based] = []
    stale: list[tuple[_Based, Op]] = []
    writes = 0
    for op, index in walk(history):
        request = op.row.request
        if request is None:
            continue
        slot = (request, op.ns, op.key)
        if op.kind == "read":
            last_read[slot] = (op, index.seen(op), index.first_missed(op))
            continue
        writes += 1
        earlier = last_read.get(slot)
        if earlier is None or earlier[1] is None:
            continue  # a blind write, or one based on a read that matches no write (a phantom: its own checker)
        read, seen, missed = earlier
        assert seen is not None
        entry = _Based(op, read, seen)
        based.append(entry)
        if missed is not None:
            stale.append((entry, missed))
    return based, stale, writes


def _races(history: Iterable[AnyRow], *, creations: bool) -> Report:
    based, _, writes = _writes_based_on_reads(history)
    groups: dict[tuple[str, str, int], list[_Based]] = {}
    for entry in based:
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
    return Report("check_then_act" if creations else "lost_updates", writes, tuple(violations))


def lost_updates(history: Iterable[AnyRow]) -> Report:
    """No two requests read the same version of a key and both wrote it (a read-modify-write losing the other's
    update)."""
    return _races(history, creations=False)


def check_then_act(history: Iterable[AnyRow]) -> Report:
    """No two requests both read a key as missing and both created it (a double registration)."""
    return _races(history, creations=True)


def stale_write_backs(history: Iterable[AnyRow]) -> Report:
    """No request writes a key after reading a version that another write had already replaced."""
    _, stale, writes = _writes_based_on_reads(history)
    violations = []
    for entry, missed in stale:
        read, write = entry.read, entry.write
        what = "deleted it" if missed.value is None else f"written {_shown(missed)}"
        message = (
            f"write based on a stale read of {write.key!r}: {_who(read)} read {_shown(read)} at {read.invoke:.3f}s, "
            f"but write #{missed.id} at {missed.edge} had already {what} at {missed.invoke:.3f}s; the request then "
            f"wrote {_shown(write)} at {write.invoke:.3f}s (write #{write.id}), undoing it."
        )
        violations.append(Violation((missed.id, read.id, write.id), message))
    return Report("stale_write_backs", writes, tuple(violations))


def check_anomalies(history: Iterable[AnyRow]) -> list[Report]:
    """Every application-level checker's report."""
    rows = list(history)
    return [lost_updates(rows), check_then_act(rows), stale_write_backs(rows)]

"""Which write a read saw, and whether it was stale: the one definition every reader of a history uses.

Writes of a key are ordered by last-writer-wins, which is the order the simulation applied them in (``Version``
explains why), and so the order of their rows in the history. A read *saw* the write whose version it names (or,
in a history without versions, the latest earlier write of the same value). A read is *stale* when a newer write
of its key had already been applied somewhere when it ran: it returned an older write, or nothing, although a
newer one existed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import attrs

from .rows import UNKNOWN, AnyRow, KVBulkRead, KVRead, KVWrite, Version

W = TypeVar("W")


def first_missed(writes: Sequence[W], seen: int) -> W | None:
    """The rule: a read that saw ``writes[seen]`` (``seen`` -1: nothing) of its key's writes so far, in
    last-writer-wins order, is stale when a newer write exists, and has been stale since the first of them; that
    write is returned (``None``: the read is fresh)."""
    return writes[seen + 1] if seen + 1 < len(writes) else None


@attrs.frozen(kw_only=True, slots=True)
class Op:
    """A single-key read or write taken from a history row (a bulk get gives one read per key)."""

    row: AnyRow
    """The row it came from."""
    kind: str
    """``"write"`` or ``"read"``."""
    ns: str
    key: str
    value: bytes | None
    version: Version

    @property
    def id(self) -> int:
        """The row's id."""
        return self.row.id

    @property
    def edge(self) -> str:
        """Where it happened."""
        return self.row.edge

    @property
    def invoke(self) -> float:
        """Virtual seconds at which it started."""
        return self.row.invoke

    @property
    def complete(self) -> float:
        """Virtual seconds at which it finished."""
        return self.row.complete

    def describe(self) -> str:
        """A short human description, e.g. ``op #4 (read 'k' at SFO @1.500s: 'v')``."""
        verb = "wrote" if self.kind == "write" else "read"
        shown = "(missing)" if self.value is None else repr(self.value.decode("utf-8", "replace"))
        return f"op #{self.id} ({verb} {self.key!r} at {self.edge} @{self.invoke:.3f}s: {shown})"


def single_key_ops(rows: Iterable[AnyRow]) -> Iterator[Op]:
    """The successful single-key reads and writes of a history, in history order."""
    for row in rows:
        if isinstance(row, KVWrite):
            yield Op(row=row, kind="write", ns=row.ns, key=row.key, value=row.value, version=row.version)
        elif isinstance(row, KVRead):
            yield Op(row=row, kind="read", ns=row.ns, key=row.key, value=row.value, version=row.version)
        elif isinstance(row, KVBulkRead):
            versions = row.version
            for key in row.keys:
                version = UNKNOWN if versions is UNKNOWN else versions.get(key)
                yield Op(row=row, kind="read", ns=row.ns, key=key, value=row.value.get(key), version=version)


class WriteIndex:
    """Each key's writes in history order (last-writer-wins order), and which of them a read saw."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], list[Op]] = {}
        self._by_version: dict[tuple[str, str], dict[Any, int]] = {}
        self._by_value: dict[tuple[str, str], dict[bytes | None, int]] = {}

    def add(self, write: Op) -> int:
        """Add the next write (in history order); return its index among its key's writes."""
        slot = (write.ns, write.key)
        writes = self.by_key.setdefault(slot, [])
        index = len(writes)
        if write.version is not UNKNOWN and write.version is not None:
            self._by_version.setdefault(slot, {})[write.version] = index
        self._by_value.setdefault(slot, {})[write.value] = index
        writes.append(write)
        return index

    def writes(self, ns: str, key: str) -> list[Op]:
        """The writes of ``key`` so far, oldest first."""
        return self.by_key.get((ns, key), [])

    def seen(self, read: Op) -> int | None:
        """Index (among its key's writes) of the write ``read`` saw; -1 for the key's initial absence; ``None``
        when the read matches no write (a phantom). A read whose row names no version is matched by value."""
        slot = (read.ns, read.key)
        return _match(self._by_version.get(slot), self._by_value.get(slot), read.version, read.value)

    def newer_than_seen(self, read: Op) -> Op | None:
        """The newest write of the key when ``read`` saw an older one (or nothing): the write it missed, which
        makes it stale. ``None`` when the read is fresh (or a phantom: see ``seen``)."""
        writes = self.by_key.get((read.ns, read.key), [])
        seen = self.seen(read)
        if seen is None or first_missed(writes, seen) is None:
            return None
        return writes[-1]

    def first_missed(self, read: Op) -> Op | None:
        """The first write newer than the one ``read`` saw: the read has been stale since it was made (see the
        function ``first_missed``). ``None`` when the read is fresh or a phantom."""
        seen = self.seen(read)
        return None if seen is None else first_missed(self.by_key.get((read.ns, read.key), []), seen)


def _match(
    by_version: dict[Any, int] | None, by_value: dict[bytes | None, int] | None, version: Version, value: bytes | None
) -> int | None:
    """Which of its key's writes a read of ``value`` naming ``version`` saw, given the key's writes by version and
    (the latest of each value) by value: see ``WriteIndex.seen``."""
    if version is not UNKNOWN and version is not None:
        return None if by_version is None else by_version.get(version)
    if version is None and value is None:
        return -1  # nothing had arrived
    # No version (a delete read by value is missing too), or a null version beside a value, which no workersim run
    # records: trust the value.
    match = None if by_value is None else by_value.get(value)
    return -1 if match is None and value is None else match

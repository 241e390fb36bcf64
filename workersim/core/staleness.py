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


class OpTable:
    """The single-key operations of a history, walked once, as columns: what every checker needs, without an
    object per operation. Operation ``i`` is a write when ``writing[i]``; ``slots[i]`` numbers its key (and
    namespace) and ``places[i]`` its key at its edge; ``counts[i]`` is how many writes of that key the history had
    made up to and including it; ``seen[i]`` is, for a read, ``WriteIndex.seen`` at that point (for a write: its
    own index among its key's writes), and ``missed[i]`` the write that first made the read stale (see
    ``first_missed``). ``op(i)`` builds the ``Op`` when one is to be described.

    Build it once with ``OpTable.of(rows)`` to share it among several checkers. Every column holds plain ints,
    bools or the rows themselves, so building it allocates no container per operation (which would wake Python's
    garbage collector over and over on a large history).
    """

    def __init__(self, rows: Iterable[AnyRow]) -> None:
        self.rows: list[AnyRow] = []
        self._bulk_keys: dict[int, str] = {}
        """The key of each operation that came from a bulk read (the others' is their row's)."""
        self.writing: list[bool] = []
        self.slots: list[int] = []
        self.places: list[int] = []
        self.seen: list[int | None] = []
        self.counts: list[int] = []
        self.missed: list[int | None] = []
        self.slot_names: list[tuple[str, str]] = []
        """Per slot: (namespace, key)."""
        self.slot_writes: list[list[int]] = []
        """Per slot: the operations that wrote it, in history order."""
        self.by_version: list[dict[Any, int]] = []
        """Per slot, after the whole history: write index by version."""
        self.by_value: list[dict[bytes | None, int]] = []
        """Per slot, after the whole history: index of the latest write of each value."""
        self._spaces: dict[str, dict[str, int]] = {}
        self._edges: dict[str, int] = {}
        self._fill(rows)

    @classmethod
    def of(cls, history: Iterable[AnyRow] | OpTable) -> OpTable:
        """``history`` itself when it is already a table, else its table."""
        return history if isinstance(history, OpTable) else cls(history)

    def __len__(self) -> int:
        return len(self.rows)

    def _fill(self, rows: Iterable[AnyRow]) -> None:
        # The one hot loop: single-key reads and writes are inlined, every column held in a local.
        rows_ = self.rows
        writing, slots, places, seen_, counts, missed_ = (
            self.writing, self.slots, self.places, self.seen, self.counts, self.missed
        )  # fmt: skip
        slot_writes, by_version, by_value = self.slot_writes, self.by_version, self.by_value
        spaces, edges = self._spaces, self._edges
        new_slot = self._new_slot
        for row in rows:
            kind = type(row)  # exact types (the row classes have no subclasses): cheaper than isinstance
            if kind is KVWrite or kind is KVRead:
                single: KVWrite | KVRead = row  # type: ignore[assignment]
                key = single.key
                space = spaces.get(single.ns)
                slot = None if space is None else space.get(key)
                if slot is None:
                    slot = new_slot(single.ns, key)
                writes = slot_writes[slot]
                version = single.version
                value = single.value
                seen: int | None
                if kind is KVWrite:
                    own = len(writes)
                    if version is not UNKNOWN and version is not None:
                        by_version[slot][version] = own
                    by_value[slot][value] = own
                    writes.append(len(rows_))
                    counts.append(own + 1)
                    missed_.append(None)
                    seen = own
                else:
                    seen = _match(by_version[slot], by_value[slot], version, value)
                    counts.append(len(writes))
                    missed_.append(None if seen is None else first_missed(writes, seen))
                edge = edges.get(single.edge)
                if edge is None:
                    edge = edges[single.edge] = len(edges)
                rows_.append(row)
                writing.append(kind is KVWrite)
                slots.append(slot)
                places.append(slot << 32 | edge)  # an int, not a tuple: see the class's docstring
                seen_.append(seen)
            elif kind is KVBulkRead:
                self._bulk(row)  # type: ignore[arg-type]

    def _new_slot(self, ns: str, key: str) -> int:
        number = len(self.slot_names)
        self._spaces.setdefault(ns, {})[key] = number
        self.slot_names.append((ns, key))
        self.slot_writes.append([])
        self.by_version.append({})
        self.by_value.append({})
        return number

    def _bulk(self, row: KVBulkRead) -> None:
        versions = row.version
        edge = self._edges.setdefault(row.edge, len(self._edges))
        for key in row.keys:
            slot = self._spaces.get(row.ns, {}).get(key)
            if slot is None:
                slot = self._new_slot(row.ns, key)
            writes = self.slot_writes[slot]
            value = row.value.get(key)
            version = UNKNOWN if versions is UNKNOWN else versions.get(key)
            seen = _match(self.by_version[slot], self.by_value[slot], version, value)
            self.rows.append(row)
            self._bulk_keys[len(self.rows) - 1] = key
            self.writing.append(False)
            self.slots.append(slot)
            self.places.append(slot << 32 | edge)
            self.seen.append(seen)
            self.counts.append(len(writes))
            self.missed.append(None if seen is None else first_missed(writes, seen))

    def op(self, i: int) -> Op:
        """Operation ``i`` as an ``Op``."""
        row = self.rows[i]
        kind = "write" if self.writing[i] else "read"
        ns = self.slot_names[self.slots[i]][0]
        key, value, version = self._subject(i)
        return Op(row=row, kind=kind, ns=ns, key=key, value=value, version=version)

    def _subject(self, i: int) -> tuple[str, bytes | None, Version]:
        """The key of operation ``i``, the value it wrote or read, and the version its row names."""
        row = self.rows[i]
        if type(row) is KVBulkRead:
            key = self._bulk_keys[i]
            versions = row.version
            return key, row.value.get(key), UNKNOWN if versions is UNKNOWN else versions.get(key)
        single: KVRead | KVWrite = row  # type: ignore[assignment]
        return single.key, single.value, single.version

    def write_op(self, slot: int, index: int) -> Op:
        """The ``index``-th write of key ``slot``, as an ``Op``."""
        return self.op(self.slot_writes[slot][index])

    def final_seen(self, i: int) -> int | None:
        """Which of all its key's writes read ``i`` matches once the whole history is known (``WriteIndex.seen``
        after every write was added): a read without a version then matches the last write of its value."""
        slot = self.slots[i]
        _, value, version = self._subject(i)
        return _match(self.by_version[slot], self.by_value[slot], version, value)

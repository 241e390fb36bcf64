"""The single-key operations of a history as columns (numpy arrays): the one walk of the history that every
checker shares, and which write each read saw, as ``workersim.core.staleness`` defines it.

Operation ``i`` (a single-key read or write; a bulk get gives one read per key) is a write when ``writing[i]``;
``slots[i]`` numbers its key (and namespace), ``edges[i]`` its edge and ``requests[i]`` its request (-1: none).
``counts[i]`` is how many writes of its key the history had made up to and including it; ``seen[i]`` is, for a
read, ``WriteIndex.seen`` at that point (``PHANTOM`` for a read that matches no write), for a write its own index
among its key's writes; ``missed[i]`` is the write that first made the read stale (``first_missed``), -1 if none;
``final_seen[i]`` is which write the read matches once the whole history is known.

What the rule decides one operation at a time (a dict of each key's versions, filled as the history goes) is
computed here for all of them at once: operations are grouped by key (and version, or value) with one sort of
unique numbers, and "the latest write of this group before me" is a running maximum. Values are held only as
small keys (``value_key``) and only where reads are matched by value; rows stay where they are (in memory, or in
the file, read again by offset) and become ``Op`` objects only to describe a violation.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import cached_property
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from ..core.errors import HistoryFormatError
from ..core.history import History, JSONBatch, json_batches, loads_line, read_line
from ..core.rows import (
    UNKNOWN,
    AnyRow,
    KVBulkRead,
    KVColumns,
    KVRead,
    KVWrite,
    Version,
    kv_columns,
    row_columns,
    row_from_json,
)
from ..core.staleness import Op

Ints = npt.NDArray[np.signedinteger[Any]]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]

PHANTOM = -2
"""``seen`` of a read that matches no write."""
_NO_VERSION, _UNKNOWN_VERSION = -(1 << 63), -(1 << 63) + 1  # a row's version None, and none named
_VERSION_OF: dict[object, int] = {None: _NO_VERSION, UNKNOWN: _UNKNOWN_VERSION}
_BATCH = 1 << 16
"""Rows in memory are taken in this many at a time, so the lists made on the way stay small."""
_SINGLE = {KVRead, KVWrite}
_OPERATIONS = {KVRead, KVWrite, KVBulkRead}


def order(key: npt.NDArray[Any]) -> Ints:
    """The indices that sort ``key`` (non-negative ints), equal keys in index order: a stable argsort, made by
    sorting unique numbers (``key * n + index``), several times faster than numpy's stable sort of 64-bit keys."""
    n = len(key)
    if n == 0:
        return np.zeros(0, np.int64)
    if int(key.max()) >= (1 << 62) // n:  # would overflow: number the distinct keys first
        key = np.unique(key, return_inverse=True)[1].ravel()
    unique = key.astype(np.int64) * n
    unique += np.arange(n, dtype=np.int64)
    unique.sort()
    unique %= n
    return unique


def _starts(sorted_key: npt.NDArray[Any]) -> Bools:
    """Where each run of equal keys starts."""
    new = np.ones(len(sorted_key), bool)
    new[1:] = sorted_key[1:] != sorted_key[:-1]
    return new


def _runs(key: npt.NDArray[Any], mark: Bools, sort: Ints | None = None) -> tuple[Ints, Ints, Ints]:
    """The order that sorts ``key`` (see ``order``, unless given); in that order, each element's position if marked
    (else -1), and the position where its run of equal keys starts."""
    if sort is None:
        sort = order(key)
    new = _starts(key[sort])
    places = np.arange(len(sort), dtype=np.int64)
    return sort, np.where(mark[sort], places, -1), np.maximum.accumulate(np.where(new, places, 0))


def latest(key: npt.NDArray[Any], mark: Bools, sort: Ints | None = None) -> Ints:
    """For each element: the index of the latest marked element with the same key before it, -1 if none (``sort``:
    ``order(key)``, if already known)."""
    sort, marked, head = _runs(key, mark, sort)
    return _scatter(sort, _latest_before(marked, head))


def _latest_before(marked: Ints, head: Ints) -> Ints:
    """In sorted order: the position of the latest marked element of the same run before each one, -1 if none."""
    before = np.empty(len(marked), np.int64)
    before[:1] = -1
    before[1:] = marked[:-1]
    np.maximum.accumulate(before, out=before)
    return np.where(before >= head, before, -1)


def _scatter(sort: Ints, found: Ints) -> Ints:
    """Positions in sorted order, ``found[j]`` for the element ``sort[j]``, back to indices in original order."""
    out = np.empty(len(sort), np.int64)
    out[sort] = np.where(found >= 0, sort[np.maximum(found, 0)], -1)
    return out


def _matches(key: Ints, mark: Bools) -> tuple[Ints, Ints]:
    """For each element: the latest marked element with the same key before it, and the last one overall (-1: none)."""
    sort, marked, head = _runs(key, mark)
    new = head == np.arange(len(head))
    last = np.maximum.reduceat(marked, np.flatnonzero(new))[np.cumsum(new) - 1] if len(head) else marked
    return _scatter(sort, _latest_before(marked, head)), _scatter(sort, last)


def pair(first: npt.NDArray[Any], second: npt.NDArray[Any]) -> Ints:
    """One non-negative number per (first, second) pair of ints, equal exactly for equal pairs (``first`` >= 0)."""
    if not len(first):
        return np.zeros(0, np.int64)
    low, high = int(second.min()), int(second.max())
    if high - low + 1 > (1 << 62) // (int(first.max()) + 1):  # too wide: number the distinct values first
        distinct, second = np.unique(second, return_inverse=True)
        low, high = 0, len(distinct) - 1
    return first.astype(np.int64) * (high - low + 1) + (second.astype(np.int64) - low)


def running_max(group: Ints, value: Ints) -> Ints:
    """The running maximum of ``value`` (>= -1) within each run of equal ``group`` (runs are consecutive)."""
    if not len(value):
        return value.copy()
    span = int(value.max()) + 2
    run = np.cumsum(_starts(group)) - 1
    lifted = value + 1 + run * span  # each run above every earlier one, so one running maximum serves them all
    out: Ints = np.maximum.accumulate(lifted) - run * span - 1
    return out


class _Builder:
    """Takes in batches of single-key operations, numbering keys, edges, requests and values."""

    def __init__(self) -> None:
        self.slots: dict[object, int] = {}
        self.main_ns: str | None = None
        self.edges: dict[str, int] = {}
        self.requests: dict[str | None, int] = {None: -1}
        self.values: dict[object, int] = {}
        self.version_numbers: dict[object, int] | None = None
        """Set once a version does not fit in 64 bits: from then on, versions are numbered."""
        self.parts: dict[str, list[Any]] = {name: [] for name in _Columns.NAMES}
        self.bulk_keys: dict[int, str] = {}
        self.size = 0

    def add(self, columns: KVColumns, locators: Sequence[int], positions: Sequence[int] = ()) -> None:
        n = len(columns.key)
        if not n:
            return
        if self.main_ns is None:
            self.main_ns = next(iter(columns.ns))
        main = self.main_ns
        if set(columns.ns) == {main}:  # one namespace: its keys number themselves, without a tuple each
            slots = _numbers(columns.key, self.slots)
        else:
            pairs = [key if ns == main else (ns, key) for ns, key in zip(columns.ns, columns.key, strict=True)]
            slots = _numbers(pairs, self.slots)
        writing = np.fromiter(columns.writing, bool, n)
        versions = self._versions(columns.version)
        # A value matters to a write (a delete is missing), and to a read that names no version: see _derive.
        asked = np.flatnonzero(writing | (versions <= _UNKNOWN_VERSION)).tolist()
        missing = np.zeros(n, bool)
        missing[asked] = columns.missing(asked)
        complete = np.zeros(n, np.float64)
        written = np.flatnonzero(writing).tolist()
        complete[written] = columns.complete(written)
        values = np.full(n, -1, np.int32)
        keyed = np.flatnonzero(writing | (versions == _UNKNOWN_VERSION) | ((versions == _NO_VERSION) & ~missing))
        if len(keyed):  # writes, and reads to be matched by value
            values[keyed] = _numbers(columns.value_keys(keyed.tolist()), self.values)
        parts = self.parts
        parts["writing"].append(writing)
        parts["slots"].append(slots)
        parts["edges"].append(_numbers(columns.edge, self.edges))
        parts["requests"].append(_numbers(columns.request, self.requests, new=True))
        parts["versions"].append(versions)
        parts["missing"].append(missing)
        parts["values"].append(values)
        parts["invoke"].append(np.fromiter(columns.invoke, np.float64, n))
        parts["complete"].append(complete)
        parts["locators"].append(_ints(locators))
        parts["positions"].append(_ints(positions))
        self.size += n

    def _versions(self, column: Collection[Version]) -> Ints:
        """The versions as 64-bit ints, with ``_NO_VERSION`` and ``_UNKNOWN_VERSION`` for None and UNKNOWN
        (which no 64-bit version can be mistaken for: else, and for versions beyond 64 bits, they are numbered)."""
        versions = list(column)
        if self.version_numbers is None:
            try:
                out = np.fromiter(map(_VERSION_OF.get, versions, versions), np.int64, len(versions))
            except (OverflowError, TypeError, ValueError):
                pass
            else:
                marked = np.flatnonzero(out <= _UNKNOWN_VERSION).tolist()
                if all(versions[i] is None or versions[i] is UNKNOWN for i in marked):
                    return out  # no version of 64 bits was taken for None or UNKNOWN
            numbers: dict[object, int] = {}  # number every version so far, and from now on
            self.version_numbers = numbers
            held: dict[object, int] = {_NO_VERSION: _NO_VERSION, _UNKNOWN_VERSION: _UNKNOWN_VERSION}
            for k, part in enumerate(self.parts["versions"]):
                self.parts["versions"][k] = _numbered(part.tolist(), numbers, held)
        return _numbered(versions, self.version_numbers, _VERSION_OF)

    def add_rows(self, rows: Sequence[AnyRow], locators: Sequence[int], positions: Sequence[int] = ()) -> None:
        """Add the single-key operations of ``rows`` (``locators[j]`` finds ``rows[j]`` again)."""
        kinds = list(map(type, rows))
        if set(kinds) <= _SINGLE:
            self.add(row_columns(rows, kinds), locators, positions)  # type: ignore[arg-type]
            return
        singles: list[KVRead | KVWrite] = []
        taken: list[int] = []  # the row of each operation
        for j, row in enumerate(rows):
            if type(row) is KVRead or type(row) is KVWrite:
                singles.append(row)
                taken.append(j)
            elif type(row) is KVBulkRead:
                versions = row.version
                for key in row.keys:
                    self.bulk_keys[self.size + len(singles)] = key
                    singles.append(_bulk_read(row, key, UNKNOWN if versions is UNKNOWN else versions.get(key)))
                    taken.append(j)
        self.add(row_columns(singles), [locators[j] for j in taken], [positions[j] for j in taken] if positions else ())

    def table(self, fetch: Callable[[int, int], AnyRow]) -> OpTable:
        """The table of everything added; ``fetch(locator, position)`` gives an operation's row again."""
        joined = {
            name: np.concatenate(parts) if parts else np.zeros(0, _Columns.EMPTY.get(name, np.int32))
            for name, parts in self.parts.items()
        }
        return OpTable(_Columns(**joined), len(self.slots), fetch, self.bulk_keys, list(self.edges))


def _numbers(items: Collection[Any], numbers: dict[Any, int], *, new: bool = False) -> Ints:
    """The number of each item, numbering the new ones (in order of first appearance) as it goes. With ``new``
    (most batches bring new items: requests), the batch's own items are numbered first, in a small dict that
    the lookups of every item then stay in."""
    if not new:
        try:
            return np.fromiter(map(numbers.__getitem__, items), np.int32, len(items))
        except KeyError:
            pass
    items = items if isinstance(items, list | tuple) else list(items)  # a view of rows: read the field once
    here = dict.fromkeys(items)
    for item in here:
        number = numbers.get(item)
        if number is None:
            number = numbers[item] = len(numbers)
        here[item] = number
    return np.fromiter(map(here.__getitem__, items), np.int32, len(items))


def _ints(values: Sequence[int]) -> Ints:
    return np.arange(values.start, values.stop, dtype=np.int64) if isinstance(values, range) else np.array(values)


def _numbered(versions: list[Any], numbers: dict[object, int], special: Mapping[object, int]) -> Ints:
    """Each version's number (``special`` ones as given)."""
    return np.array([special[v] if v in special else numbers.setdefault(v, len(numbers)) for v in versions], np.int64)


def _bulk_read(row: KVBulkRead, key: str, version: Version) -> KVRead:
    """One key of a bulk get as the single-key read it amounts to."""
    return KVRead(
        id=row.id, edge=row.edge, op=row.op, invoke=row.invoke, complete=row.complete, request=row.request,
        ns=row.ns, key=key, value=row.value.get(key), version=version,
    )  # fmt: skip


class _Columns:
    """What the builder gathered, one array per field."""

    NAMES = ("writing", "slots", "edges", "requests", "versions", "missing", "values", "invoke", "complete",
             "locators", "positions")  # fmt: skip
    EMPTY: dict[str, type] = {"writing": bool, "missing": bool, "invoke": float, "complete": float}

    def __init__(self, **columns: Any) -> None:
        self.writing: Bools = columns["writing"]
        self.slots: Ints = columns["slots"]
        self.edges: Ints = columns["edges"]
        self.requests: Ints = columns["requests"]
        self.versions: Ints = columns["versions"]
        self.missing: Bools = columns["missing"]
        self.values: Ints = columns["values"]
        self.invoke: Floats = columns["invoke"]
        self.complete: Floats = columns["complete"]
        self.locators: Ints = columns["locators"]
        self.positions: Ints = columns["positions"]


class OpTable:
    """The single-key operations of a history as columns (see the module's docstring), built once with
    ``OpTable.of(rows)`` or ``OpTable.from_jsonl(stream)`` and shared by every checker."""

    def __init__(
        self,
        columns: _Columns,
        keys: int,
        fetch: Callable[[int, int], AnyRow],
        bulk_keys: dict[int, str],
        edge_names: list[str],
    ) -> None:
        self._fetch = fetch
        self._locators, self._positions = columns.locators, columns.positions
        self._bulk_keys = bulk_keys
        self.keys = keys
        """How many keys (slots) there are."""
        self.edge_names = edge_names
        """Each edge's name, by number."""
        self.writing = columns.writing
        self.slots = columns.slots
        self.edges = columns.edges
        self.requests = columns.requests
        self.missing = columns.missing
        """Whether the operation's value is missing (a delete, or a read of nothing): known for writes and for
        reads that name no version (the only ones whose value matters), False for the others."""
        self.invoke = columns.invoke
        self.complete = columns.complete
        """When each write completed (0 for reads: no checker asks)."""
        self._derive(columns)

    def _derive(self, columns: _Columns) -> None:
        n = len(self.writing)
        writing, slots = self.writing, self.slots
        by_slot = order(slots)
        writes_sorted = writing[by_slot]
        made = np.cumsum(writes_sorted, dtype=np.int32)
        # minus the writes made before each key's first operation (running maxima of a growing count)
        made -= np.maximum.accumulate(np.where(_starts(slots[by_slot]), made - writes_sorted, 0))
        counts = np.empty(n, np.int32)
        counts[by_slot] = made
        self.counts: Ints = counts
        """Writes of the operation's key up to and including it."""
        self.write_ops: Ints = by_slot[writes_sorted]
        """Every write, by key, in history order within a key: see ``write_index``."""
        self.writes_per_key: Ints = np.bincount(slots[writing], minlength=self.keys).astype(np.int64)
        self.write_start: Ints = np.zeros(self.keys, np.int64)
        """Where each key's writes start in ``write_ops``."""
        np.cumsum(self.writes_per_key[:-1], out=self.write_start[1:])
        self.by_key: Ints = by_slot
        """The operations sorted by key, in history order within a key."""
        seen = np.full(n, PHANTOM, np.int32)
        final = np.full(n, PHANTOM, np.int32)
        seen[writing] = counts[writing] - 1
        versions, missing, reads = columns.versions, columns.missing, ~writing
        nothing = reads & (versions == _NO_VERSION) & missing
        seen[nothing] = final[nothing] = -1
        versioned = versions > _UNKNOWN_VERSION
        by_value = reads & ~versioned & ~nothing
        # A read naming a version matches the latest earlier write of that version (none: a phantom); one without
        # (or with a null version beside a value) the latest earlier write of its value (none: nothing, or a
        # phantom if it read a value): see _match in workersim.core.staleness.
        groups: list[tuple[Bools, npt.NDArray[Any], Bools, bool]] = [(versioned, versions, reads & versioned, False)]
        if by_value.any():
            groups.append((writing | by_value, columns.values, by_value, True))
        for chosen, ids, asking, by_values in groups:
            if not by_values and _match_distinct_versions(self, versions, asking, seen, final):
                continue
            among = np.flatnonzero(chosen)
            ask = asking[among]
            if not ask.any():
                continue
            earlier, overall = _matches(pair(slots[among], ids[among]), writing[among])
            at = among[ask]
            unmatched = np.where(missing[at], -1, PHANTOM) if by_values else PHANTOM
            for column, found in ((seen, earlier[ask]), (final, overall[ask])):
                column[at] = np.where(found >= 0, counts[among[np.maximum(found, 0)]] - 1, unmatched)
        self.seen: Ints = seen
        self.final_seen: Ints = final
        missed = np.full(n, -1, np.int32)
        stale = np.flatnonzero(reads & (seen >= -1) & (seen + 1 < counts))
        missed[stale] = self.write_ops[self.write_start[slots[stale]] + seen[stale] + 1]
        self.missed: Ints = missed

    @classmethod
    def of(cls, history: Iterable[AnyRow] | OpTable) -> OpTable:
        """``history`` itself when it is already a table, else the table of its rows."""
        if isinstance(history, OpTable):
            return history
        rows = history if isinstance(history, list | tuple) else list(history)
        builder = _Builder()
        for start in range(0, len(rows), _BATCH):
            part = rows[start : start + _BATCH]
            builder.add_rows(part, range(start, start + len(part)))
        return builder.table(lambda locator, _position: rows[locator])

    @classmethod
    def from_jsonl(cls, stream: IO[bytes]) -> OpTable:
        """The table of a history in JSON Lines, read from a binary stream a batch of lines at a time, holding only
        the columns: the rows are not kept, and the few that describe a violation are read again from the stream
        (which must stay open while the table is used). A stream that cannot seek (a pipe) is read into rows, held
        in memory. Raises ``HistoryFormatError`` (naming the line) and ``UnicodeDecodeError`` exactly as
        ``History.from_lines`` reading it as text would."""
        if not stream.seekable():
            text = io.TextIOWrapper(stream, encoding="utf-8")
            try:
                return cls.of(History.from_lines(text).rows)
            finally:
                text.detach()
        builder = _Builder()
        for batch in json_batches(stream):
            start = batch.first_position
            read = kv_columns(batch.values)
            if read is not None:
                columns, others = read
                # The rows the fast path leaves to row_from_json are checked by it; most are not reads or writes.
                if not any(type(_row(batch, j)) in _OPERATIONS for j in others):
                    if others:
                        skipped = set(others)
                        kept = [j for j in range(len(batch.values)) if j not in skipped]
                        builder.add(columns, [batch.offsets[j] for j in kept], [start + j for j in kept])
                    else:
                        builder.add(columns, batch.offsets, range(start, start + len(batch.offsets)))
                    continue
            rows = [_row(batch, j) for j in range(len(batch.values))]
            builder.add_rows(rows, batch.offsets, range(start, start + len(rows)))

        def fetch(locator: int, position: int) -> AnyRow:
            return row_from_json(loads_line(read_line(stream, locator)), position)

        return builder.table(fetch)

    def __len__(self) -> int:
        return len(self.writing)

    def row(self, i: int) -> AnyRow:
        """The row operation ``i`` came from."""
        position = int(self._positions[i]) if len(self._positions) else 0
        return self._fetch(int(self._locators[i]), position)

    def op(self, i: int) -> Op:
        """Operation ``i`` as an ``Op`` (to describe it)."""
        i = int(i)
        row = self.row(i)
        kind = "write" if self.writing[i] else "read"
        if type(row) is KVBulkRead:
            key = self._bulk_keys[i]
            versions = row.version
            version = UNKNOWN if versions is UNKNOWN else versions.get(key)
            return Op(row=row, kind=kind, ns=row.ns, key=key, value=row.value.get(key), version=version)
        single: KVRead | KVWrite = row  # type: ignore[assignment]
        return Op(row=row, kind=kind, ns=single.ns, key=single.key, value=single.value, version=single.version)

    @cached_property
    def places(self) -> tuple[Ints, Ints]:
        """A number for each operation's key at its edge, and the order that sorts them (history order within)."""
        places = pair(self.slots, self.edges)
        return places, order(places)

    def write_index(self, slot: int, index: int) -> int:
        """The operation that is the ``index``-th write of key ``slot``."""
        return int(self.write_ops[self.write_start[slot] + index])

    def write_op(self, slot: int, index: int) -> Op:
        """The ``index``-th write of key ``slot``, as an ``Op``."""
        return self.op(self.write_index(slot, index))


def _match_distinct_versions(table: OpTable, versions: Ints, asking: Bools, seen: Ints, final: Ints) -> bool:
    """``seen`` and ``final_seen`` of the reads ``asking`` by version, when no two writes name the same version
    (as in every workersim run): a read's write is then found directly, not by sorting. False, doing nothing,
    when two writes share a version, or versions are too far apart for a lookup array."""
    writes = np.flatnonzero(table.writing & (versions > _UNKNOWN_VERSION))
    reads = np.flatnonzero(asking)
    if not len(writes):
        seen[reads] = final[reads] = PHANTOM
        return True
    named = versions[writes]
    low, high = int(named.min()), int(named.max())
    if high - low >= 4 * len(versions) + 1024:
        return False
    write_of = np.full(high - low + 1, -1, np.int64)
    write_of[named - low] = writes
    if not np.array_equal(write_of[named - low], writes):  # a version named by two writes
        return False
    asked = versions[reads]
    found = np.full(len(reads), -1, np.int64)
    inside = (asked >= low) & (asked <= high)
    found[inside] = write_of[asked[inside] - low]
    hit = found >= 0
    found[~hit] = 0
    same_key = hit & (table.slots[found] == table.slots[reads])  # by_version is per key: another key's is no match
    index = table.counts[found] - 1
    final[reads] = np.where(same_key, index, PHANTOM)
    seen[reads] = np.where(same_key & (found < reads), index, PHANTOM)  # by the read, only earlier writes
    return True


def _row(batch: JSONBatch, j: int) -> AnyRow:
    try:
        return row_from_json(batch.values[j], batch.first_position + j)
    except HistoryFormatError as error:
        raise HistoryFormatError(str(error), batch.lines[j]) from None

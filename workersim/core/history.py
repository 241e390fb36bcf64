"""The history: every operation of a run as typed rows (``core.rows``), in the order the simulation applied them.

Sans-I/O: it turns rows into JSON Lines text and back, and writes to (or reads from) a text stream it is given;
opening files is left to the layers above (``workersim.History.to_jsonl``).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring
from typing import IO, Any

import attrs

from .errors import HistoryFormatError
from .rows import AnyRow, Packed, row_from_json, row_size, unpack

FLUSH_ROWS = 4096
"""Rows a streamed history gathers before it encodes and writes them in one go."""


def _unencodable(value: object) -> Any:
    raise TypeError(f"a history row holds {type(value).__name__}, which is not JSON")


# The C encoder and scanner are CPython's (not in the typing stubs); json.dumps and json.loads use them too.
c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
if c_make_encoder is not None:
    # One encoder for every row, made once: json.dumps would build a new one for each call.
    _encode: Callable[[Any, int], Iterable[str]] = c_make_encoder(
        None, _unencodable, encode_basestring, None, ":", ",", False, False, False
    )
else:  # pragma: no cover
    _fallback = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    _encode = lambda obj, _level: (_fallback.encode(obj),)  # noqa: E731

_scan: Callable[[str, int], tuple[Any, int]] = getattr(json.JSONDecoder(), "scan_once")  # noqa: B009
_SPACE = " \t\n\r"


def dumps_row(row: AnyRow) -> str:
    """One row as one line of JSON (no newline), byte-identical for equal rows: compact, UTF-8 text kept as is,
    no NaN."""
    return "".join(_encode(row.to_json(), 0))


def loads_line(line: str) -> Any:
    """The JSON value of one line, which must hold exactly one value (``ValueError`` otherwise).

    Calls the C scanner directly: about a third less work per line than ``json.loads``, for the same answer."""
    text = line.strip(_SPACE)
    try:
        value, end = _scan(text, 0)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


@attrs.define
class History:
    """Every operation so far, as typed rows (``KVRead``, ``KVWrite``, ``FetchRow``, ...).

    A row's ``id`` is its position in the whole run. ``limit`` bounds how many rows are kept, and ``max_bytes``
    about how much memory they hold (values included, ``rows.row_size``), for long-running servers: older rows
    are dropped in batches of a tenth of the bound, and ids keep counting.

    The simulation records most rows packed (``record``): a tuple, not yet an object. Reading the history
    (``rows``, iterating, indexing) turns the rows recorded since the last read into objects, once. So
    ``history.rows`` is the list of the rows recorded *so far*: after more operations, read it again.
    """

    _rows: list[AnyRow] = attrs.field(factory=list, alias="rows")
    # Behind the properties ``limit`` and ``max_bytes``, whose setters choose ``record`` anew. (Not attrs'
    # ``on_setattr`` hooks: with any, attrs gives the class a Python ``__setattr__``, a call on every attribute set.)
    _limit: int | None = attrs.field(default=None, kw_only=True, alias="limit")
    _max_bytes: int | None = attrs.field(default=None, kw_only=True, alias="max_bytes")
    held_bytes: int = attrs.field(default=0, init=False)
    """About how many bytes the rows held take (counted only while ``max_bytes`` is set)."""
    _sink: Callable[[str], object] | None = attrs.field(default=None, init=False, repr=False)
    _unwritten: list[AnyRow] = attrs.field(factory=list, init=False, repr=False)
    _packed: list[Packed] = attrs.field(factory=list, init=False, repr=False)
    """Rows recorded packed and not read yet: the newest ones, after every row of ``_rows``. The same list for the
    history's whole life (``record`` may be its ``append``)."""
    _ids_unpacked: int = attrs.field(default=0, init=False, repr=False)
    """The ids given to rows that are not in ``_packed``: those of ``_rows`` and those dropped."""
    record: Callable[[Packed], object] = attrs.field(init=False, repr=False, eq=False)
    """Add the row ``packed`` holds (``rows.pack_*``), with the next id: ``history.record(packed)``.

    While nothing bounds or streams the history (the usual case), this is the packed rows' own ``list.append``, so
    that the row every operation records costs no Python call; otherwise it looks at each row at once."""

    def __attrs_post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"History limit must be >= 0, got {self.limit!r}")
        self._ids_unpacked = self._rows[-1].id + 1 if self._rows else 0
        self._rebind()
        if self.max_bytes is not None:
            self.bound_bytes(self.max_bytes)

    @property
    def limit(self) -> int | None:
        """Keep only about the newest ``limit`` rows (``None``: keep all)."""
        return self._limit

    @limit.setter
    def limit(self, limit: int | None) -> None:
        self._limit = limit
        self._rebind()

    @property
    def max_bytes(self) -> int | None:
        """Keep only as many of the newest rows as hold about ``max_bytes`` bytes (``None``: no such bound; set it
        with ``bound_bytes``, which also drops what is over it now)."""
        return self._max_bytes

    @max_bytes.setter
    def max_bytes(self, max_bytes: int | None) -> None:
        self._max_bytes = max_bytes
        self._rebind()

    @property
    def recorded(self) -> int:
        """How many rows were ever appended: the next row's ``id``."""
        return self._ids_unpacked + len(self._packed)

    @recorded.setter
    def recorded(self, count: int) -> None:
        self._ids_unpacked = count - len(self._packed)

    def _rebind(self) -> None:
        plain = self._limit is None and self._max_bytes is None and self._sink is None
        if not plain and self._packed:
            self._unpack()  # from now on each row is looked at as it comes: none stays packed
        self.record = self._packed.append if plain else self._record_now

    def _record_now(self, packed: Packed) -> None:
        # Bounded or streamed: each row is looked at now, and none is packed, so the next id is _ids_unpacked.
        self.append(unpack(packed, self._ids_unpacked))

    @property
    def rows(self) -> list[AnyRow]:
        """The rows recorded so far, oldest first (those recorded later are not in this list until it is read
        again)."""
        if self._packed:
            self._unpack()
        return self._rows

    @rows.setter
    def rows(self, rows: list[AnyRow]) -> None:
        self._ids_unpacked += len(self._packed)  # dropped unread: their ids stay given
        self._packed.clear()
        self._rows = rows

    def _unpack(self) -> None:
        packed = self._packed
        first = self._ids_unpacked
        self._rows.extend(map(unpack, packed, range(first, first + len(packed))))
        self._ids_unpacked = first + len(packed)
        packed.clear()

    def append(self, row: AnyRow) -> AnyRow:
        """Add ``row``, whose ``id`` must be ``recorded`` (the next id); return it."""
        rows = self.rows  # the packed rows, older than this one, go first: then the next id is _ids_unpacked
        if row.id != self._ids_unpacked:
            raise ValueError(f"row id {row.id} is out of order: the next row is {self._ids_unpacked}")
        self._ids_unpacked += 1
        rows.append(row)
        limit = self._limit
        if limit is not None and len(rows) > limit + limit // 10:
            self._drop(len(rows) - limit)
        if self._max_bytes is not None:
            self.held_bytes += row_size(row)
            if self.held_bytes > self._max_bytes:
                self._shed(self._max_bytes - self._max_bytes // 10)
        if self._sink is not None:
            unwritten = self._unwritten
            unwritten.append(row)
            if len(unwritten) >= FLUSH_ROWS:
                self.flush()
        return row

    def bound_bytes(self, max_bytes: int | None) -> None:
        """Set ``max_bytes`` (``None`` lifts the bound), dropping the oldest rows now if they hold more."""
        if max_bytes is not None and max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes!r}")
        self.max_bytes = max_bytes
        self.held_bytes = 0 if max_bytes is None else sum(map(row_size, self.rows))
        if max_bytes is not None and self.held_bytes > max_bytes:
            self._shed(max_bytes)

    def _drop(self, count: int) -> None:
        if self._max_bytes is not None:
            self.held_bytes -= sum(map(row_size, self.rows[:count]))
        del self.rows[:count]

    def _shed(self, target: int) -> None:
        """Drop the oldest rows until those left hold at most ``target`` bytes (the newest row always stays)."""
        count, held = 0, self.held_bytes
        while held > target and count < len(self.rows) - 1:
            held -= row_size(self.rows[count])
            count += 1
        del self.rows[:count]
        self.held_bytes = held

    def stream(self, sink: Callable[[str], object], *, keep: int = 0) -> None:
        """From now on, write every row to ``sink`` (a text stream's ``write``) as JSON Lines, gathered in chunks
        (``flush`` writes what is gathered), and keep only about the newest ``keep`` rows in memory. Rows already
        recorded and still held are written first."""
        if self._sink is not None:
            raise RuntimeError("this history is already streamed")
        self._sink = sink
        self._unwritten = list(self.rows)
        self.limit = keep
        if len(self.rows) > keep:
            self._drop(len(self.rows) - keep)
        self.flush()

    def flush(self) -> None:
        """Write the rows gathered for the stream (nothing without one)."""
        if self._sink is None or not self._unwritten:
            return
        text = "\n".join(map(dumps_row, self._unwritten))
        self._unwritten = []
        self._sink(text + "\n")

    @property
    def streaming(self) -> bool:
        """Whether rows are being written to a stream as they are recorded."""
        return self._sink is not None

    def __len__(self) -> int:
        return len(self._rows) + len(self._packed)

    def __iter__(self) -> Iterator[AnyRow]:
        return iter(self.rows)

    def __getitem__(self, index: int) -> AnyRow:
        return self.rows[index]

    def lines(self) -> Iterator[str]:
        """The history as JSON Lines, one line (with its newline) at a time."""
        for row in self.rows:
            yield dumps_row(row) + "\n"

    def to_jsonl_text(self) -> str:
        """The history as JSON Lines text, byte-identical for identical runs."""
        return "".join(self.lines())

    def write(self, stream: IO[str]) -> None:
        """Write the history to a text stream as JSON Lines, a line at a time."""
        for line in self.lines():
            stream.write(line)

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> History:
        """Parse JSON Lines into a history; blank lines are skipped. A line that is not JSON, or not an
        operation, raises ``HistoryFormatError`` naming its number."""
        rows: list[AnyRow] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = loads_line(line)
            except ValueError as error:
                raise HistoryFormatError(f"not JSON ({error})", number) from None
            try:
                rows.append(row_from_json(data, len(rows)))
            except HistoryFormatError as error:
                raise HistoryFormatError(str(error), number) from None
        history = cls()
        history.rows = rows
        history.recorded = rows[-1].id + 1 if rows else 0
        return history

    @classmethod
    def from_jsonl_text(cls, text: str) -> History:
        """Parse JSON Lines text into a history."""
        return cls.from_lines(text.splitlines())


CHUNK_BYTES = 1 << 16
"""Bytes ``json_batches`` reads at a time (about 350 lines of a recorded history): small enough that the objects
of one batch never keep the garbage collector busy."""
_LINE_END = re.compile(r"\r\n|\r|\n")


@attrs.frozen
class JSONBatch:
    """The JSON values of consecutive non-blank lines of a JSON Lines stream."""

    values: list[Any]
    lines: list[int]
    """Each value's 1-based line number."""
    offsets: list[int]
    """Where each value's line starts in the stream, in bytes (``read_line`` reads it again)."""
    first_position: int
    """The row number of the first value: how many non-blank lines came before it."""


def json_batches(stream: IO[bytes]) -> Iterator[JSONBatch]:
    """The values of a JSON Lines byte stream, a batch at a time, read as ``History.from_lines`` reads the stream
    opened as UTF-8 text (universal newlines, blank lines skipped, ``HistoryFormatError`` naming the first line
    that is not one JSON value), but without a Python call per line beyond the C scanner's.

    A line that the scanner does not read cleanly at its start (leading or trailing spaces, not JSON) is read again
    alone by ``loads_line``, which then decides. Bytes that are not UTF-8 make it read the whole stream again as
    text with ``History.from_lines``, so that the error (or an earlier line's) is the one that reading gives.
    """
    start = stream.tell()
    offset, number, position, pending = start, 1, 0, b""
    while True:
        data = stream.read(CHUNK_BYTES)
        if data:
            data = pending + data
            cut = data.rfind(b"\n") + 1
            if not cut:
                pending = data
                continue
            chunk, pending = data[:cut], data[cut:]
        elif pending:
            chunk, pending = pending, b""
        else:
            return
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            _reread(stream, start)
            raise
        batch, number = _batch(text, chunk, offset, number, position)
        yield batch
        offset += len(chunk)
        position += len(batch.values)


def _batch(text: str, chunk: bytes, offset: int, number: int, position: int) -> tuple[JSONBatch, int]:
    """The batch of one chunk of whole lines, ``number`` the first one's; and the number of the line after."""
    values: list[Any] = []
    lines: list[int] = []
    starts: list[int] = []
    if b"\r" in chunk:  # universal newlines: "\r" and "\r\n" end lines too
        begin = 0
        for end in [*(match.start() for match in _LINE_END.finditer(text)), len(text)]:
            line = text[begin:end]
            if begin < len(text) and line.strip():
                values.append(_loads(line, number))
                lines.append(number)
                starts.append(begin)
            if end < len(text):
                number += 1
                begin = end + (2 if text.startswith("\r\n", end) else 1)
    else:
        scan, find, size = _scan, text.find, len(text)
        at = 0
        while at < size:
            end = find("\n", at)
            if end < 0:
                end = size
            try:
                value, stop = scan(text, at)
            except (StopIteration, ValueError):
                stop = -1
            if stop != end:  # not one clean value on the line: let loads_line decide, as from_lines does
                line = text[at:end]
                if not line.strip():
                    number, at = number + 1, end + 1
                    continue
                value = _loads(line, number)
            values.append(value)
            lines.append(number)
            starts.append(at)
            number, at = number + 1, end + 1
    if chunk.isascii():
        offsets = [offset + at for at in starts]
    else:  # characters are not bytes: count the bytes before each line
        offsets, done, before = [], 0, offset
        for at in starts:
            before += len(text[done:at].encode("utf-8"))
            done = at
            offsets.append(before)
    return JSONBatch(values, lines, offsets, position), number


def _loads(line: str, number: int) -> Any:
    try:
        return loads_line(line)
    except ValueError as error:
        raise HistoryFormatError(f"not JSON ({error})", number) from None


def _reread(stream: IO[bytes], start: int) -> None:
    """Read ``stream`` from ``start`` as text with ``History.from_lines``, to raise the error that gives."""
    stream.seek(start)
    text = io.TextIOWrapper(stream, encoding="utf-8")
    try:
        History.from_lines(text)
    finally:
        text.detach()


def read_line(stream: IO[bytes], offset: int) -> str:
    """The line of ``stream`` that starts at byte ``offset`` (as ``json_batches`` gave it), without its end."""
    stream.seek(offset)
    return _LINE_END.split(stream.readline().decode("utf-8"), 1)[0]

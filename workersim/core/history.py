"""The history: every operation of a run as typed rows (``core.rows``), in the order the simulation applied them.

Sans-I/O: it turns rows into JSON Lines text and back, and writes to (or reads from) a text stream it is given;
opening files is left to the layers above (``workersim.History.to_jsonl``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring
from typing import IO, Any

import attrs

from .errors import HistoryFormatError
from .rows import AnyRow, row_from_json, row_size

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
    """

    rows: list[AnyRow] = attrs.field(factory=list)
    limit: int | None = attrs.field(default=None, kw_only=True)
    """Keep only about the newest ``limit`` rows (``None``: keep all)."""
    max_bytes: int | None = attrs.field(default=None, kw_only=True)
    """Keep only as many of the newest rows as hold about ``max_bytes`` bytes (``None``: no such bound)."""
    held_bytes: int = attrs.field(default=0, init=False)
    """About how many bytes the rows held take (counted only while ``max_bytes`` is set)."""
    recorded: int = attrs.field(init=False)
    """How many rows were ever appended: the next row's ``id``."""
    _sink: Callable[[str], object] | None = attrs.field(default=None, init=False, repr=False)
    _unwritten: list[AnyRow] = attrs.field(factory=list, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"History limit must be >= 0, got {self.limit!r}")
        self.recorded = self.rows[-1].id + 1 if self.rows else 0
        if self.max_bytes is not None:
            self.bound_bytes(self.max_bytes)

    def append(self, row: AnyRow) -> AnyRow:
        """Add ``row``, whose ``id`` must be ``recorded`` (the next id); return it."""
        if row.id != self.recorded:
            raise ValueError(f"row id {row.id} is out of order: the next row is {self.recorded}")
        self.recorded += 1
        rows = self.rows
        rows.append(row)
        if self.limit is not None and len(rows) > self.limit + self.limit // 10:
            self._drop(len(rows) - self.limit)
        if self.max_bytes is not None:
            self.held_bytes += row_size(row)
            if self.held_bytes > self.max_bytes:
                self._shed(self.max_bytes - self.max_bytes // 10)
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
        if self.max_bytes is not None:
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
        return len(self.rows)

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

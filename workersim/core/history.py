"""The history: every operation of a run as typed rows (``core.rows``), in the order the simulation applied them.

Sans-I/O: it turns rows into JSON Lines text and back, and writes to (or reads from) a text stream it is given;
opening files is left to the layers above (``workersim.History.to_jsonl``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO

import attrs

from .errors import HistoryFormatError
from .rows import AnyRow, row_from_json

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps_row(row: AnyRow) -> str:
    """One row as one line of JSON (no newline), byte-identical for equal rows."""
    return _ENCODER.encode(row.to_json())


@attrs.define
class History:
    """Every operation so far, as typed rows (``KVRead``, ``KVWrite``, ``FetchRow``, ...).

    A row's ``id`` is its position in the whole run. ``limit`` bounds how many rows are kept, for long-running
    servers: older rows are dropped in batches of a tenth of the limit, and ids keep counting.
    """

    rows: list[AnyRow] = attrs.field(factory=list)
    limit: int | None = attrs.field(default=None, kw_only=True)
    """Keep only about the newest ``limit`` rows (``None``: keep all)."""
    recorded: int = attrs.field(init=False)
    """How many rows were ever appended: the next row's ``id``."""

    def __attrs_post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"History limit must be >= 0, got {self.limit!r}")
        self.recorded = self.rows[-1].id + 1 if self.rows else 0

    def append(self, row: AnyRow) -> AnyRow:
        """Add ``row``, whose ``id`` must be ``recorded`` (the next id); return it."""
        if row.id != self.recorded:
            raise ValueError(f"row id {row.id} is out of order: the next row is {self.recorded}")
        self.recorded += 1
        rows = self.rows
        rows.append(row)
        if self.limit is not None and len(rows) > self.limit + self.limit // 10:
            del rows[: len(rows) - self.limit]
        return row

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
                data = json.loads(line)
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

"""The history: one JSON object for every binding call, in the order the simulation applied them."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any

import attrs

Row = dict[str, Any]


def encode_value(value: bytes | None) -> str | dict[str, str] | None:
    """How a stored value appears in a history: text when it is valid UTF-8, else ``{"base64": ...}``."""
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value).decode("ascii")}


def _dumps(row: Row) -> str:
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@attrs.define
class History:
    """Every binding call so far, as JSON-ready rows.

    Each row has ``id``, ``edge``, ``ns``, ``op``, the key (``key``, ``keys`` or ``prefix``), ``value`` (written
    or read; ``None`` when missing), ``metadata``, ``invoke`` and ``complete`` (virtual seconds), and
    ``version`` (the id of the version a read saw or a write made); a rejected call has ``error`` instead and
    changed no stored data.
    """

    rows: list[Row] = attrs.field(factory=list)
    limit: int | None = attrs.field(default=None, kw_only=True)
    """Keep only about the newest ``limit`` rows (``None``: keep all), for long-running servers: older rows are
    dropped in batches of a tenth of the limit, and ids keep counting."""
    recorded: int = attrs.field(init=False)
    """How many rows were ever appended: the next row's ``id``."""

    def __attrs_post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"History limit must be >= 0, got {self.limit!r}")
        self.recorded = len(self.rows)

    def append(self, row: Row) -> Row:
        """Add ``row``, numbering it ``id`` in order (an ``id`` key already in the row keeps its place, so
        callers can put it first); return it."""
        if "id" in row:
            row["id"] = self.recorded
        else:
            row = {"id": self.recorded, **row}
        self.recorded += 1
        rows = self.rows
        rows.append(row)
        if self.limit is not None and len(rows) > self.limit + self.limit // 10:
            del rows[: len(rows) - self.limit]
        return row

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __getitem__(self, index: int) -> Row:
        return self.rows[index]

    def to_jsonl_text(self) -> str:
        """The history as JSON Lines text, byte-identical for identical runs."""
        return "".join(_dumps(row) + "\n" for row in self.rows)

    def to_jsonl(self, path: str | os.PathLike[str]) -> None:
        """Write the history to ``path``, one JSON object a line."""
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(self.to_jsonl_text())

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str]) -> History:
        """Read a history written by ``to_jsonl`` (or recorded elsewhere in the same shape)."""
        with open(path, encoding="utf-8") as f:
            return cls.from_jsonl_text(f.read())

    @classmethod
    def from_jsonl_text(cls, text: str) -> History:
        """Parse JSON Lines text into a history; blank lines are skipped."""
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError(f"history line {number} is not a JSON object")
            rows.append(row)
        return cls(rows)

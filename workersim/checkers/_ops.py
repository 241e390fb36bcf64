"""A history's rows as single-key reads and writes, which is what the consistency checkers reason about."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import attrs

WRITE_OPS = frozenset({"put", "delete"})
READ_OPS = frozenset({"get", "getWithMetadata"})


@attrs.frozen
class Op:
    """A single-key read or write taken from a history row (a bulk get gives one read per key)."""

    id: int
    kind: str
    """``"write"`` or ``"read"``."""
    edge: str
    ns: str
    key: str
    value: Any
    version: Any
    invoke: float
    complete: float
    exact: bool
    """Whether the row named its version (``None`` then means the key's initial absence)."""

    def describe(self) -> str:
        """A short human description, e.g. ``get 'k' at SFO @1.500s -> 'v'``."""
        verb = "wrote" if self.kind == "write" else "read"
        return f"op #{self.id} ({verb} {self.key!r} at {self.edge} @{self.invoke:.3f}s: {self.value!r})"


def single_key_ops(rows: Iterable[dict[str, Any]]) -> Iterator[Op]:
    """The successful single-key operations of a history, in history order."""
    for row in rows:
        if "error" in row:
            continue
        op = row.get("op")
        common = (row.get("edge", ""), row.get("ns", ""))
        times = (row.get("invoke", 0.0), row.get("complete", row.get("invoke", 0.0)), "version" in row)
        if op in WRITE_OPS:
            yield Op(row["id"], "write", *common, row["key"], row.get("value"), row.get("version"), *times)
        elif op in READ_OPS and "key" in row:
            yield Op(row["id"], "read", *common, row["key"], row.get("value"), row.get("version"), *times)
        elif op in READ_OPS and "keys" in row:
            values = row.get("value") or {}
            versions = row.get("version") or {}
            for key in row["keys"]:
                yield Op(row["id"], "read", *common, key, values.get(key), versions.get(key), *times)

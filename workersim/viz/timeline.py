"""A history as a text timeline: one line per operation, each read saying which write it saw or missed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Row = dict[str, Any]
Arrival = Callable[[Row, str], float | None]
"""When a write (a history row) reaches an edge, in virtual seconds; ``Simulation.arrival`` is one."""

_WRITES = ("put", "delete")
_READS = ("get", "getWithMetadata")
_REQUEST_OPS = ("fetch", "response")


def _shown(value: Any) -> str:
    return "(missing)" if value is None else repr(value)


def timeline(history: Iterable[Row], arrival: Arrival | None = None) -> str:
    """Render ``history`` as lines of ``time  edge  operation``.

    A read says which write it saw, or, when a newer write of the key existed already, that it was stale and
    (given ``arrival``) when that write reaches the reading edge.
    """
    lines = [f"{'time':>8}  {'edge':<7}  operation"]
    by_version: dict[tuple[str, Any], Row] = {}
    latest: dict[tuple[str, str], Row] = {}
    for row in history:
        text = _describe(row, by_version, latest, arrival)
        if "request" in row and row["op"] not in _REQUEST_OPS:
            text += f"  [request {row['request']}]"
        lines.append(f"{row['invoke']:>7.3f}s  {row['edge']:<7}  {text}")
        if row["op"] in _WRITES and "error" not in row:
            by_version[row.get("ns", ""), row.get("version")] = row
            latest[row.get("ns", ""), row["key"]] = row
    return "\n".join(lines)


def _describe(
    row: Row, by_version: dict[tuple[str, Any], Row], latest: dict[tuple[str, str], Row], arrival: Arrival | None
) -> str:
    op = row["op"]
    if "error" in row:
        return f"{op} {row.get('key', row.get('keys', row.get('prefix')))!r} -> {row['error']}"
    if op == "put":
        return f"put {row['key']!r} = {row['value']!r}  (write #{row['id']})"
    if op == "delete":
        return f"delete {row['key']!r}  (write #{row['id']})"
    if op == "fetch":
        return f"request {row.get('request')}: {row.get('method', 'GET')} {row.get('url', '')}"
    if op == "response":
        return f"request {row.get('request')}: response {row.get('status')}"
    if op == "list":
        return f"list prefix={row.get('prefix', '')!r} -> {row.get('value')}"
    if op not in _READS or "key" not in row:
        return f"{op} {row.get('keys', row.get('url', ''))!r} -> {row.get('value', row.get('status'))!r}"
    text = f"{op} {row['key']!r} -> {_shown(row.get('value'))}"
    ns = row.get("ns", "")
    seen = by_version.get((ns, row.get("version")))
    newest = latest.get((ns, row["key"]))
    if newest is not None and (seen is None or seen["id"] < newest["id"]):
        when = "" if arrival is None else _arrives(arrival(newest, row["edge"]), row["edge"])
        return f"{text}  <- stale: missed write #{newest['id']}{when}"
    if seen is not None:
        return f"{text}  (sees write #{seen['id']})"
    return text


def _arrives(at: float | None, edge: str) -> str:
    return f", held back from {edge} by a partition" if at is None else f", which reaches {edge} at {at:.3f}s"

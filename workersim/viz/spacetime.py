"""A history as a space-time diagram in SVG: one lane per edge, time to the right, writes travelling between."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from ..core.rows import AnyRow, KVRead, KVRejected, KVWrite
from ..core.staleness import WriteIndex, single_key_ops
from .timeline import Arrival, shown

_LANE = 70
_LEFT = 90
_WIDTH = 960
_TOP = 60


def space_time_svg(
    history: Iterable[AnyRow], edges: Sequence[str] | None = None, arrival: Arrival | None = None
) -> str:
    """Draw ``history`` as SVG text.

    Each edge is a horizontal lane and time runs left to right. A write is a dark dot; with ``arrival`` (such as
    ``Simulation.arrival``) a grey line runs from it to the moment it reaches each other edge. A read is a
    square: green when it saw the newest write of its key, red when it was stale (joined by a thin red line to
    the older write it saw).
    """
    rows = [row for row in history if not isinstance(row, KVRejected)]
    lanes = list(edges) if edges is not None else list(dict.fromkeys(row.edge for row in rows))
    arrivals = _arrivals(rows, lanes, arrival)
    end = max([row.invoke for row in rows] + [t for _, _, t in arrivals] + [1.0])
    scale = (_WIDTH - _LEFT - 40) / end

    def x(t: float) -> float:
        return round(_LEFT + t * scale, 1)

    def y(edge: str) -> int:
        return _TOP + lanes.index(edge) * _LANE

    height = _TOP + len(lanes) * _LANE
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{_LEFT}" y="14" font-size="12">virtual time (s) &#8594;</text>',
    ]
    for tick in _ticks(end):
        out.append(f'<line x1="{x(tick)}" y1="{_TOP - 18}" x2="{x(tick)}" y2="{height - 20}" stroke="#eee"/>')
        out.append(f'<text x="{x(tick) - 6}" y="{_TOP - 22}" fill="#888">{tick:g}</text>')
    for edge in lanes:
        out.append(f'<line x1="{_LEFT}" y1="{y(edge)}" x2="{_WIDTH - 30}" y2="{y(edge)}" stroke="#bbb"/>')
        out.append(f'<text x="10" y="{y(edge) + 4}" font-weight="bold">{escape(edge)}</text>')
    for write, edge, at in arrivals:
        out.append(
            f'<line class="arrival" x1="{x(write.invoke)}" y1="{y(write.edge)}" x2="{x(at)}" '
            f'y2="{y(edge)}" stroke="#999" stroke-dasharray="3,2"/>'
        )
    writes = WriteIndex()
    for row in rows:
        if row.edge not in lanes:
            continue
        px, py = x(row.invoke), y(row.edge)
        if isinstance(row, KVWrite):
            for op in single_key_ops((row,)):
                writes.add(op)
            label = "delete" if row.op == "delete" else f"={shown(row.value)}"
            out.append(
                f'<circle class="write" cx="{px}" cy="{py}" r="5" fill="#222"><title>write #{row.id} '
                f"{escape(repr(row.key))}</title></circle>"
            )
            out.append(f'<text x="{px + 6}" y="{py - 8}">{escape(row.key)}{escape(label)}</text>')
        elif isinstance(row, KVRead):
            [read] = single_key_ops((row,))
            stale = writes.newer_than_seen(read) is not None
            seen = writes.seen(read)
            colour = "#d33" if stale else "#2a2"
            if stale and seen is not None and seen >= 0:  # a fresh read needs no line: it saw the newest write
                saw = writes.writes(read.ns, read.key)[seen]
                out.append(
                    f'<line x1="{x(saw.invoke)}" y1="{y(saw.edge)}" x2="{px}" y2="{py}" '
                    f'stroke="{colour}" stroke-width="0.7"/>'
                )
            out.append(
                f'<rect class="read {"stale" if stale else "fresh"}" x="{px - 4}" y="{py - 4}" width="8" '
                f'height="8" fill="{colour}"><title>read #{row.id}</title></rect>'
            )
            out.append(f'<text x="{px + 6}" y="{py + 16}" fill="{colour}">{escape(shown(row.value))}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _ticks(end: float) -> list[float]:
    step = 10 ** len(str(int(end))) / 10 if end >= 1 else 0.1
    if end / step < 4:
        step /= 2
    return [round(i * step, 3) for i in range(int(end / step) + 1)]


def _arrivals(rows: Sequence[AnyRow], lanes: list[str], arrival: Arrival | None) -> list[tuple[KVWrite, str, float]]:
    if arrival is None:
        return []
    found = []
    for row in rows:
        if isinstance(row, KVWrite) and isinstance(row.version, int) and row.edge in lanes:
            for edge in lanes:
                at = arrival(row, edge) if edge != row.edge else None
                if at is not None:
                    found.append((row, edge, at))
    return found

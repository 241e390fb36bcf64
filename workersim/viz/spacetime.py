"""A history as a space-time diagram in SVG that explains itself: one lane per edge, time to the right.

Operations at one instant stand side by side in the order the simulation applied them (their history order: a
causal sub-step axis), so none hides another; stretches where nothing happens are compressed and marked with a
break. Writes carry their ids, reads the id of the write they saw, and arrows show each write reaching the other
edges (or, under the edge-cache model, each edge's older cached answer expiring). Which write a read saw, and
whether it was stale, is decided by ``core.staleness``; this module only draws it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import urlsplit

import attrs

from ..checkers import check_anomalies
from ..core.cache import EdgeCache
from ..core.rows import AnyRow, FetchRow, KVBulkRead, KVList, KVRead, KVRejected, KVWrite, LogRow, ScheduledRow
from ..core.staleness import WriteIndex, single_key_ops
from .timeline import Arrival, describe, shown

_LANE = 80
_LEFT = 70
_RIGHT = 40
_MIN_WIDTH = 720
_PX_PER_SECOND = 60.0
_LONG = 4.0
"""Seconds of nothing happening beyond which a stretch is compressed to ``_BREAK`` pixels."""
_BREAK = 44.0
_MIN_GAP = 14.0
_CHAR = 6.2
"""About how wide one character of an 11-pixel sans-serif label is."""
_STALE, _FRESH, _WRITE, _ARRIVAL, _CACHE, _FLAG = "#d33", "#2a2", "#222", "#777", "#d80", "#a3c"
_LEGEND_COLUMNS, _LEGEND_WIDTH = 3, 270


@attrs.frozen
class Mark:
    """One operation as drawn: where, what kind, its label and its hover text."""

    row: AnyRow
    step: int
    """Its position in the order drawn (history order): the causal sub-step."""
    kind: str
    """``write``, ``read fresh``, ``read stale``, ``list``, ``rejected``, ``request`` (a request, its response
    or a cron run) or ``log``."""
    key: str
    label: str
    details: str
    saw: KVWrite | None = None
    """For a stale read, the older write it saw (``None``: it saw nothing)."""

    @property
    def width(self) -> float:
        """The room its label needs on the sub-step axis."""
        return max(28.0, _CHAR * len(self.label) + 12)


@attrs.frozen
class Arrow:
    """A write reaching an edge at ``at`` (under the edge-cache model: the edge's older cached answer expiring)."""

    write: KVWrite
    edge: str
    at: float
    ignored: bool
    """It arrived after a newer write of its key had: last writer wins, so it changed nothing there."""


def marks(history: Iterable[AnyRow], arrival: Arrival | None = None, cache: EdgeCache | None = None) -> list[Mark]:
    """Every operation of ``history`` as a ``Mark``, in history order, with its staleness from
    ``core.staleness``."""
    writes = WriteIndex()
    found = []
    for step, row in enumerate(history):
        details = f"{row.invoke:.3f}s {row.edge}: {describe(row, writes, arrival, cache)}"
        found.append(_mark(row, step, details, writes))
        if isinstance(row, KVWrite):
            for op in single_key_ops((row,)):
                writes.add(op)
    return found


def _mark(row: AnyRow, step: int, details: str, writes: WriteIndex) -> Mark:
    if isinstance(row, KVWrite):
        label = f"#{row.id} delete {row.key}" if row.op == "delete" else f"#{row.id} {row.key}={shown(row.value)}"
        return Mark(row=row, step=step, kind="write", key=row.key, label=label, details=details)
    if isinstance(row, KVRead):
        [read] = single_key_ops((row,))
        seen = writes.seen(read)
        saw = writes.writes(read.ns, read.key)[seen].row if seen is not None and seen >= 0 else None
        assert saw is None or isinstance(saw, KVWrite)
        missed = writes.newer_than_seen(read)
        expired = saw is not None and row.value is None and saw.value is not None
        label = (
            shown(row.value)
            + ("" if saw is None else f" saw #{saw.id}")
            + (" (expired)" if expired else "")
            + ("" if missed is None else f" missed #{missed.id}")
        )
        kind = "read fresh" if missed is None else "read stale"
        return Mark(row=row, step=step, kind=kind, key=row.key, label=label, details=details, saw=saw)
    if isinstance(row, KVBulkRead):
        label = f"get {len(row.keys)} keys"
        return Mark(row=row, step=step, kind="read fresh", key=",".join(row.keys), label=label, details=details)
    if isinstance(row, KVList):
        label = f"list {row.prefix}*: {len(row.names)}"
        return Mark(row=row, step=step, kind="list", key=row.prefix, label=label, details=details)
    if isinstance(row, KVRejected):
        status = next((word for word in row.error.split() if word.isdigit()), "error")
        label = f"{row.op} refused {status}"
        return Mark(row=row, step=step, kind="rejected", key=str(row.target), label=label, details=details)
    if isinstance(row, LogRow):
        return Mark(row=row, step=step, kind="log", key="", label=f"console.{row.level}", details=details)
    if isinstance(row, ScheduledRow):
        return Mark(row=row, step=step, kind="request", key="", label=f"cron {row.cron}", details=details)
    label = f"{row.method} {urlsplit(row.url).path or '/'}" if isinstance(row, FetchRow) else f"{row.status}"
    return Mark(row=row, step=step, kind="request", key="", label=label, details=details)


def arrows(rows: Sequence[AnyRow], lanes: Sequence[str], arrival: Arrival | None) -> list[Arrow]:
    """Each write's arrival at each other lane, marked ``ignored`` where a newer write of its key had got there
    first (applying writes in last-writer-wins order, which is history order)."""
    if arrival is None:
        return []
    order = {row.id: index for index, row in enumerate(rows)}
    found = []
    for row in rows:
        if isinstance(row, KVWrite) and isinstance(row.version, int) and row.edge in lanes:
            for edge in lanes:
                at = arrival(row, edge) if edge != row.edge else None
                if at is not None:
                    found.append((row, edge, at))
    # What each edge holds of each key, event by event: its own writes and the arrivals, in time order.
    events = sorted(
        [(at, order[write.id], edge, write, True) for write, edge, at in found]
        + [(row.invoke, order[row.id], row.edge, row, False) for row in rows if isinstance(row, KVWrite)]
    )
    newest: dict[tuple[str, str, str], int] = {}
    ignored = set()
    for _at, rank, edge, write, arriving in events:
        slot = (edge, write.ns, write.key)
        if rank < newest.get(slot, -1):
            if arriving:
                ignored.add((write.id, edge))
        else:
            newest[slot] = rank
    return [Arrow(write=write, edge=edge, at=at, ignored=(write.id, edge) in ignored) for write, edge, at in found]


def _conflict(first: Mark, then: Mark) -> bool:
    """Whether ``then`` must be drawn after ``first`` at one instant: same edge, or one may have seen the
    other (a write and an operation on its key, or a write and a list)."""
    if first.row.edge == then.row.edge:
        return True
    kinds = {first.kind, then.kind}
    if not kinds & {"write", "rejected"}:
        return False
    return first.key == then.key or "list" in kinds


@attrs.frozen
class Columns:
    """Where operations at one instant stand: each in the first column after every earlier operation (in the
    order applied) that it must follow, so that operations that cannot have affected each other share a column
    and the order of those that could is seen left to right."""

    column: dict[int, int]
    """Each mark's column (by row id) within its instant."""
    width: dict[tuple[float, int], float]
    """Each column's width: its widest label."""

    @classmethod
    def of(cls, drawn: Sequence[Mark]) -> Columns:
        """The columns of ``drawn``, marks in the order applied."""
        column: dict[int, int] = {}
        width: dict[tuple[float, int], float] = {}
        placed: dict[float, list[Mark]] = {}
        for mark in drawn:
            at = mark.row.invoke
            earlier = placed.setdefault(at, [])
            here = max((column[other.row.id] + 1 for other in earlier if _conflict(other, mark)), default=0)
            column[mark.row.id] = here
            width[at, here] = max(width.get((at, here), 0.0), mark.width)
            earlier.append(mark)
        return cls(column=column, width=width)

    def widths(self) -> dict[float, float]:
        """Each instant's total width."""
        total: dict[float, float] = {}
        for (at, _), width in self.width.items():
            total[at] = total.get(at, 0.0) + width
        return total

    def offset(self, mark: Mark) -> float:
        """The middle of ``mark``'s column, from the start of its instant's block."""
        at, here = mark.row.invoke, self.column[mark.row.id]
        return sum(self.width[at, i] for i in range(here)) + self.width[at, here] / 2


@attrs.frozen
class Axis:
    """The compressed time axis: each instant a block as wide as its operations side by side, and between
    instants a gap proportional to the time between them, or ``_BREAK`` pixels for a long idle stretch."""

    instants: tuple[float, ...]
    starts: tuple[float, ...]
    ends: tuple[float, ...]
    breaks: tuple[tuple[float, float], ...]
    """(x in the middle of the gap, seconds compressed) for each compressed stretch."""

    @classmethod
    def build(cls, times: Iterable[float], columns: Columns) -> Axis:
        """The axis for ``times`` (operations' and arrivals') and the ``columns`` that take room at some."""
        width = columns.widths()
        instants = sorted(set(times) | set(width))
        starts: list[float] = []
        ends: list[float] = []
        breaks = []
        x = float(_LEFT) + 10
        for i, at in enumerate(instants):
            if i:
                gap = at - instants[i - 1]
                room = max(_MIN_GAP, gap * _PX_PER_SECOND) if gap <= _LONG else _BREAK
                if gap > _LONG:
                    breaks.append((round(x + room / 2, 1), gap))
                x += room
            starts.append(x)
            x += width.get(at, 0.0)
            ends.append(x)
        return cls(instants=tuple(instants), starts=tuple(starts), ends=tuple(ends), breaks=tuple(breaks))

    def x(self, t: float) -> float:
        """Where time ``t`` is: the start of its instant's block, or proportionally within a gap."""
        i = bisect.bisect_left(self.instants, t)
        if i < len(self.instants) and self.instants[i] == t:
            return round(self.starts[i], 1)
        if i == 0:
            return round(self.starts[0], 1)
        if i == len(self.instants):
            return round(self.ends[-1], 1)
        before, after = self.instants[i - 1], self.instants[i]
        share = (t - before) / (after - before)
        return round(self.ends[i - 1] + share * (self.starts[i] - self.ends[i - 1]), 1)

    @property
    def end(self) -> float:
        """The right end of the last block."""
        return self.ends[-1] if self.ends else float(_LEFT)


def space_time_svg(
    history: Iterable[AnyRow],
    edges: Sequence[str] | None = None,
    arrival: Arrival | None = None,
    *,
    cache: EdgeCache | None = None,
    title: str = "",
    lesson: Sequence[str] = (),
) -> str:
    """Draw ``history`` as SVG text, headed by ``title`` and the ``lesson`` lines, with a legend.

    Each edge (``edges``, default: those in the history) is a lane. A write is a dark dot labelled with its id;
    a read is a square labelled with what it returned and the id of the write it saw: green when that was the
    newest write of its key, red when it was stale, with a red line back to the write it saw. With ``arrival``
    (``Simulation.arrival``), arrows show each write reaching the other edges; a grey dotted arrow is an older
    write arriving after a newer one, which it does not replace. Under the edge-cache model (``cache``, the
    simulation's ``edge_cache``) the arrows are orange and end where the edge's older cached answer (shaded)
    expires, from when its reads can see the write.
    """
    rows, lanes = on_lanes(history, edges)
    drawn = marks(rows, arrival, cache)
    travel = arrows(rows, lanes, arrival)
    if cache is not None:  # an edge with no older answer cached sees the write at once: nothing to explain
        travel = [arrow for arrow in travel if arrow.at > arrow.write.invoke]
    axis = Axis.build([arrow.at for arrow in travel], Columns.of(drawn))
    return _Drawing(drawn, travel, axis, lanes, cache, title, list(lesson)).svg()


def on_lanes(history: Iterable[AnyRow], edges: Sequence[str] | None) -> tuple[list[AnyRow], list[str]]:
    """The rows of ``history`` at ``edges`` (default: every edge in it, in order of appearance), and the lanes."""
    rows = list(history)
    lanes = list(edges) if edges is not None else list(dict.fromkeys(row.edge for row in rows))
    return [row for row in rows if row.edge in lanes], lanes


@attrs.define
class _Room:
    """Where labels already stand, so that no other label is put over one."""

    boxes: list[tuple[float, float, float]] = attrs.field(factory=list)
    """(left, right, baseline) of each label placed."""

    def take(self, left: float, right: float, y: float) -> bool:
        """Place a label from ``left`` to ``right`` on the baseline ``y`` if nothing placed is in its way."""
        if any(abs(y - at) < 12 and left < end + 4 and start < right + 4 for start, end, at in self.boxes):
            return False
        self.boxes.append((left, right, y))
        return True


@attrs.define
class _Drawing:
    drawn: list[Mark]
    travel: list[Arrow]
    axis: Axis
    lanes: list[str]
    cache: EdgeCache | None
    title: str
    lesson: list[str]
    out: list[str] = attrs.field(factory=list)
    crowded: dict[float, int] = attrs.field(factory=dict)
    """How many columns of operations stand at each instant."""
    flagged: dict[int, list[str]] = attrs.field(factory=dict)
    """The checkers' sentences about each operation (by row id) that is part of an anomaly."""

    def __attrs_post_init__(self) -> None:
        for (at, column), _ in Columns.of(self.drawn).width.items():
            self.crowded[at] = max(self.crowded.get(at, 0), column + 1)
        for report in check_anomalies(mark.row for mark in self.drawn):
            for violation in report.violations:
                for op in violation.ops:
                    self.flagged.setdefault(op, []).append(f"{report.name}: {violation.message}")

    @property
    def top(self) -> int:
        rows = -(-len(self.legend()) // _LEGEND_COLUMNS)
        return 30 + 16 * len(self.lesson) + (20 if self.title else 0) + 18 * rows + 56

    def y(self, edge: str) -> int:
        return self.top + 40 + self.lanes.index(edge) * _LANE

    def svg(self) -> str:
        text = max([_CHAR * 1.35 * len(self.title)] + [_CHAR * 1.1 * len(line) for line in self.lesson])
        legend = max(
            (i % _LEGEND_COLUMNS) * _LEGEND_WIDTH + _CHAR * len(words) for i, (_, _, words) in enumerate(self.legend())
        )
        width = round(
            max(_MIN_WIDTH, self.axis.end + _RIGHT, 20 + _LEGEND_COLUMNS * _LEGEND_WIDTH, 20 + text, 40 + legend)
        )
        height = self.y(self.lanes[-1]) + 50 if self.lanes else self.top + 40
        self.out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
            "<defs>"
            + "".join(
                f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
                for name, colour in (("arrival", _ARRIVAL), ("cache", _CACHE), ("stale", _STALE))
            )
            + "</defs>",
            '<rect width="100%" height="100%" fill="white"/>',
        ]
        self._header()
        self._axis()
        self._lanes(width)
        self._cached()
        self._arrows()
        self._marks()
        self.out.append("</svg>")
        return "\n".join(self.out) + "\n"

    def _header(self) -> None:
        y = 22
        if self.title:
            self.out.append(
                f'<text class="title" x="10" y="{y}" font-size="15" font-weight="bold">{escape(self.title)}</text>'
            )
            y += 20
        for line in self.lesson:
            self.out.append(f'<text class="lesson" x="10" y="{y}" font-size="12">{escape(line)}</text>')
            y += 16
        self.out.append(f'<g class="legend" transform="translate(10,{y + 10})">')
        for i, (name, glyph, text) in enumerate(self.legend()):
            row, column = divmod(i, _LEGEND_COLUMNS)
            self.out.append(
                f'<g class="legend-item {name}" transform="translate({column * _LEGEND_WIDTH},{row * 18})">{glyph}'
                f'<text x="16" y="4">{escape(text)}</text></g>'
            )
        self.out.append("</g>")

    def legend(self) -> list[tuple[str, str, str]]:
        """The legend's entries, (name, glyph, words), for what this diagram shows."""
        kinds = {mark.kind for mark in self.drawn}
        square = '<rect x="2" y="-4" width="8" height="8" fill="{}"/>'
        items = [
            ("write", f'<circle cx="6" cy="0" r="5" fill="{_WRITE}"/>', "write #id key=value"),
            ("fresh", square.format(_FRESH), "read of the newest write (saw #id)"),
            ("stale", square.format(_STALE), "stale read (missed #id); red arrow to the write it saw"),
        ]
        if self.cache is None:
            items.append(("arrival", self._legend_arrow("arrival", _ARRIVAL, ""), "a write reaches an edge"))
            if any(arrow.ignored for arrow in self.travel):
                items.append(
                    ("ignored", self._legend_arrow("arrival", _ARRIVAL, "1,3"), "older write arrives: ignored")
                )
        else:
            band = f'<rect x="0" y="-5" width="12" height="10" fill="{_CACHE}" opacity="0.25"/>'
            items.append(("cache", band, "edge answers from its older cached answer"))
            items.append(("expiry", self._legend_arrow("cache", _CACHE, ""), "cache expires: the edge sees the write"))
        if "list" in kinds:
            items.append(("list", '<path d="M6,-5 L11,0 L6,5 L1,0 z" fill="#36c"/>', "list"))
        if "rejected" in kinds:
            cross = f'<path d="M2,-4 L10,4 M10,-4 L2,4" stroke="{_STALE}" stroke-width="2"/>'
            items.append(("rejected", cross, "refused operation (error)"))
        if "request" in kinds:
            items.append(("request", '<path d="M6,-5 L11,4 L1,4 z" fill="#888"/>', "request / response / cron run"))
        if "log" in kinds:
            items.append(("log", '<rect x="2" y="-4" width="8" height="8" fill="none" stroke="#888"/>', "console log"))
        if self.flagged:
            ring = f'<circle cx="6" cy="0" r="7" fill="none" stroke="{_FLAG}" stroke-width="2"/>'
            items.append(("anomaly", ring, "part of an anomaly the checkers found"))
        if self.axis.breaks:
            items.append(("break", '<path d="M0,6 L4,-6 M6,6 L10,-6" stroke="#555"/>', "idle time compressed"))
        return items

    @staticmethod
    def _legend_arrow(marker: str, colour: str, dashes: str) -> str:
        dash = f' stroke-dasharray="{dashes}"' if dashes else ""
        return f'<line x1="0" y1="0" x2="12" y2="0" stroke="{colour}"{dash} marker-end="url(#arrow-{marker})"/>'

    def _axis(self) -> None:
        top = self.top
        self.out.append(
            f'<text x="{_LEFT}" y="{top - 28}" fill="#555">virtual time (s) &#8594;, '
            "operations at one instant side by side in the order applied</text>"
        )
        for at, start, end in zip(self.axis.instants, self.axis.starts, self.axis.ends, strict=True):
            if self.crowded.get(at, 0) > 1:
                self.out.append(
                    f'<path class="instant" d="M{start:.1f},{top + 10} v4 H{end:.1f} v-4" stroke="#aaa" fill="none"/>'
                )
        for x, anchor, text in self.ticks():
            self.out.append(
                f'<text class="tick" x="{x:.1f}" y="{top + 4}" fill="#555" text-anchor="{anchor}">{text}</text>'
            )
        for x, seconds in self.axis.breaks:
            self.out.append(
                f'<g class="break"><path d="M{x - 5},{top + 16} l4,-12 M{x + 1},{top + 16} l4,-12" '
                f'stroke="#555"/><text x="{x}" y="{top - 12}" fill="#888" text-anchor="middle">'
                f"+{seconds:g}s</text></g>"
            )

    def ticks(self) -> list[tuple[float, str, str]]:
        """The time labels, (x, text-anchor, text), in time order: over the operations of an instant that has
        one column, at the start of the bracket of one that has several, at the arrowheads of one that only
        sees arrivals. Where labels would overlap, those of instants with operations win (arrival times are in
        the arrows' hover text)."""
        labels = []
        for at, start, end in zip(self.axis.instants, self.axis.starts, self.axis.ends, strict=True):
            text = f"{at:g}s"
            if self.crowded.get(at, 0) > 1:
                x, anchor, left = start, "start", start
            else:
                x, anchor = (start + end) / 2, "middle"
                left = x - _CHAR * len(text) / 2
            labels.append((end > start, left, left + _CHAR * len(text), x, anchor, text))
        room, chosen = _Room(), set()
        for busy in (True, False):
            for i, (has_operations, left, right, *_) in enumerate(labels):
                if has_operations == busy and room.take(left, right, 0.0):
                    chosen.add(i)
        return [(x, anchor, text) for i, (*_, x, anchor, text) in enumerate(labels) if i in chosen]

    def _lanes(self, width: int) -> None:
        for edge in self.lanes:
            y = self.y(edge)
            self.out.append(
                f'<g class="lane" data-edge="{escape(edge)}"><line x1="{_LEFT}" y1="{y}" '
                f'x2="{width - 20}" y2="{y}" stroke="#bbb"/><text x="10" y="{y + 4}" '
                f'font-weight="bold">{escape(edge)}</text></g>'
            )
            for x, _ in self.axis.breaks:
                self.out.append(
                    f'<path class="break" d="M{x - 5},{y + 6} l4,-12 M{x + 1},{y + 6} l4,-12" '
                    'stroke="#555" fill="none"/>'
                )

    def _cached(self) -> None:
        if self.cache is None:
            return
        ttl = self.cache.default_ttl
        for arrow in self.travel:
            start, end = self.axis.x(max(arrow.at - ttl, 0.0)), self.axis.x(arrow.at)
            y = self.y(arrow.edge)
            self.out.append(
                f'<rect class="cached" x="{start}" y="{y - 9}" width="{round(end - start, 1)}" height="18" '
                f'fill="{_CACHE}" opacity="0.15"><title>{escape(arrow.edge)} answers from an older cached answer '
                f"until {arrow.at:g}s (cacheTtl {ttl}s)</title></rect>"
            )

    def _arrows(self) -> None:
        x_of = self.positions()
        room = _Room()
        for mark in self.drawn:
            half = _CHAR * len(mark.label) / 2
            room.boxes.append((x_of[mark.row.id] - half, x_of[mark.row.id] + half, self._label_y(mark)))
        for arrow in self.travel:
            name = "cache" if self.cache is not None else "arrival"
            colour = _CACHE if self.cache is not None else _ARRIVAL
            dashes = "1,3" if arrow.ignored else "4,2"
            what = "older: ignored" if arrow.ignored else ("cache expires" if self.cache is not None else "arrives")
            x1, y1 = x_of[arrow.write.id], self.y(arrow.write.edge)
            x2, y2 = self.axis.x(arrow.at), self.y(arrow.edge)
            if arrow.at == arrow.write.invoke:  # no delay: straight across, not back before the write
                x2 = max(x2, x1)
            self.out.append(
                f'<line class="arrival{" ignored" if arrow.ignored else ""}" data-write="{arrow.write.id}" '
                f'data-edge="{escape(arrow.edge)}" data-t="{arrow.at:g}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
                f'stroke="{colour}" stroke-dasharray="{dashes}" marker-end="url(#arrow-{name})"><title>write '
                f"#{arrow.write.id} {escape(what)} at {escape(arrow.edge)} at {arrow.at:.3f}s</title></line>"
            )
            if arrow.ignored:
                note = f"#{arrow.write.id} older: ignored"
                left = x2 - 4 - _CHAR * len(note)
                # Above the arrowhead, or higher still where an operation's label (or another note) stands.
                y = next((y2 - rise for rise in (12, 25, 38) if room.take(left, x2 - 4, y2 - rise)), y2 - 12)
                self.out.append(
                    f'<text class="arrival-note" data-write="{arrow.write.id}" data-t="{arrow.at:g}" x="{x2 - 4}" '
                    f'y="{y}" fill="{_ARRIVAL}" text-anchor="end">{escape(note)}</text>'
                )

    def positions(self) -> dict[int, float]:
        """Each mark's x (by row id): its instant's block, then its column within it."""
        columns = Columns.of(self.drawn)
        return {
            mark.row.id: round(
                self.axis.starts[bisect.bisect_left(self.axis.instants, mark.row.invoke)] + columns.offset(mark), 1
            )
            for mark in self.drawn
        }

    def _marks(self) -> None:
        x_of = self.positions()
        for mark in self.drawn:
            row = mark.row
            px, py = x_of[row.id], self.y(row.edge)
            if mark.saw is not None and mark.kind == "read stale" and mark.saw.id in x_of:
                self.out.append(
                    f'<line class="saw" x1="{px}" y1="{py}" x2="{x_of[mark.saw.id]}" '
                    f'y2="{self.y(mark.saw.edge)}" data-step="{mark.step}" stroke="{_STALE}" stroke-width="0.8" '
                    'marker-end="url(#arrow-stale)"/>'
                )
            attributes = (
                f'class="op {mark.kind}" data-id="{row.id}" data-step="{mark.step}" '
                f'data-edge="{escape(row.edge)}" data-key="{escape(mark.key)}" data-t="{row.invoke:g}"'
            )
            glyph = self._glyph(mark, px, py)
            findings = self.flagged.get(row.id, [])
            if findings:
                glyph += (
                    f'<circle class="anomaly" cx="{px}" cy="{py}" r="9" fill="none" stroke="{_FLAG}" stroke-width="2"/>'
                )
            hover = "\n".join([mark.details, *findings])
            self.out.append(f"<g {attributes}>{glyph}<title>{escape(hover)}</title></g>")
            colour = {"read stale": _STALE, "read fresh": _FRESH}.get(mark.kind, "#222")
            self.out.append(
                f'<text class="label" x="{px}" y="{self._label_y(mark)}" fill="{colour}" '
                f'data-step="{mark.step}" text-anchor="middle">{escape(mark.label)}</text>'
            )

    def _label_y(self, mark: Mark) -> int:
        """The baseline of ``mark``'s label: above its lane for a write, below it for the rest."""
        return self.y(mark.row.edge) + (-10 if mark.kind == "write" else 18)

    @staticmethod
    def _glyph(mark: Mark, px: float, py: int) -> str:
        if mark.kind == "write":
            return f'<circle cx="{px}" cy="{py}" r="5" fill="{_WRITE}"/>'
        if mark.kind.startswith("read"):
            colour = _STALE if mark.kind == "read stale" else _FRESH
            return f'<rect x="{px - 4}" y="{py - 4}" width="8" height="8" fill="{colour}"/>'
        if mark.kind == "list":
            return f'<path d="M{px},{py - 5} l5,5 l-5,5 l-5,-5 z" fill="#36c"/>'
        if mark.kind == "log":
            return f'<rect x="{px - 4}" y="{py - 4}" width="8" height="8" fill="none" stroke="#888"/>'
        if mark.kind == "rejected":
            return f'<path d="M{px - 4},{py - 4} l8,8 m0,-8 l-8,8" stroke="{_STALE}" stroke-width="2"/>'
        return f'<path d="M{px},{py - 5} l5,9 h-10 z" fill="#888"/>'

"""What every teaching scenario's command line does: run on a seed, print the timeline and the lesson, draw it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import attrs

import workersim
from workersim.core.rows import KVRead, KVWrite
from workersim.core.staleness import WriteIndex, single_key_ops
from workersim.viz import history_html, space_time_svg, timeline

Scenario = Callable[[int], Awaitable[workersim.Simulation]]
Lessons = Callable[[workersim.Simulation], list[str]]


@attrs.frozen
class RouteDelay:
    """A delay model with one fixed delay per route (origin edge, destination edge), and ``other`` seconds for
    every route not listed: scenarios use it to make a write arrive exactly when their story needs."""

    routes: Mapping[tuple[str, str], float]
    other: float

    def bound(self) -> float | None:
        """The longest delay of any route."""
        return max([self.other, *self.routes.values()])

    def delay_ms(self, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        """The route's delay in milliseconds, whatever the draw."""
        return round(1000 * self.routes.get((origin or "central", destination), self.other))


def reads(sim: workersim.Simulation, edge: str | None = None) -> list[KVRead]:
    """The single-key reads of the run (at ``edge`` only, when given), in history order."""
    return [row for row in sim.history if isinstance(row, KVRead) and edge in (None, row.edge)]


def writes(sim: workersim.Simulation) -> list[KVWrite]:
    """The successful writes of the run, in the order they were applied."""
    return [row for row in sim.history if isinstance(row, KVWrite)]


def stale_reads(sim: workersim.Simulation) -> dict[int, KVWrite]:
    """For each stale read (by row id), the newest write of its key that it missed (``core.staleness``)."""
    found = {}
    index = WriteIndex()
    for op in single_key_ops(sim.history):
        if op.kind == "write":
            index.add(op)
            continue
        missed = index.newer_than_seen(op) if op.kind == "read" else None
        if missed is not None and isinstance(missed.row, KVWrite):
            found[op.id] = missed.row
    return found


def cache_lessons(sim: workersim.Simulation, edge: str) -> list[str]:
    """Under the edge-cache model: for each write ``edge`` read stale, until when its older cached answer hid
    it, although the write was in the central store."""
    missed: dict[int, tuple[KVWrite, list[KVRead]]] = {}
    stale = stale_reads(sim)
    for row in reads(sim, edge):
        if row.id in stale:
            missed.setdefault(stale[row.id].id, (stale[row.id], []))[1].append(row)
    return [
        f"{edge}'s cache answered {shown(rows[0].value)} until {sim.arrival(write, edge):g}s, though write "
        f"#{write.id} ({shown(write.value)}) was in the central store from {write.invoke:g}s"
        for write, rows in missed.values()
    ]


def shown(value: bytes | None) -> str:
    """A value as the lessons quote it."""
    return "(missing)" if value is None else repr(value.decode("utf-8", "replace"))


def run_scenario(scenario: Scenario, doc: str | None, lessons: Lessons) -> workersim.Simulation:
    """Parse ``--seed N``, ``--svg FILE`` and ``--html FILE``; run ``scenario(seed)`` on virtual time; print the
    timeline and the lesson lines ``lessons(sim)`` gives; draw the diagram and the interactive page if asked."""
    title = (doc or "").strip().splitlines()[0] if doc else ""
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--seed", type=int, default=7, help="the run's seed (default 7): the same seed, the same run")
    parser.add_argument("--svg", type=Path, metavar="FILE", help="also draw the run as a space-time diagram (SVG)")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write the run as an interactive page")
    args = parser.parse_args()
    sim = workersim.run(scenario, args.seed)
    lesson = lessons(sim)
    print(timeline(sim.history, sim.arrival, cache=sim.edge_cache))
    if lesson:
        print()
        print("\n".join(f"lesson: {line}" for line in lesson))
    for path, draw, what in (
        (args.svg, space_time_svg, "space-time diagram"),
        (args.html, history_html, "interactive page"),
    ):
        if path:
            text = draw(sim.history, sim.edges, sim.arrival, cache=sim.edge_cache, title=title, lesson=lesson)
            path.write_text(text, encoding="utf-8")
            print(f"\n{what}: {path}")
    return sim


def command(module_name: str) -> Callable[[], None]:
    """The ``main()`` of the scenario module ``module_name``, which defines ``scenario(seed)`` and
    ``lessons(sim)``."""

    def main() -> None:
        """Run the scenario and print its timeline and lesson: ``--seed N`` replays another run, ``--svg FILE``
        draws it, ``--html FILE`` writes it as an interactive page."""
        module = sys.modules[module_name]
        run_scenario(module.scenario, module.__doc__, module.lessons)

    return main

"""What every teaching scenario's command line does: run on a seed, print the timeline, draw the diagram."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path

import workersim
from workersim.viz import space_time_svg, timeline


def run_scenario(scenario: Callable[[int], Awaitable[workersim.Simulation]], description: str) -> workersim.Simulation:
    """Parse ``--seed`` and ``--svg FILE``, run ``scenario(seed)`` on virtual time and show what happened."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seed", type=int, default=7, help="the run's seed (default 7): the same seed, the same run")
    parser.add_argument("--svg", type=Path, help="also write a space-time diagram of the run to this SVG file")
    args = parser.parse_args()
    sim = workersim.run(scenario, args.seed)
    print(timeline(sim.history, sim.arrival))
    if args.svg:
        args.svg.write_text(space_time_svg(sim.history, sim.edges, sim.arrival), encoding="utf-8")
        print(f"\nspace-time diagram: {args.svg}")
    return sim

"""The servers' history: every operation kept when it will be saved at shutdown, only the newest otherwise."""

from __future__ import annotations

import sys
from pathlib import Path

from ..sim.simulation import Simulation

UNSAVED_LIMIT = 10_000
"""Rows a server keeps when no history file is asked for, so a long run does not grow without bound."""


def keep_history(sim: Simulation, path: Path | None) -> None:
    """Keep the whole history when it will be saved, only the newest rows otherwise."""
    sim.history.limit = None if path is not None else UNSAVED_LIMIT


def save_history(sim: Simulation, path: Path | None) -> None:
    """Write the history to ``path`` (if asked) and say so on stderr."""
    if path is None:
        return
    sim.history.to_jsonl(path)
    print(f"workersim: wrote {len(sim.history)} operations to {path}", file=sys.stderr)

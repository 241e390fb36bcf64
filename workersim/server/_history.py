"""The servers' history: every operation kept when it will be saved at shutdown, only the newest otherwise.

The file is checked when the server starts (a path that cannot be written is refused then, not discovered at
exit), and written to a temporary file beside it that replaces it only once complete: a second signal during the
save, or a crash, leaves the previous file as it was. A SIGKILL writes nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..sim.simulation import Simulation

UNSAVED_LIMIT = 10_000
"""Rows a server keeps when no history file is asked for, so a long run does not grow without bound."""


class HistoryPathError(ValueError):
    """A ``--history`` path the server could not write."""


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def keep_history(sim: Simulation, path: Path | None) -> None:
    """Keep the whole history when it will be saved, only the newest rows otherwise; refuse a ``path`` that
    cannot be written (its folder missing or not writable, or a folder itself)."""
    sim.history.limit = None if path is not None else UNSAVED_LIMIT
    if path is None:
        return
    if path.is_dir():
        raise HistoryPathError(f"--history {path} is a folder; give a file name")
    try:
        with open(_partial(path), "w", encoding="utf-8"):
            pass
        os.remove(_partial(path))
    except OSError as error:
        raise HistoryPathError(f"--history {path} cannot be written: {error.strerror or error}") from None


def save_history(sim: Simulation, path: Path | None) -> None:
    """Write the history to ``path`` (if asked), atomically, and say so on stderr."""
    if path is None:
        return
    partial = _partial(path)
    try:
        sim.history.to_jsonl(partial)
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    print(f"workersim: wrote {len(sim.history)} operations to {path}", file=sys.stderr)

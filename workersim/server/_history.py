"""The servers' history: in memory, only the newest rows, bounded in number and in bytes; with ``--history``,
every row streamed to the file as it happens.

The file is checked when the server starts (a path that cannot be written is refused then, not discovered at
exit). Rows go to a temporary file beside it (``NAME.partial``), which replaces it when the server stops: a second
signal during the shutdown, or a crash, leaves the previous file as it was, and after a SIGKILL the rows written
so far are in ``NAME.partial``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..sim.simulation import Simulation

UNSAVED_LIMIT = 10_000
"""Rows a server keeps in memory, so a long run does not grow without bound."""
UNSAVED_BYTES = 64 * 1024 * 1024
"""About how many bytes the rows a server keeps in memory may hold, values included."""


class HistoryPathError(ValueError):
    """A ``--history`` path the server could not write."""


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def keep_history(sim: Simulation, path: Path | None) -> None:
    """Keep the whole history when it will be saved, only the newest rows otherwise; refuse a ``path`` that
    cannot be written (its folder missing or not writable, or a folder itself)."""
    sim.history.limit = UNSAVED_LIMIT
    sim.history.bound_bytes(UNSAVED_BYTES)
    if path is None:
        return
    if path.is_dir():
        raise HistoryPathError(f"--history {path} is a folder; give a file name")
    try:
        sim.history.stream_to(_partial(path), keep=UNSAVED_LIMIT)
    except OSError as error:
        raise HistoryPathError(f"--history {path} cannot be written: {error.strerror or error}") from None


def save_history(sim: Simulation, path: Path | None) -> None:
    """Finish the history file (if asked): the streamed rows replace ``path`` at once; say so on stderr."""
    if path is None:
        return
    sim.history.close()
    os.replace(_partial(path), path)
    print(f"workersim: wrote {sim.history.recorded} operations to {path}", file=sys.stderr)

"""Hot reload for ``workersim dev``: watch the worker's folder (watchfiles) and, when a Python file there changes,
load the worker afresh at every edge. KV data stays: only the isolates are replaced. A file that does not load is
logged and the previous code goes on serving."""

from __future__ import annotations

import logging
from pathlib import Path

import trio
from watchfiles import PythonFilter, awatch

from ..runtime import Simulation

log = logging.getLogger("workersim.dev")
# watchfiles logs every batch of changes at INFO; the reload's own line says what matters.
logging.getLogger("watchfiles").setLevel(logging.WARNING)

DEBOUNCE_MS = 200
"""Changes within this many milliseconds are one reload (an editor's save is often several writes)."""
WAKE_MS = 300


def reload_worker(sim: Simulation, changed: list[str]) -> bool:
    """Load ``sim``'s worker afresh after ``changed`` files changed; log what happened; whether it loaded."""
    names = ", ".join(sorted(Path(path).name for path in changed))
    try:
        sim.reload()
    except SyntaxError as error:
        why = f"{error.msg} ({Path(error.filename or '?').name}, line {error.lineno})"
    except Exception as error:  # whatever the new module code raises while it loads
        why = f"{type(error).__name__}: {error}"
    else:
        log.info("workersim dev: %s changed; reloaded the worker at every edge", names)
        return True
    log.error(
        "workersim dev: %s changed but the worker does not load, so the previous code still serves: %s", names, why
    )
    return False


async def watch_worker(sim: Simulation, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    """Reload ``sim``'s worker whenever a Python file in its folder (or below) changes, until cancelled.

    Every edge gets an isolate of the current code first, so that an edge that had served nothing yet also keeps
    serving the last code that loaded when a broken edit arrives."""
    path = sim.worker_file
    if path is None:
        task_status.started()
        return
    sim.reload()
    task_status.started()
    # The watcher waits in a thread that a cancellation cannot interrupt: it wakes every WAKE_MS to notice one.
    async for changes in awatch(path.parent, watch_filter=PythonFilter(), debounce=DEBOUNCE_MS, rust_timeout=WAKE_MS):
        reload_worker(sim, [changed for _, changed in changes])

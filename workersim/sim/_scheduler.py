"""The two facts about trio's scheduler that the conductor needs and trio's public API gives only slowly.

``trio.lowlevel.current_statistics()`` answers both (how many tasks are runnable, when the next deadline is), but
builds a statistics object, with the I/O manager's statistics, each time: about half the cost of a whole
checkpoint, and the conductor asks on every call. So the run's queue and deadlines are read directly, which trio
does not promise to keep: ``pyproject.toml`` pins trio to the versions this was checked against,
``tests/test_conductor.py`` fails loudly if the internals move, and where they are missing anyway this module
falls back to the public API (slower, never wrong).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs
import trio
from trio.lowlevel import Task

try:
    from trio._core import _run as _trio_run
except ImportError:  # pragma: no cover - a trio without the internal: the public fallback below
    _trio_run = None  # type: ignore[assignment]


@attrs.frozen
class Scheduler:
    """Reads the current run's scheduler state; make one inside the run with ``Scheduler.current()``."""

    runner: Any
    """trio's runner when its internals are as expected, else ``None`` (then the public API is used)."""

    @classmethod
    def current(cls) -> Scheduler:
        """The reader for the current run, checking once that the internals it reads are there."""
        runner = getattr(getattr(_trio_run, "GLOBAL_RUN_CONTEXT", None), "runner", None)
        usable = isinstance(getattr(runner, "runq", None), list | deque) and callable(
            getattr(getattr(runner, "deadlines", None), "next_deadline", None)
        )
        return cls(runner if usable else None)

    @property
    def internal(self) -> bool:
        """Whether the fast internal reads are in use."""
        return self.runner is not None

    def runnable(self) -> int:
        """How many tasks are in trio's run queue (runnable, waiting for the next pass)."""
        if self.runner is not None:
            return len(self.runner.runq)
        return trio.lowlevel.current_statistics().tasks_runnable

    @property
    def reschedule(self) -> Callable[[Task, Any], None]:
        """trio's ``reschedule``: the runner's own method when reachable (without the public wrapper's lookup)."""
        if self.runner is not None:
            method: Callable[[Task, Any], None] = self.runner.reschedule
            return method
        return trio.lowlevel.reschedule

    def next_deadline(self) -> float:
        """The earliest deadline of any task, in trio time (``inf`` if none)."""
        if self.runner is not None:
            deadline: float = self.runner.deadlines.next_deadline()
            return deadline
        return trio.current_time() + trio.lowlevel.current_statistics().seconds_to_next_deadline

    def deadline_due(self) -> bool:
        """Whether some task's deadline has come but trio has not woken it yet (it will on its next pass)."""
        deadline = self.next_deadline()
        return not math.isinf(deadline) and deadline <= trio.current_time()

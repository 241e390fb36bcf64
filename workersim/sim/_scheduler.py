"""What the conductor needs from trio's scheduler, where trio's public API gives it only slowly.

Two facts: ``trio.lowlevel.current_statistics()`` answers both (how many tasks are runnable, when the next
deadline is), but builds a statistics object, with the I/O manager's statistics, each time: about half the cost of
a whole checkpoint, and the conductor asks on every call. So the run's queue and deadlines are read directly.

And one message: a task parks by yielding trio the message ``trio.lowlevel.wait_task_rescheduled`` yields, which
passes it through a coroutine frame of its own on the way out and again on the way back in; the conductor parks
every call that must wait for its batch, so it yields that message itself.

trio does not promise to keep any of these: ``pyproject.toml`` pins trio to the versions this was checked against,
``tests/test_conductor.py`` fails loudly if the internals move, and where they are missing anyway this module
falls back to the public API (slower, never wrong).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sized
from typing import Any

import attrs
import trio
from trio.lowlevel import Abort, Task

try:
    from trio._core import _run as _trio_run
except ImportError:  # pragma: no cover - a trio without the internal: the public fallback below
    _trio_run = None  # type: ignore[assignment]

_PARK_MESSAGE = getattr(_trio_run, "WaitTaskRescheduled", None)
"""What ``wait_task_rescheduled(abort)`` yields to trio's run loop (``WaitTaskRescheduled(abort)``), or ``None``."""


@attrs.frozen(kw_only=True)
class Scheduler:
    """The current run's scheduler state, as objects the conductor keeps and reads on every call without a lookup
    (make one inside the run with ``Scheduler.current()``)."""

    queue: Sized
    """trio's run queue: its length is how many tasks are runnable, waiting for the next pass."""
    next_deadline: Callable[[], float]
    """The earliest deadline of any task, in trio time (``inf`` if none)."""
    reschedule: Callable[[Task, Any], None]
    """trio's ``reschedule``: the runner's own method when reachable (without the public wrapper's lookup)."""
    park: Callable[[Callable[[Any], Abort]], object] | None
    """Makes, from an abort callback, the message a task yields to trio to sleep until it is rescheduled (as
    ``trio.lowlevel.wait_task_rescheduled`` does; what it is woken with is unwrapped as there); ``None`` where
    unreachable, and then a task parks with ``wait_task_rescheduled`` itself."""
    internal: bool
    """Whether the fast internal reads are in use."""

    @classmethod
    def current(cls) -> Scheduler:
        """The reader for the current run, checking once that the internals it reads are there."""
        runner = getattr(getattr(_trio_run, "GLOBAL_RUN_CONTEXT", None), "runner", None)
        queue = getattr(runner, "runq", None)
        next_deadline = getattr(getattr(runner, "deadlines", None), "next_deadline", None)
        reschedule = getattr(runner, "reschedule", None)
        # trio clears its queue in place and never replaces it (checked by tests/test_conductor.py), so the
        # object read here stays the run's queue.
        if isinstance(queue, list | deque) and callable(next_deadline) and callable(reschedule):
            return cls(
                queue=queue, next_deadline=next_deadline, reschedule=reschedule, park=_PARK_MESSAGE, internal=True
            )
        return cls.public()

    @classmethod
    def public(cls) -> Scheduler:
        """The reader through trio's public API only (what ``current`` falls back to)."""
        return cls(
            queue=_PublicQueue(),
            next_deadline=_public_next_deadline,
            reschedule=trio.lowlevel.reschedule,
            park=None,
            internal=False,
        )


class _PublicQueue:
    """Stands for trio's run queue where it cannot be reached: only its length, from the public statistics."""

    def __len__(self) -> int:
        return trio.lowlevel.current_statistics().tasks_runnable


def _public_next_deadline() -> float:
    return trio.current_time() + trio.lowlevel.current_statistics().seconds_to_next_deadline

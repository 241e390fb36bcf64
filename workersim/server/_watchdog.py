"""CPU limits for the dev server's workers, and a SIGTERM that stops a server whose worker is stuck in a loop.

A handler that never awaits blocks trio's one thread: no other request is served, and trio never gets to see a
signal. Cloudflare stops a request that uses more than its CPU limit; so does this watchdog. A trio instrument
adds up, per request, the CPU time of every task step that runs the request's code (its handler, its tasks, its
waitUntil work: the steps whose context carries its id). A CPU-time timer (``ITIMER_VIRTUAL``) interrupts the
process every few milliseconds of CPU; when the step running then belongs to a request over its limit, or a
SIGINT/SIGTERM has come while a request's step runs, the handler raises ``ExceededResources`` into that step
(only into the worker's own code, never into trio or the server), the request gets Cloudflare's error 1102 and
the server goes on (or shuts down).
"""

from __future__ import annotations

import os
import signal
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import trio

from ..kv.binding import REQUEST
from ..runtime import ExceededResources

TICK = 0.005
"""CPU seconds between two looks of the watchdog."""
STUCK = 0.1
"""CPU seconds a step must have run, once a shutdown signal has come, to be taken for stuck and stopped."""
_TRACKED = 10_000
"""Requests whose CPU time is remembered (the oldest are forgotten)."""


def _package_folder(module: Any) -> str:
    file: str = module.__file__
    return os.path.dirname(os.path.abspath(file)) + os.sep


def _protected_folders() -> tuple[str, ...]:
    import h11
    import hypercorn

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ours = tuple(os.path.join(package, layer) + os.sep for layer in ("core", "sim", "server"))
    return tuple(_package_folder(module) for module in (trio, hypercorn, h11)) + ours


class Watchdog(trio.abc.Instrument):
    """Counts each request's CPU time and stops a step that runs over ``cpu_limit`` seconds (``None``: no limit)."""

    def __init__(self, cpu_limit: float | None) -> None:
        self.cpu_limit = cpu_limit
        self._used: OrderedDict[str, float] = OrderedDict()
        self._step_started: float | None = None
        self._stopping = False
        self._protected = _protected_folders()

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        """A step starts: note the CPU clock (whose request it serves may be set only during the step)."""
        self._step_started = time.thread_time()

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        """A step ended: add its CPU time to the request it served, if any."""
        started, self._step_started = self._step_started, None
        ray = task.context.get(REQUEST, None)
        if started is None or ray is None:
            return
        self._used[ray] = self._used.pop(ray, 0.0) + time.thread_time() - started
        if len(self._used) > _TRACKED:
            self._used.popitem(last=False)

    def _over(self) -> str | None:
        """Why the running step must stop, if it must (a signal handler runs in the interrupted task's context,
        so the request it serves is the context's)."""
        started = self._step_started
        ray = REQUEST.get(None)
        if started is None or ray is None:
            return None
        if self._stopping and time.thread_time() - started > STUCK:
            return "the server is shutting down"
        if self.cpu_limit is not None:
            used = self._used.get(ray, 0.0) + time.thread_time() - started
            if used > self.cpu_limit:
                return f"it used more than its CPU limit of {self.cpu_limit * 1000:g} ms"
        return None

    def _interrupt(self, frame: FrameType | None) -> None:
        reason = self._over()
        if reason is None or frame is None or frame.f_code.co_filename.startswith(self._protected):
            return  # not now, or not in the worker's own code: the next tick looks again
        raise ExceededResources(f"the request was stopped: {reason}")

    def tick(self, signum: int, frame: FrameType | None) -> None:
        """The CPU timer's signal handler."""
        self._interrupt(frame)

    def stopping(self, frame: FrameType | None) -> None:
        """A shutdown signal came: from now on, stop any request step that keeps the CPU for ``STUCK`` seconds."""
        self._stopping = True
        self._interrupt(frame)


@contextmanager
def watchdog(cpu_limit: float | None) -> Iterator[Watchdog]:
    """Watch the current trio run's worker steps until the block ends. Call it inside ``stop_on_signals`` so that a
    shutdown signal reaches a stuck worker too."""
    dog = Watchdog(cpu_limit)
    trio.lowlevel.add_instrument(dog)
    previous: dict[int, Any] = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}

    def on_shutdown(number: int, frame: FrameType | None) -> None:
        handler = previous[number]
        if callable(handler):
            handler(number, frame)  # trio's own handler first: the server's shutdown starts
        dog.stopping(frame)

    for number in previous:
        signal.signal(number, on_shutdown)
    old_tick = signal.signal(signal.SIGVTALRM, dog.tick)
    signal.setitimer(signal.ITIMER_VIRTUAL, TICK, TICK)
    try:
        yield dog
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0, 0)
        signal.signal(signal.SIGVTALRM, old_tick)
        for number, handler in previous.items():
            signal.signal(number, handler)
        trio.lowlevel.remove_instrument(dog)

"""``ExecutionContext``: the ``ctx`` of a request, whose ``waitUntil`` work goes on after the response."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio

from ..sim.engine import task_identities

Spawn = Callable[[Awaitable[Any]], None]


@attrs.define(eq=False)
class ExecutionContext:
    """A request's ``ctx``: ``ctx.waitUntil(awaitable)`` (or ``ctx.wait_until``) keeps work going after the
    response is returned, as ``ctx.waitUntil`` does on Cloudflare.

    Work added while the handler runs starts once the response is returned; work added later (from other
    waitUntil work, say) starts at once. Work added by several tasks of one handler starts in the order of those
    tasks' stable identities, not in the order trio happened to run them, so runs stay reproducible. Leaving
    ``async with sim`` waits for all of it. Work that raises, or still runs 30 virtual seconds after the response
    (when Cloudflare cancels it), is reported in ``sim.worker_errors`` and does not change the response.
    """

    request: str
    """The id of the request this context belongs to."""
    _pending: list[tuple[tuple[int, ...], int, Awaitable[Any]]] | None = attrs.field(default=None, init=False)
    """Work added while the handler runs (made at the first: most handlers add none)."""
    _spawn: Spawn | None = attrs.field(default=None, init=False)

    def waitUntil(self, awaitable: Awaitable[Any]) -> None:  # noqa: N802 - the Workers name
        """Run ``awaitable`` (typically a coroutine, e.g. ``env.KV.put(...)``) after the response."""
        if not inspect.isawaitable(awaitable):
            raise TypeError(
                f"waitUntil() takes an awaitable such as a coroutine (e.g. ctx.waitUntil(env.KV.put(k, v))), "
                f"got {type(awaitable).__name__} {awaitable!r}"
            )
        if self._spawn is not None:
            self._spawn(awaitable)
            return
        identity = task_identities().of(trio.lowlevel.current_task())
        if self._pending is None:
            self._pending = []
        self._pending.append((identity, len(self._pending), awaitable))

    wait_until = waitUntil

    def holds(self, awaitable: object) -> bool:
        """Whether ``awaitable`` was handed to ``waitUntil`` and waits for the response to start."""
        return self._pending is not None and any(entry[2] is awaitable for entry in self._pending)

    def start(self, spawn: Spawn) -> None:
        """Start the work added so far with ``spawn`` (the response is out), and any added later at once.

        Called by the task that ran the handler, so the tasks it spawns get identities that follow its code.
        """
        if self._pending is not None:
            self._pending.sort(key=_order)
            for _, _, awaitable in self._pending:
                spawn(awaitable)
            self._pending = None
        self._spawn = spawn


def _order(entry: tuple[tuple[int, ...], int, Awaitable[Any]]) -> tuple[tuple[int, ...], int]:
    """Work in the order of the identities of the tasks that added it, then of adding."""
    return entry[0], entry[1]

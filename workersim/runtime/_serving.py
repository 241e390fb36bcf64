"""What a request's code (or a scheduled run's, or waitUntil work's) runs with beyond its KV bindings: outbound
fetch on the simulation's routes and asyncio tasks beside it.

The dispatcher's ``Serving`` of the running code is also the list the binding notes the code's KV calls in (the
list ``workersim.kv.binding.CALLS`` holds while the code runs), so that one context variable tells both: each
context variable set and reset around a request costs about 3,400 CPU instructions in a trio task, since it also
makes every variable's next read look the value up afresh.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..kv.binding import CALLS, Call

if TYPE_CHECKING:
    from ._request import Request
    from ._response import Response


class Serving(list[Call]):
    """The running code's way out to the simulation (the dispatcher's subclass says how), and the list of the KV
    calls it has made."""

    __slots__ = ()

    def outbound(self, request: Request) -> Awaitable[Response]:
        """Send an outbound request on the simulation's routes."""
        raise NotImplementedError

    def start_task(self, handed: Awaitable[Any], runner: Callable[[], Awaitable[None]]) -> None:
        """Start an asyncio task's ``runner`` beside the code (``handed``: the awaitable the task was given)."""
        raise NotImplementedError


def running() -> Serving | None:
    """The ``Serving`` of the code running now: ``None`` outside any request's, run's or waitUntil work's code."""
    calls = CALLS.get()
    return calls if isinstance(calls, Serving) else None

"""What a request's code (or a scheduled run's, or waitUntil work's) runs with, beyond its KV bindings: one context
variable that the dispatcher sets around it, rather than one for each thing, since setting and resetting a context
variable costs more than reading an attribute."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._request import Request
    from ._response import Response


class Serving(Protocol):
    """The running code's way out to the simulation."""

    def outbound(self, request: Request) -> Awaitable[Response]:
        """Send an outbound request on the simulation's routes."""

    def start_task(self, handed: Awaitable[Any], runner: Callable[[], Awaitable[None]]) -> None:
        """Start an asyncio task's ``runner`` beside the code (``handed``: the awaitable the task was given)."""


SERVING: ContextVar[Serving] = ContextVar("workersim_serving")
"""The running code's ``Serving`` (set by the dispatcher)."""

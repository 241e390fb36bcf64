"""What ``import workers`` gives a worker that workersim loads: the parts of Cloudflare's Python Workers SDK
that a simulated Worker uses, backed by workersim's own classes.

A worker file written for Cloudflare (``from workers import WorkerEntrypoint, Response``) therefore runs
unchanged. Outbound ``fetch``, Durable Objects and the other bindings are not simulated, so importing them
fails with an ``ImportError`` that names them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ._context import ExecutionContext as Context
from ._entrypoint import WorkerEntrypoint
from ._headers import Headers
from ._request import Request
from ._response import Response

F = TypeVar("F", bound=Callable[..., object])

__all__ = ["Context", "Headers", "Request", "Response", "WorkerEntrypoint", "handler"]


def handler(func: F) -> F:
    """The older SDK's ``@handler`` decorator for ``on_fetch``: on Cloudflare it converts JavaScript arguments to
    Python ones; here they already are Python objects, so it returns ``func`` unchanged."""
    return func

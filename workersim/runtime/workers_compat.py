"""What ``import workers`` gives a worker that workersim loads: the names of Cloudflare's Python Workers SDK
(``workers-runtime-sdk``) that real code imports, backed by workersim's own classes.

A worker file written for Cloudflare (``from workers import WorkerEntrypoint, Response, fetch``) therefore runs
unchanged, and so does one serving a web framework through ``from workers import asgi`` or ``wsgi``.
``DurableObject`` and ``WorkflowEntrypoint`` exist so that a file defining such classes loads; the bindings that
would reach them are not simulated (using one raises an error that says so).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ._asgi_bridge import asgi_module
from ._context import ExecutionContext as Context
from ._entrypoint import PYTHON_REQUEST, WorkerEntrypoint
from ._formdata import Blob, File, FormData
from ._headers import Headers
from ._js import make_request
from ._outbound import outbound_fetch
from ._request import Request
from ._response import Response
from ._wsgi_bridge import wsgi_module

F = TypeVar("F", bound=Callable[..., object])

FetchResponse = Response
"""What ``fetch`` returns: a ``Response``."""
Body = str | bytes | None
"""A body: text, bytes or nothing."""
FetchKwargs = dict[str, Any]
"""The options ``fetch`` takes: ``method``, ``headers``, ``body``."""
RequestInitCfProperties = dict[str, Any]
"""The ``cf`` options of an outbound request (accepted, not simulated)."""

__all__ = [
    "Blob",
    "Body",
    "Context",
    "DurableObject",
    "FetchKwargs",
    "FetchResponse",
    "File",
    "FormData",
    "Headers",
    "Request",
    "RequestInitCfProperties",
    "Response",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "asgi",
    "fetch",
    "handler",
    "import_from_javascript",
    "patch_env",
    "python_from_rpc",
    "python_to_rpc",
    "wsgi",
]

asgi = asgi_module()
"""``workers.asgi``: ``fetch(app, request, env)`` and ``entrypoint(app)`` for an ASGI application."""
wsgi = wsgi_module()
"""``workers.wsgi``: ``fetch(app, request, env)`` and ``entrypoint(app)`` for a WSGI application."""


def handler(func: F) -> F:
    """The older SDK's ``@handler`` decorator for ``on_fetch``: the handler then gets the Python ``Request`` (not
    the JavaScript one), as on Cloudflare."""
    setattr(func, PYTHON_REQUEST, True)
    return func


async def fetch(resource: Any, **options: Any) -> Response:
    """``workers.fetch(url_or_request, method=, headers=, body=)``: an outbound request, answered by the origin the
    simulation routes it to (``sim.route``)."""
    options.pop("fetcher", None)
    options.pop("cf", None)
    return await outbound_fetch(make_request(resource, None, options))


class DurableObject:
    """The base class of a Durable Object. The class can be defined; Durable Objects are not simulated."""

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class WorkflowEntrypoint:
    """The base class of a Workflow. The class can be defined; Workflows are not simulated."""

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


def python_to_rpc(value: Any) -> Any:
    """Values cross no JavaScript boundary here: ``value`` itself."""
    return value


def python_from_rpc(value: Any) -> Any:
    """Values cross no JavaScript boundary here: ``value`` itself."""
    return value


def import_from_javascript(module_name: str) -> Any:
    """JavaScript modules cannot be imported in a simulation: an ``ImportError`` naming the module."""
    raise ImportError(f"Failed to import {module_name!r}: JavaScript modules are not simulated by workersim")


@contextlib.contextmanager
def patch_env(mapping: Any = None, **values: Any) -> Iterator[None]:
    """Accepted for compatibility; ``env`` is passed to handlers here, so there is nothing to patch."""
    yield

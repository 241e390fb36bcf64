"""``from workers import wsgi`` (or ``import wsgi``): Cloudflare's bridge from a worker to a WSGI application (Flask,
Django, or any ``app(environ, start_response)``), run in-process.

``await wsgi.fetch(app, request, env)`` builds the PEP 3333 ``environ`` of the request (with the request's ``env``
under ``environ["workers.env"]``, as Python Workers put it), calls the application, and gives its status, headers
and body as a ``Response``; ``Default = wsgi.entrypoint(app)`` is the whole worker. The application runs on the
event loop, as it does in Pyodide, which has no threads: that keeps runs reproducible.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from ._entrypoint import WorkerEntrypoint
from ._request import JsRequest, Request
from ._response import Response

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
"""A WSGI application."""

_NULL_BODY_STATUSES = frozenset({101, 103, 204, 205, 304})


def python_request(req: Any, bridge: str) -> Request:
    """The request a bridge's ``fetch`` was given (the worker's request or its ``js_object``), as a ``Request``."""
    request = req.python_request if isinstance(req, JsRequest) else req
    if not isinstance(request, Request):
        raise TypeError(f"{bridge}.fetch takes the worker's request (or request.js_object), got {type(req).__name__}")
    return request


def build_environ(req: Request | JsRequest, env: Any, body: bytes | io.IOBase) -> dict[str, Any]:
    """The WSGI ``environ`` of ``req`` whose body is ``body`` (bytes, or a readable file for ``wsgi.input``)."""
    request = python_request(req, "wsgi")
    url = urlsplit(request.url)
    stream = io.BytesIO(body) if isinstance(body, bytes | bytearray) else body
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        # PEP 3333's native strings: the decoded path's bytes (UTF-8 or not), one character each.
        "PATH_INFO": unquote_to_bytes(url.path or "/").decode("latin-1"),
        "QUERY_STRING": url.query,
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme,
        "wsgi.input": stream,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "workers.env": env,
    }
    for name, value in request.headers.multi_items():
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    if "CONTENT_LENGTH" not in environ and isinstance(body, bytes | bytearray) and body:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def _respond(app: WsgiApp, environ: dict[str, Any]) -> Response:
    started: list[tuple[str, list[tuple[str, str]]]] = []
    body: list[bytes] = []  # what write() was given and the application yielded, in order

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        if started and exc_info is None:
            raise AssertionError("start_response() called more than once")
        if exc_info is not None and any(body):
            # PEP 3333: the headers went with the first byte of the body, so they can no longer change.
            raise exc_info[1].with_traceback(exc_info[2])
        # Before any of the body, an error handler's call (with exc_info) replaces the status and headers.
        started[:] = [(status, list(headers))]
        return body.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            body.append(bytes(chunk))
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("The WSGI application did not call start_response()")
    status_line, headers = started[0]
    code, _, reason = status_line.partition(" ")
    status = int(code)
    data = b"".join(body)
    return Response(None if status in _NULL_BODY_STATUSES else data, status, reason, headers)


async def fetch(app: WsgiApp, req: Request | JsRequest, env: Any, ctx: Any = None) -> Response:
    """Run the WSGI ``app`` on ``req`` (the worker's request or its ``js_object``) with ``env`` in
    ``environ["workers.env"]``; its response. An exception the application raises propagates."""
    request = python_request(req, "wsgi")
    return _respond(app, build_environ(request, env, await request.bytes()))


def entrypoint(app: WsgiApp) -> type[WorkerEntrypoint]:
    """The worker's ``Default`` class for a WSGI application: ``Default = wsgi.entrypoint(app)``."""

    class Default(WorkerEntrypoint):
        async def fetch(self, request: Request) -> Response:
            return await fetch(app, request, self.env, self.ctx)

    return Default


def wsgi_module() -> ModuleType:
    """A ``wsgi`` module: ``fetch``, ``entrypoint`` and ``build_environ``."""
    module = ModuleType("wsgi", __doc__)
    module.__dict__.update(fetch=fetch, entrypoint=entrypoint, build_environ=build_environ)
    return module

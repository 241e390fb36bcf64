"""``import asgi``: Cloudflare's bridge from a worker to an ASGI application (FastAPI, Starlette), run in-process.

``await asgi.fetch(app, request.js_object, env)`` runs ``app`` on the request, the way Python Workers do: a
lifespan startup and shutdown around each request, the request's ``env`` in ``scope["env"]``
(``request.scope["env"]`` in a FastAPI route, or the ``asgi.env`` dependency), and the app's response as a
``Response``. Pyodide has no threads, so a synchronous endpoint runs on the event loop here too (anyio's
``to_thread.run_sync`` runs it inline while a bridge call is active): that keeps runs reproducible.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit

import trio

from ._entrypoint import WorkerEntrypoint
from ._request import JsRequest, Request
from ._response import Response
from ._wsgi_bridge import python_request

_ASGI = {"version": "3.0", "spec_version": "2.3"}
_inline_users = 0
_real_run_sync: Any = None


@contextlib.contextmanager
def _threads_inline() -> Iterator[None]:
    """While any bridge call runs, anyio's worker threads run their function inline on the event loop."""
    global _inline_users, _real_run_sync
    try:
        import anyio.to_thread
    except ImportError:  # no anyio: nothing would start a thread
        yield
        return

    async def run_sync(func: Any, *args: Any, **_options: Any) -> Any:
        await trio.lowlevel.checkpoint()
        return func(*args)

    if _inline_users == 0:
        _real_run_sync = anyio.to_thread.run_sync
        anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]
    _inline_users += 1
    try:
        yield
    finally:
        _inline_users -= 1
        if _inline_users == 0:
            anyio.to_thread.run_sync = _real_run_sync


class _Lifespan:
    """An app's lifespan protocol around one request; apps without one (they raise on the scope) are fine."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._started = trio.Event()
        self._stop = trio.Event()
        self._finished = trio.Event()
        self._asked = False
        self.failure: str | None = None

    async def _receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "lifespan.startup"}
        await self._stop.wait()
        return {"type": "lifespan.shutdown"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.failed":
            self.failure = str(message.get("message", "lifespan startup failed"))
        if message["type"].startswith("lifespan.startup."):
            self._started.set()

    async def _run(self) -> None:
        try:
            await self.app({"type": "lifespan", "asgi": _ASGI, "state": self.state}, self._receive, self._send)
        except Exception:  # an app without lifespan support refuses the scope: carry on without one
            pass
        finally:
            self._started.set()
            self._finished.set()

    async def start(self, nursery: trio.Nursery) -> None:
        nursery.start_soon(self._run)
        await self._started.wait()
        if self.failure is not None:
            raise RuntimeError(f"the ASGI app's lifespan startup failed: {self.failure}")

    async def stop(self) -> None:
        self._stop.set()
        await self._finished.wait()


def _scope(request: Request, env: Any, state: dict[str, Any]) -> dict[str, Any]:
    parts = urlsplit(request.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in request.headers.multi_items()]
    return {
        "type": "http",
        "asgi": _ASGI,
        "http_version": "1.1",
        "method": request.method,
        "scheme": parts.scheme,
        "path": unquote(parts.path),
        "raw_path": parts.path.encode("latin-1"),
        "query_string": parts.query.encode("latin-1"),
        "root_path": "",
        "headers": headers,
        "server": (parts.hostname or "localhost", port),
        "client": (request.headers.get("cf-connecting-ip") or "127.0.0.1", 0),
        "state": dict(state),
        "env": env,
    }


async def _serve(app: Any, scope: dict[str, Any], body: bytes) -> Response:
    status: int | None = None
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []
    done = trio.Event()
    sent_body = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope, receive, send)
    finally:
        done.set()
    if status is None:
        raise RuntimeError("The application did not generate a response")
    data = b"".join(chunks)
    return Response(data if data or status not in (101, 204, 205, 304) else None, status=status, headers=headers)


async def fetch(app: Any, req: Request | JsRequest, env: Any, ctx: Any = None) -> Response:
    """Run the ASGI ``app`` on ``req`` (a request or its ``js_object``) with ``env`` in the scope; its response."""
    request = python_request(req, "asgi")
    body = await request.bytes()
    with _threads_inline():
        async with trio.open_nursery() as nursery:
            lifespan = _Lifespan(app)
            await lifespan.start(nursery)
            try:
                return await _serve(app, _scope(request, env, lifespan.state), body)
            finally:
                await lifespan.stop()


def entrypoint(app: Any) -> type[WorkerEntrypoint]:
    """The worker's ``Default`` class for an ASGI application: ``Default = asgi.entrypoint(app)``. A WebSocket
    upgrade raises ``NotImplementedError``: workersim does not simulate WebSockets."""

    class Default(WorkerEntrypoint):
        async def fetch(self, request: Request) -> Response:
            if (request.headers.get("upgrade") or "").lower() == "websocket":
                raise NotImplementedError("asgi.entrypoint: WebSocket requests are not simulated by workersim")
            return await fetch(app, request, self.env, self.ctx)

    return Default


class AsgiModule(ModuleType):
    """The ``asgi`` module: ``fetch``, and ``env`` as a FastAPI dependency (``env = Depends(...)`` style)."""

    def __getattr__(self, name: str) -> Any:
        if name == "env":
            from fastapi import Depends
            from fastapi import Request as FastAPIRequest

            async def env(request: FastAPIRequest) -> Any:
                return request.scope["env"]

            return Depends(env)
        raise AttributeError(f"module 'asgi' has no attribute {name!r}")


def asgi_module() -> AsgiModule:
    """A fresh ``asgi`` module."""
    module = AsgiModule("asgi", __doc__)
    module.__dict__.update(fetch=fetch, entrypoint=entrypoint)
    return module

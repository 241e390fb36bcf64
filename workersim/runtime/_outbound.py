"""Outbound HTTP from a worker (``js.fetch``, ``workers.fetch``, ``pyodide.http.pyfetch``): to origins the
simulation defines with ``sim.route``, after a latency in virtual time, so a run never touches the real network
unless asked to (``network=True``; ``workersim dev --network``)."""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

import attrs

from ..core.errors import WorkersimError
from ._request import Request
from ._response import Response
from ._serving import running
from ._url import absolute_url

Origin = Callable[[Request], Response | Awaitable[Response]]
"""An origin's handler: a request in, its response out."""
Fetch = Callable[[Request], Awaitable[Response]]
"""Outbound fetch: a request in, its response out (on the simulation's routes)."""


class FetchNotRouted(WorkersimError):
    """A worker fetched a URL the simulation has no route for (and the real network is not allowed)."""


@attrs.frozen(kw_only=True)
class Route:
    """Requests whose URL starts with ``prefix`` are answered by ``origin`` after ``latency`` virtual seconds."""

    prefix: str
    origin: Origin | Response | str | bytes
    latency: float = 0.0


def check_route(prefix: str, origin: object, latency: float) -> Route:
    """A ``Route``, or the ``ValueError``/``TypeError`` that says what is wrong with the arguments."""
    absolute_url(prefix, "route")
    if not (isinstance(origin, Response | str | bytes) or callable(origin)):
        raise TypeError(
            "a route answers with a Response, text, bytes or a function `async def origin(request) -> Response`, "
            f"got {type(origin).__name__}"
        )
    if isinstance(latency, bool) or not isinstance(latency, int | float) or not math.isfinite(latency) or latency < 0:
        raise ValueError(f"latency must be a number of seconds >= 0, got {latency!r}")
    return Route(prefix=prefix, origin=origin, latency=float(latency))


def find_route(routes: list[Route], url: str) -> Route | None:
    """The route with the longest prefix of ``url``, if any."""
    best: Route | None = None
    for route in routes:
        if url.startswith(route.prefix) and (best is None or len(route.prefix) > len(best.prefix)):
            best = route
    return best


async def answer(route: Route, request: Request) -> Response:
    """What ``route``'s origin answers to ``request``: a fresh copy of a fixed response, or its handler's."""
    origin = route.origin
    if isinstance(origin, Response):
        return origin.clone()
    if isinstance(origin, str | bytes):
        return Response(origin)
    result: Any = origin(request)
    if inspect.isawaitable(result):
        result = await result
    if isinstance(result, str | bytes):
        return Response(result)
    if not isinstance(result, Response):
        raise TypeError(f"the origin for {route.prefix} returned {type(result).__name__}, not a Response")
    return result


def not_routed(url: str) -> FetchNotRouted:
    """The error for a fetch of ``url`` that no route answers."""
    parts = url.split("/", 3)
    origin = "/".join(parts[:3]) + "/"
    return FetchNotRouted(
        f"fetch({url!r}) has no route: a simulation never reaches the real network. Define the origin with "
        f'sim.route("{origin}", handler_or_response, latency=0.05), or let requests out with '
        "Simulation(network=True) / workersim dev --network"
    )


async def real_fetch(request: Request) -> Response:
    """``request`` sent over the real network (only with ``network=True``)."""
    import httpx  # only where the real network is allowed

    async with httpx.AsyncClient(follow_redirects=True) as client:
        reply = await client.request(
            request.method,
            request.url,
            headers=request.headers.multi_items(),
            content=(await request.bytes()) or None,
        )
    headers = [(name, value) for name, value in reply.headers.multi_items() if name.lower() != "content-encoding"]
    status = reply.status_code if 200 <= reply.status_code <= 599 else 502
    return Response(reply.content or None, status=status, headers=headers)


async def outbound_fetch(request: Request) -> Response:
    """Send ``request`` the way the running request's simulation routes it."""
    serving = running()
    if serving is None:
        raise RuntimeError("fetch() is only available while a simulated worker handles a request")
    return await serving.outbound(request)


def httpx_module() -> ModuleType:
    """``httpx`` as a worker's own code sees it: ``httpx.AsyncClient`` sends through the simulation's routes (a
    transport given explicitly is kept). The synchronous API (``httpx.get``, ``httpx.Client``) is the real one."""
    import httpx

    from ._shims import Shim

    class SimulatedTransport(httpx.AsyncBaseTransport):
        """Carries an ``httpx`` request to ``outbound_fetch`` and its answer back."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            body = await request.aread()
            reply = await outbound_fetch(
                Request(str(request.url), method=request.method, headers=list(request.headers.multi_items()),
                        body=body or None)
            )  # fmt: skip
            return httpx.Response(reply.status, headers=reply.headers.multi_items(), content=await reply.bytes())

    class AsyncClient(httpx.AsyncClient):
        """``httpx.AsyncClient`` on the simulation's routes."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("transport", SimulatedTransport())
            super().__init__(*args, **kwargs)

    return Shim(httpx, AsyncClient=AsyncClient, SimulatedTransport=SimulatedTransport)

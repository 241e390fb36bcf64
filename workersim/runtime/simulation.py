"""``workersim.Simulation``: the store's simulation with a worker running on its edges."""

from __future__ import annotations

import os
from typing import Any

from ..sim.simulation import Simulation as StoreSimulation
from ..sim.simulation import engine
from ._config import load_config
from ._dispatch import Dispatcher, WorkerFailure
from ._loading import load_worker
from ._request import Request
from ._response import Response

NO_WORKER = (
    "this simulation has no worker: pass worker= (a fetch function, a WorkerEntrypoint subclass, a module or a "
    'file path) or use Simulation.from_config("wrangler.toml")'
)


class Simulation(StoreSimulation):
    """A simulated cluster of edge locations, each with its own replica of every KV namespace, and optionally a
    worker that serves requests on them (``sim.fetch``).

    Use it as ``async with sim:``; virtual time 0 is the moment it is entered. Under trio's ``MockClock``
    (``workersim.run`` or pytest-trio's ``autojump_clock``) simulated hours pass in wall-clock milliseconds, and
    the same seed always gives the same history. ``worker`` is a fetch function, a ``WorkerEntrypoint``
    subclass, a module or a worker file's path (see ``workersim.load_worker``); the other arguments are those of
    ``workersim.sim.Simulation``, the simulation of the store alone.
    """

    def __init__(self, *args: Any, worker: Any = None, **options: Any) -> None:
        super().__init__(*args, **options)
        self.worker = worker
        self._dispatcher = None if worker is None else Dispatcher(self, engine(self), load_worker(worker))

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], **options: Any) -> Simulation:
        """A simulation of the worker a wrangler configuration describes.

        ``path`` is a ``wrangler.toml``, ``wrangler.jsonc`` or ``wrangler.json``; its ``main`` file becomes the
        worker, its ``kv_namespaces`` the KV bindings and its ``vars`` the variables on ``env``. ``options`` are
        the other ``Simulation`` arguments (``edges``, ``seed``, ``max_delay``, ...). A bad file raises
        ``workersim.ConfigError`` naming the file and the problem.
        """
        config = load_config(path)
        return cls(kv_namespaces=config.kv_namespaces, vars=config.vars, worker=config.main, **options)

    async def __aenter__(self) -> Simulation:
        await super().__aenter__()
        if self._dispatcher is not None:
            await self._dispatcher.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self._dispatcher is not None:
                # waitUntil work may still call bindings, so the store stays open until it is done.
                await self._dispatcher.close(failed=exc_info[0] is not None)
        finally:
            await super().__aexit__(*exc_info)

    async def fetch(self, request: Request | str, /, *, edge: str | None = None, **init: Any) -> Response:
        """Run the worker at ``edge`` (default: the first edge) with that edge's ``env`` and return its ``Response``.

        ``request`` is a ``workersim.Request`` or a URL; ``init`` (``method=``, ``headers=``, ``body=``) builds or
        amends the request. Returns when the handler returns; its ``ctx.waitUntil`` work goes on, and leaving
        ``async with sim`` waits for it. A handler that raises, or returns something other than a ``Response``,
        gives a 500 and a ``worker_errors`` entry; the simulation goes on.
        """
        if self._dispatcher is None:
            raise RuntimeError(NO_WORKER)
        self.now_ms()  # refuses to run outside `async with sim`
        return await self._dispatcher.fetch(request, self.edges[0] if edge is None else edge, init)

    @property
    def worker_errors(self) -> list[WorkerFailure]:
        """Every failure inside the worker so far (handlers that raised, waitUntil work that raised), in order."""
        return [] if self._dispatcher is None else self._dispatcher.errors

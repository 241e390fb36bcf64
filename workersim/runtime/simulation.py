"""``workersim.Simulation``: the store's simulation with a worker running on its edges."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from ..core._hash import derive_seed
from ..sim.simulation import Simulation as StoreSimulation
from ..sim.simulation import engine
from ._config import load_config
from ._dispatch import Dispatcher, WorkerFailure
from ._isolate import Isolate, Isolates
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

    def __init__(
        self, *args: Any, worker: Any = None, isolate_idle_timeout: float | None = None, **options: Any
    ) -> None:
        super().__init__(*args, **options)
        self.worker = worker
        self._isolates: Isolates | None = None
        self._dispatcher: Dispatcher | None = None
        if isolate_idle_timeout is not None and not (
            isinstance(isolate_idle_timeout, int | float)
            and math.isfinite(isolate_idle_timeout)
            and isolate_idle_timeout > 0
        ):
            raise ValueError(f"isolate_idle_timeout must be a positive number of seconds, got {isolate_idle_timeout!r}")
        if isinstance(worker, str | os.PathLike):
            path = Path(worker).resolve()
            if not path.is_file():
                raise FileNotFoundError(f"worker file not found: {worker}")
            if path.suffix != ".py":
                raise ValueError(f"a worker file is a Python file (*.py), got {worker}")
            self._isolates = Isolates(
                path,
                clock=self._worker_clock,
                monotonic=self._worker_monotonic,
                seed_for=lambda edge, generation: derive_seed(self.seed, "isolate", edge, generation),
                idle_timeout=isolate_idle_timeout,
            )
            # Loaded once now, and thrown away, so that a file that does not load or defines no worker fails here
            # rather than at its first request.
            Isolate(path, clock=self._worker_clock, monotonic=self._worker_monotonic, seed=0)
            self._dispatcher = Dispatcher(self, engine(self), self._isolates.worker_for)
        elif worker is not None:
            shared = load_worker(worker)
            self._dispatcher = Dispatcher(self, engine(self), lambda _edge: shared)

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

    async def settle(self, request: Response | str | None = None) -> None:
        """Wait until the ``waitUntil`` work of one request (its ``Response``, or its id: the first part of its
        ``CF-Ray``) has finished, or every request's with no argument. Two requests sent at one virtual instant both
        run before either's ``waitUntil`` put lands: ``await sim.settle(first)`` between them orders them."""
        if self._dispatcher is None:
            return
        ray = (request.headers.get("cf-ray") or "").split("-")[0] if isinstance(request, Response) else request
        await self._dispatcher.settle(ray)

    def _worker_clock(self) -> float:
        # A worker file's module code may read the clock while it loads before the simulation starts.
        return self.unix_time() if engine(self).running else float(self.start_time)

    def _worker_monotonic(self) -> float:
        return self.now() if engine(self).running else 0.0

    def evict(self, edge: str | None = None) -> None:
        """Drop ``edge``'s isolate (every edge's with ``None``): its next request loads the worker file afresh, with
        empty module-level state, as after an isolate eviction on Cloudflare. Only a worker given as a file has
        isolates; for one given as a Python object this does nothing."""
        if edge is not None and edge not in self.edges:
            raise ValueError(f"unknown edge {edge!r}; the edges are {', '.join(self.edges)}")
        if self._isolates is not None:
            self._isolates.evict(edge)

    @property
    def worker_file(self) -> Path | None:
        """The worker's main file, when the worker was given as a file (``None`` for a Python object)."""
        return None if self._isolates is None else self._isolates.path

    def reload(self) -> None:
        """Load the worker file afresh at every edge, so that each edge's next request runs the new code (a dev
        server does this when the file changes); KV data is untouched. A file that does not load raises, as at
        construction, and every edge keeps the code it had. Only a worker given as a file can be reloaded."""
        if self._isolates is None:
            raise RuntimeError("only a worker given as a file can be reloaded")
        self._isolates.reload(self.edges)

    @property
    def worker_errors(self) -> list[WorkerFailure]:
        """Every failure inside the worker so far (handlers that raised, waitUntil work that raised), in order."""
        return [] if self._dispatcher is None else self._dispatcher.errors

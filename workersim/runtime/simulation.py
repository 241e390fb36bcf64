"""``workersim.Simulation``: the store's simulation with a worker running on its edges."""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Coroutine, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ..core._hash import derive_seed
from ..core.errors import WorkersimError
from ..core.rows import pack_log
from ..sim.simulation import Simulation as StoreSimulation
from ..sim.simulation import engine
from ._assets import AssetsBinding, AssetServer
from ._cf import cf_properties
from ._config import Assets, WorkerConfig, config_file, load_config, vendor_folders
from ._cron import check_cron
from ._dispatch import Dispatcher, WorkerFailure
from ._isolate import Isolate, Isolates, Services, add_vendored_packages
from ._loading import load_worker
from ._outbound import Origin, Route, answer, check_route, find_route, not_routed, real_fetch
from ._request import Request
from ._response import Response
from ._unsimulated import NotSimulated

worker_log = logging.getLogger("workersim.worker")
"""Where a worker's ``console`` lines are logged (``workersim dev`` shows them)."""


class BindingNotSimulated(WorkersimError):
    """A worker used a binding its configuration declares but workersim does not simulate (D1, R2, ...)."""


class UnsimulatedBindingWarning(UserWarning):
    """A configuration declares bindings workersim does not simulate."""


@attrs.frozen(kw_only=True)
class LogLine:
    """One line a worker logged: ``console.log``/``info``/``warn``/``error`` or ``print``."""

    edge: str
    request: str | None
    """The id of the request (or scheduled run) that logged it."""
    level: str
    message: str
    time: float
    """Virtual seconds."""


_LEVELS = {"debug": logging.DEBUG, "log": logging.INFO, "info": logging.INFO, "warn": logging.WARNING,
           "error": logging.ERROR}  # fmt: skip


def _discard(edge: str, level: str, text: str, echo: bool) -> None:
    """The log of the probe load at construction: its lines are not the run's."""


NO_WORKER = (
    "this simulation has no worker: pass worker= (a fetch function, a WorkerEntrypoint subclass, a module or a "
    "file path, a wrangler configuration or a project folder)"
)


class Simulation(StoreSimulation):
    """A simulated cluster of edge locations, each with its own replica of every KV namespace, and optionally a
    worker that serves requests on them (``sim.fetch``).

    Use it as ``async with sim:``; virtual time 0 is the moment it is entered. Under trio's ``MockClock``
    (``workersim.run`` or pytest-trio's ``autojump_clock``) simulated hours pass in wall-clock milliseconds, and
    the same seed always gives the same history. ``worker`` is a fetch function, a ``WorkerEntrypoint``
    subclass, a module or a worker file's path (see ``workersim.load_worker``), or a wrangler configuration or the
    project folder holding one (see ``from_config``, whose ``environment`` it takes too); the other arguments are
    those of ``workersim.sim.Simulation``, the simulation of the store alone.
    """

    def __init__(
        self,
        *args: Any,
        worker: Any = None,
        isolate_idle_timeout: float | None = None,
        secrets: Mapping[str, str] | None = None,
        network: bool = False,
        cf: Mapping[str, Mapping[str, Any]] | None = None,
        crons: Iterable[str] | None = None,
        scheduled_edge: str | None = None,
        assets: Assets | None = None,
        unsimulated: Mapping[str, str] | None = None,
        cpu_ms: int | None = None,
        environment: str | None = None,
        **options: Any,
    ) -> None:
        config = None
        if isinstance(worker, str | os.PathLike) and Path(worker).suffix != ".py":
            # A wrangler configuration, or a project folder holding one: what `wrangler dev` would run.
            config = load_config(config_file(worker), environment)
            worker = config.main
            given = options.get("kv_namespaces", ())
            given = (given,) if isinstance(given, str) else given  # one name, as the store simulation takes it
            options["kv_namespaces"] = tuple(dict.fromkeys((*config.kv_namespaces, *given)))
            options["vars"] = {**config.vars, **(options.get("vars") or {})}
            secrets = {**config.secrets, **(secrets or {})}
            crons = config.crons if crons is None else crons
            assets = config.assets if assets is None else assets
            unsimulated = config.unsimulated if unsimulated is None else unsimulated
            cpu_ms = config.cpu_ms if cpu_ms is None else cpu_ms
        elif environment is not None:
            raise ValueError(f"environment= picks a section of a wrangler configuration; the worker is {worker!r}")
        self.config: WorkerConfig | None = config
        """The wrangler configuration the worker came from, when ``worker`` named one (or its project folder)."""
        self.secrets = dict(secrets or {})
        self.cpu_ms = cpu_ms
        """The CPU milliseconds a request may use (``[limits] cpu_ms``): enforced by ``workersim dev``, which has a
        real CPU to measure; a simulation's handlers run on virtual time and are not stopped."""
        variables = dict(options.pop("vars", None) or {})
        super().__init__(*args, vars={**variables, **self.secrets}, **options)
        self.worker = worker
        self.network = bool(network)
        """Whether outbound requests no route answers go to the real network."""
        self.routes: list[Route] = []
        """The origins outbound requests go to (``route``)."""
        self.logs: list[LogLine] = []
        """Every line the worker logged, in order (also in the history as ``log`` rows)."""
        unknown = sorted(set(cf or {}) - set(self.edges))
        if unknown:
            raise ValueError(f"cf= names edges this simulation does not have: {', '.join(unknown)}")
        self._cf = {edge: cf_properties(edge, index, (cf or {}).get(edge)) for index, edge in enumerate(self.edges)}
        self.crons = tuple(crons or ())
        """The cron expressions that run the worker's ``scheduled`` handler as virtual time passes."""
        for cron in self.crons:
            check_cron(cron, "crons=")
        if scheduled_edge is not None and scheduled_edge not in self.edges:
            raise ValueError(f"unknown scheduled_edge {scheduled_edge!r}; the edges are {', '.join(self.edges)}")
        self.scheduled_edge = self.edges[0] if scheduled_edge is None else scheduled_edge
        """The edge where cron triggers run the ``scheduled`` handler."""
        self._assets = None if assets is None else AssetServer(assets)
        self._unsimulated = dict(unsimulated or {})
        if self._unsimulated:
            listed = ", ".join(f"{name} ({what})" for name, what in self._unsimulated.items())
            warnings.warn(
                f"workersim does not simulate these bindings, and using one raises BindingNotSimulated: {listed}",
                UnsimulatedBindingWarning,
                stacklevel=2,
            )
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
            add_vendored_packages(vendor_folders(path, None if config is None else config.path.parent))
            services = Services(clock=self._worker_clock, monotonic=self._worker_monotonic, log=self._log)
            self._isolates = Isolates(
                path,
                services=services,
                seed_for=lambda edge, generation: derive_seed(self.seed, "isolate", edge, generation),
                idle_timeout=isolate_idle_timeout,
            )
            # Loaded once now, and thrown away, so that a file that does not load or defines no worker fails here
            # rather than at its first request.
            Isolate(path, services=attrs.evolve(services, log=_discard), edge=self.edges[0], seed=0)
            self._dispatcher = Dispatcher(self, engine(self), self._isolates.worker_for)
        elif worker is not None:
            self._dispatcher = Dispatcher(self, engine(self), load_worker(worker))

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], *, environment: str | None = None, **options: Any) -> Simulation:
        """A simulation of the worker a wrangler configuration describes, as ``wrangler dev`` would run it: the same
        as ``Simulation(worker=path, environment=environment, **options)``.

        ``path`` is a ``wrangler.toml``, ``wrangler.jsonc`` or ``wrangler.json`` (or the project folder holding
        one); ``environment`` picks an ``[env.NAME]`` section. Its ``main`` file becomes the worker, its
        ``kv_namespaces`` the KV bindings, its ``vars`` and the secrets in ``.dev.vars`` (or ``.env``) beside it the
        variables on ``env``, its ``[triggers] crons`` the cron triggers and its ``[assets]`` the static files.
        ``options`` are the other ``Simulation`` arguments (``edges``, ``seed``, ...); ``vars=``, ``secrets=`` and
        ``kv_namespaces=`` are merged with the file's;
        ``crons=`` replaces its crons (``crons=()``: none). Bindings it declares that workersim does not simulate (D1,
        R2, Durable Objects, queues, services...) give one ``UnsimulatedBindingWarning`` naming them, and using one
        raises ``BindingNotSimulated``. A bad file raises ``workersim.ConfigError`` naming the file and the problem.
        """
        return cls(worker=config_file(path), environment=environment, **options)

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

    def _more_bindings(self, edge: str) -> dict[str, Any]:
        bindings: dict[str, Any] = {
            name: NotSimulated(
                f"env.{name}",
                f"env.{name} is {what}, which workersim does not simulate",
                BindingNotSimulated,
                tail="; only KV namespaces, variables, secrets and static assets are simulated",
            )
            for name, what in self._unsimulated.items()
        }
        if self._assets is not None and self._assets.assets.binding:
            bindings[self._assets.assets.binding] = AssetsBinding(self._assets)
        return bindings

    def cf(self, edge: str) -> dict[str, Any]:
        """The ``request.cf`` properties of a request served at ``edge`` (a copy)."""
        if edge not in self._cf:
            raise ValueError(f"unknown edge {edge!r}; the edges are {', '.join(self.edges)}")
        return dict(self._cf[edge])

    def route(self, prefix: str, origin: Origin | Response | str | bytes, *, latency: float = 0.0) -> None:
        """Answer the worker's outbound requests (``js.fetch``, ``workers.fetch``, ``pyfetch``) to URLs starting
        with ``prefix`` with ``origin``: a ``Response`` (a fresh copy each time), text, bytes, or a function
        ``async def origin(request) -> Response``, after ``latency`` virtual seconds. The longest matching
        prefix wins. A request no route matches fails with ``FetchNotRouted`` naming its URL, unless the
        simulation was made with ``network=True``."""
        self.routes.append(check_route(prefix, origin, latency))

    async def _outbound(self, request: Request) -> Response:
        route = find_route(self.routes, request.url)
        if route is None:
            if self.network:
                return await real_fetch(request)
            raise not_routed(request.url)
        if route.latency:
            await self.sleep(route.latency)
        return await answer(route, request)

    def _log(self, edge: str, level: str, text: str, echo: bool) -> None:
        from ..kv.binding import REQUEST

        running = engine(self).running
        request = REQUEST.get(None)
        time = self.now() if running else 0.0
        self.logs.append(LogLine(edge=edge, request=request, level=level, message=text, time=time))
        if echo:
            worker_log.log(_LEVELS.get(level, logging.INFO), "%s %s", edge, text)
        if running:
            engine(self).record_with_next_turn(
                pack_log(edge=edge, op="log", request=request, level=level, message=text, invoke=time, complete=time)
            )

    async def trigger_scheduled(self, cron: str | None = None, *, edge: str | None = None) -> None:
        """Run the worker's ``scheduled`` handler now, as the cron trigger ``cron`` (default: the first of
        ``crons``, else ``"* * * * *"``) would, at ``edge`` (default ``scheduled_edge``); returns when the handler
        has (its ``waitUntil`` work goes on)."""
        if self._dispatcher is None:
            raise RuntimeError(NO_WORKER)
        self.now_ms()  # refuses to run outside `async with sim`
        cron = cron if cron is not None else (self.crons[0] if self.crons else "* * * * *")
        check_cron(cron, "trigger_scheduled")
        where = self.scheduled_edge if edge is None else edge
        if where not in self.edges:
            raise ValueError(f"unknown edge {where!r}; the edges are {', '.join(self.edges)}")
        await self._dispatcher.scheduled(cron, where, self.unix_time())

    def fetch(
        self, request: Request | str, /, *, edge: str | None = None, **init: Any
    ) -> Coroutine[Any, Any, Response]:
        """Run the worker at ``edge`` (default: the first edge) with that edge's ``env`` and return its ``Response``
        (``await sim.fetch(...)``).

        ``request`` is a ``workersim.Request`` or a URL; ``init`` (``method=``, ``headers=``, ``body=``) builds or
        amends the request. Returns when the handler returns; its ``ctx.waitUntil`` work goes on, and leaving
        ``async with sim`` waits for it. A handler that raises, or returns something other than a ``Response``,
        gives a 500 and a ``worker_errors`` entry; the simulation goes on.
        """
        # A plain method returning the dispatcher's coroutine: one coroutine frame less on every request. It can
        # raise nothing itself: any error comes when the coroutine is awaited, as from an `async def`.
        where = self.edges[0] if edge is None else edge
        if self._dispatcher is None or self._assets is not None:
            return self._fetch_around(request, where, init)
        return self._dispatcher.fetch(request, where, init)  # which refuses to run outside `async with sim`

    async def _fetch_around(self, request: Request | str, where: str, init: dict[str, Any]) -> Response:
        """``fetch`` with static assets served before the worker, or without a worker."""
        if self._assets is not None and not self._assets.assets.run_worker_first:
            if init or not isinstance(request, Request):
                request = Request(request, **init)
                init = {}
            found = self._assets.lookup(request)
            if found is not None or self._dispatcher is None:
                return found or self._assets.fallback(request)
        if self._dispatcher is None:
            raise RuntimeError(NO_WORKER)
        return await self._dispatcher.fetch(request, where, init)  # which refuses to run outside `async with sim`

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

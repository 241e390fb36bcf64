"""Running a worker's requests inside a simulation: request ids, history rows, errors and waitUntil work."""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import reprlib
import traceback
from collections.abc import Awaitable, Callable, Mapping
from types import CoroutineType
from typing import Any, Protocol

import attrs
import trio

from ..core.delays import DelayModel
from ..core.rows import error_text, pack_fetch, pack_response, pack_scheduled
from ..kv.binding import CALLS, REQUEST
from ..sim.engine import Engine, task_identities
from ._cf import visitor_country
from ._context import ExecutionContext
from ._cron import ScheduledController, next_fire
from ._headers import is_value
from ._loading import Worker
from ._request import Request
from ._response import Response
from ._serving import Serving


class Host(Protocol):
    """What the dispatcher needs of the simulation it serves."""

    seed: int
    delays: DelayModel
    edges: tuple[str, ...]
    crons: tuple[str, ...]
    scheduled_edge: str

    def env(self, edge: str) -> Any: ...
    def cf(self, edge: str) -> dict[str, Any]: ...
    def unix_time(self) -> float: ...
    async def sleep(self, seconds: float) -> None: ...
    async def _outbound(self, request: Request) -> Response: ...


log = logging.getLogger("workersim.runtime")

WAIT_UNTIL_LIMIT = 30.0
"""Seconds that waitUntil work may run after the response; Cloudflare cancels it then."""


@attrs.frozen
class WorkerFailure:
    """The record of a failure inside a worker: a fetch handler that raised or returned something other than a
    ``Response`` (``phase="fetch"``; the request got a 500), a ``scheduled`` handler that raised
    (``phase="scheduled"``), or waitUntil work that raised (``phase="waitUntil"``)."""

    request: str
    """The request id (the first part of its ``CF-Ray``)."""
    edge: str
    phase: str
    error: BaseException
    traceback: str = attrs.field(repr=False)
    """The formatted traceback."""

    def __str__(self) -> str:
        return f"request {self.request} at {self.edge} ({self.phase}): {type(self.error).__name__}: {self.error}"


def not_a_response(result: object, awaited: object = None) -> TypeError:
    """The error for a handler that returned ``result`` instead of a ``Response`` (through the awaitable
    ``awaited`` it returned, if it returned one), with the likely cause."""
    if awaited is not None:
        return TypeError(
            f"the worker's fetch handler returned {type(awaited).__name__} {reprlib.repr(awaited)}, which gave "
            f"{type(result).__name__} {reprlib.repr(result)}, not a Response: is an `await` missing?"
        )
    if result is None:
        hint = "does the handler end without a `return`?"
    else:
        hint = "wrap it, e.g. `return Response(text)` or `return Response.json(data)`"
    return TypeError(
        f"the worker's fetch handler returned {type(result).__name__} {reprlib.repr(result)}, not a Response: {hint}"
    )


class ExceededResources(BaseException):
    """Raised into a handler that went over its CPU limit (``workersim dev --cpu-ms``), as Cloudflare stops such a
    request. A ``BaseException``, so an ``except Exception`` in the handler does not swallow it."""


def _error_response(ray: str, error: BaseException) -> Response:
    # Cloudflare answers an uncaught exception with its error 1101 page, and a request stopped for going over its
    # limits with error 1102; these are those pages as plain text.
    if isinstance(error, ExceededResources):
        return Response(f"Error 1102: Worker exceeded resource limits (Ray ID: {ray})\n{error}\n", 503)
    return Response(f"Error 1101: Worker threw exception (Ray ID: {ray})\n{type(error).__name__}: {error}\n", 500)


@attrs.define
class Dispatcher:
    """Serves a simulation's requests with its worker.

    Each request gets an id drawn from the seed and the calling task's stable identity, a ``fetch`` history row
    (its arrival, recorded together with the request's first operation) and a ``response`` row when the handler
    returns (both ordered by the conductor, so the history is reproducible), and the ``request`` field on every
    KV row its handler and waitUntil work make. waitUntil work runs in a
    nursery that lives as long as ``async with sim``.
    """

    sim: Host
    engine: Engine
    workers: Worker | Callable[[str], Worker]
    """The worker every edge runs, or what gives the worker that serves an edge (its isolate's, which changes)."""
    errors: list[WorkerFailure] = attrs.field(factory=list)
    _work: dict[str, int] = attrs.field(factory=dict, init=False)
    """waitUntil tasks still running, per request."""
    _settled: trio.Event = attrs.field(factory=trio.Event, init=False)
    """Set (and replaced) whenever some request's waitUntil work has all finished."""
    _stack: contextlib.AsyncExitStack = attrs.field(factory=contextlib.AsyncExitStack, init=False)
    _nursery: trio.Nursery | None = attrs.field(default=None, init=False)
    _crons: trio.CancelScope = attrs.field(factory=trio.CancelScope, init=False)
    _places: dict[str, _Place] = attrs.field(factory=dict, init=False)
    _clock: trio.abc.Clock = attrs.field(default=None, init=False)
    """The run's clock (set by ``open``): ``trio.current_time()`` without the two calls on its way there."""
    _serial: Callable[[trio.lowlevel.Task], tuple[tuple[int, ...], int]] = attrs.field(default=None, init=False)
    """The run's ``TaskIdentities.serial`` (set by ``open``)."""
    _identity: tuple[int, ...] | None = attrs.field(default=None, init=False)
    """The identity of the task that last asked for a request id (held: an identity is compared by ``is``)."""
    _named: hashlib.blake2b = attrs.field(factory=hashlib.blake2b, init=False)
    """The hash of the start of that task's request ids."""

    def _goes_on_up(self, error: BaseException) -> bool:
        """Whether ``error`` ends the task rather than failing the worker: trio cancelling it, or the delay model
        stopping the run (``escapes``; hypothesis ending an example from inside a draw)."""
        escapes: tuple[type[BaseException], ...] = getattr(self.sim.delays, "escapes", ())
        return _is_cancellation(error) or isinstance(error, escapes)

    async def open(self) -> None:
        """Open the nursery for waitUntil work (in ``async with sim``), and start the cron triggers, if any."""
        self._clock = trio.lowlevel.current_clock()
        self._serial = task_identities().serial
        self._nursery = await self._stack.enter_async_context(trio.open_nursery())
        if self.sim.crons and self._worker_for(self.sim.scheduled_edge).has_scheduled:
            self._nursery.start_soon(self._run_crons, name="cron triggers")

    async def close(self, failed: bool) -> None:
        """Wait for all waitUntil work; if the ``async with sim`` body ``failed``, cancel it instead."""
        assert self._nursery is not None
        self._crons.cancel()
        if failed:
            self._nursery.cancel_scope.cancel()
        # Exited as if without an error: the body's own exception, if any, goes on from Simulation.__aexit__
        # unwrapped, rather than inside an ExceptionGroup of this nursery.
        try:
            await self._stack.aclose()
        finally:
            self._nursery = None

    def _start_task(self, serving: _Serving, handed: Awaitable[Any], runner: Callable[[], Awaitable[None]]) -> None:
        """Start an asyncio task of a request's code as work of that request (``settle`` waits for it, and it
        stops at the 30-second limit after the response, as waitUntil work does)."""
        if serving.handed is None:
            serving.handed = set()
        serving.handed.add(id(handed))
        deadline = serving.deadline if serving.deadline is not None else trio.current_time() + WAIT_UNTIL_LIMIT
        self._spawn_work(serving.ray, serving.edge, deadline, runner())

    def _place(self, edge: str) -> _Place:
        """What serving at ``edge`` needs, looked up once (an unknown edge is a ``ValueError``)."""
        env, cf, index = self.sim.env(edge), self.sim.cf(edge), self.sim.edges.index(edge)
        fixed = self.workers if isinstance(self.workers, Worker) else None
        place = self._places[edge] = _Place(edge, env, cf, index, fixed)
        return place

    def _worker_for(self, edge: str) -> Worker:
        return self.workers if isinstance(self.workers, Worker) else self.workers(edge)

    async def fetch(self, request: Request | str, edge: str, init: Mapping[str, Any]) -> Response:
        """Run the worker at ``edge`` for ``request`` (a ``Request``, or a URL that ``init`` completes) and return
        its response: a 500 if the handler failed. Bad arguments are refused before anything is recorded."""
        engine = self.engine
        start = engine.now_ms()  # first: refuses to run outside `async with sim`
        place = self._places.get(edge) or self._place(edge)
        if isinstance(request, str) and not init:  # a URL alone, the usual case: made as it arrives in one step
            request = Request._arriving(request, place.cf, place.index, place.country)
        else:
            if init or not isinstance(request, Request):
                request = Request(request, **init)
            request._at_edge(place.cf, place.index, place.country)
        ray = self._new_id()
        # The arrival row is recorded with the request's first operation: reproducible without a turn of its own.
        seconds = start / 1000
        engine.record_with_next_turn(
            pack_fetch(
                edge=edge, op="fetch", request=ray, method=request._method, url=request._url, invoke=seconds,
                complete=seconds,
            )
        )  # fmt: skip
        ctx = ExecutionContext(ray)
        failure: BaseException | None = None
        serving = _Serving(self, ray, edge, None)
        try:
            result = (place.worker or self._worker_for(edge)).call(request, place.env, ctx)
            if type(result) is CoroutineType or inspect.isawaitable(result):  # the usual case tested first
                result = await result
            # As JavaScript resolves a promise whose value is itself a promise, an awaitable the handler returns
            # (`return fetch(url)` or `return handle(request)` without `await`) is awaited in turn, on Cloudflare
            # as here.
            if type(result) is not Response:
                awaited = None
                while inspect.isawaitable(result):
                    awaited = result
                    result = await result
                if not isinstance(result, Response):
                    raise not_a_response(result, awaited)
            response = result
        except BaseException as error:
            if self._goes_on_up(error):
                raise
            failure = error
            response = _error_response(ray, error)
            self._report(ray, edge, "fetch", error)
        finally:
            serving.leave(ctx, "fetch")
        if place.ray_suffix is None:  # an edge name no header value can hold: refused as the header refuses it
            response.headers.set("cf-ray", f"{ray}-{edge}")
        else:
            response._set_ray(ray + place.ray_suffix)
        await engine.turn(serving.respond, (start, response._status, failure))
        serving.after = self._clock.current_time() + WAIT_UNTIL_LIMIT
        ctx.start(serving.spawn)
        return response

    async def _run_crons(self) -> None:
        with self._crons:
            async with trio.open_nursery() as nursery:
                for cron in self.sim.crons:
                    nursery.start_soon(self._cron, cron, name=f"cron {cron}")

    async def _cron(self, cron: str) -> None:
        """Fire ``cron`` every time it comes due in virtual time (UTC), each run in a task of its own."""
        last = self.sim.unix_time()
        while True:
            due = next_fire(cron, max(last, self.sim.unix_time()))
            await self.sim.sleep(max(0.0, due - self.sim.unix_time()))
            last = due
            assert self._nursery is not None
            self._nursery.start_soon(self.scheduled, cron, self.sim.scheduled_edge, due, name=f"scheduled {cron}")

    async def scheduled(self, cron: str, edge: str, due: float) -> None:
        """Run the worker's ``scheduled`` handler at ``edge`` for ``cron`` (due at UNIX time ``due``)."""
        env = self.sim.env(edge)
        ray = self._new_id()
        now = self.engine.now_ms() / 1000
        self.engine.record_with_next_turn(
            pack_scheduled(edge=edge, op="scheduled", request=ray, cron=cron, invoke=now, complete=now)
        )
        ctx = ExecutionContext(ray)
        serving = _Serving(self, ray, edge, None)
        try:
            await self._worker_for(edge).scheduled(ScheduledController(cron, due * 1000), env, ctx)
        except BaseException as error:
            if self._goes_on_up(error):
                raise
            self._report(ray, edge, "scheduled", error)
        finally:
            serving.leave(ctx, "scheduled")
        await self.engine.flush_rows()
        serving.after = trio.current_time() + WAIT_UNTIL_LIMIT
        ctx.start(serving.spawn)

    def _new_id(self) -> str:
        # From the calling task's stable identity: reproducible without a conductor turn of its own.
        identity, serial = self._serial(trio.lowlevel.current_task())
        # The hash of "seed/identity/serial", from a copy of the hash of its start as the last task to ask had it:
        # the same task usually asks again, and formatting its identity costs more than the hashing.
        if identity is not self._identity:
            self._identity = identity
            self._named = hashlib.blake2b(f"{self.sim.seed}/{identity}/".encode(), digest_size=8)
        named = self._named.copy()
        named.update(b"%d" % serial)
        return named.hexdigest()

    def _spawn_work(self, ray: str, edge: str, deadline: float, work: Awaitable[Any]) -> None:
        if self._nursery is None:
            raise RuntimeError("waitUntil work cannot start: the simulation is not running")
        self._work[ray] = self._work.get(ray, 0) + 1
        self._nursery.start_soon(self._run_work, work, ray, edge, deadline, name=f"waitUntil of request {ray}")

    async def settle(self, ray: str | None = None) -> None:
        """Wait until request ``ray``'s waitUntil work has finished (every request's with ``None``)."""
        while (ray in self._work) if ray is not None else bool(self._work):
            await self._settled.wait()

    def _finished(self, ray: str) -> None:
        left = self._work[ray] - 1
        if left:
            self._work[ray] = left
            return
        del self._work[ray]
        self._settled.set()
        self._settled = trio.Event()

    async def _run_work(self, work: Awaitable[Any], ray: str, edge: str, deadline: float) -> None:
        try:
            serving = _Serving(self, ray, edge, deadline)
            try:
                await self._work_within(work, ray, edge, deadline)
                await self.engine.flush_rows()
            finally:
                serving.leave(None, "waitUntil")
        finally:
            self._finished(ray)

    async def _work_within(self, work: Awaitable[Any], ray: str, edge: str, deadline: float) -> None:
        try:
            with trio.move_on_at(deadline) as limit:
                await work
        except BaseException as error:  # reported, as Cloudflare logs a failed waitUntil promise; the rest goes on
            if self._goes_on_up(error):
                raise
            self._report(ray, edge, "waitUntil", error)
            return
        if limit.cancelled_caught:
            late = TimeoutError(
                f"waitUntil work was still running {WAIT_UNTIL_LIMIT:g} s after the response, so it "
                "was cancelled (Cloudflare's limit)"
            )
            self._report(ray, edge, "waitUntil", late)

    def _check_awaited(self, serving: _Serving, ctx: ExecutionContext | None, phase: str) -> None:
        """Report each KV call the code made but never awaited (nor handed to ``waitUntil`` or a task): it never
        ran."""
        ray, edge = serving.ray, serving.edge
        for call in serving:
            coroutine = call.coroutine
            # A finished call (the usual case) has no frame left: no need to ask for its state.
            finished = coroutine.cr_frame is None  # type: ignore[attr-defined]  # binding calls give coroutine objects
            if finished or inspect.getcoroutinestate(coroutine) != inspect.CORO_CREATED:
                continue
            if (ctx is not None and ctx.holds(coroutine)) or (serving.handed and id(coroutine) in serving.handed):
                continue
            coroutine.close()  # never to run: closed here rather than left for a RuntimeWarning at exit
            self._report(ray, edge, phase, RuntimeError(
                f"{call.what} at {call.file}:{call.line} was never awaited, so it did nothing: write "
                f"`await {call.what[:-2]}(...)`, or hand it to ctx.waitUntil() to run after the response"
            ))  # fmt: skip

    def _report(self, ray: str, edge: str, phase: str, error: BaseException) -> None:
        text = "".join(traceback.format_exception(error))
        self.errors.append(WorkerFailure(ray, edge, phase, error, text))
        log.error("worker error in %s of request %s at %s:\n%s", phase, ray, edge, text.rstrip())


class _Place:
    """An edge as the dispatcher serves it: its ``env``, the ``request.cf`` defaults of a visitor there (shared by
    every request, never changed) and that visitor's country, its index, and what follows the request id in the
    ``CF-Ray`` header of its responses (``None`` if the edge's name is no valid header value); its worker when
    that never changes (``None``: ask the dispatcher's ``workers`` each time)."""

    __slots__ = ("cf", "country", "env", "index", "ray_suffix", "worker")

    def __init__(self, edge: str, env: Any, cf: Mapping[str, Any], index: int, worker: Worker | None) -> None:
        self.worker = worker
        self.env = env
        self.cf = cf
        self.country = visitor_country(cf)
        self.index = index
        # Checked once here, after an id's last character, as `Headers.set` would check the whole value.
        self.ray_suffix = f"-{edge}" if is_value(f"0-{edge}") else None


class _Serving(Serving):
    """One request's (or run's, or waitUntil work's) running state, and the context its code runs in from its
    making until ``leave``: its id on every KV row, the list its KV calls are noted in (itself: see ``Serving``) so
    the ones never awaited can be reported, its outbound fetch on the simulation's routes and asyncio tasks beside
    it.

    Not a context manager: a ``with`` statement costs twice what a call of ``leave`` in a ``finally`` does."""

    __slots__ = ("_calls_token", "_dispatcher", "_request_token", "after", "deadline", "edge", "handed", "ray")
    after: float
    """When its waitUntil work is cut off: 30 s after the response (set then, before ``spawn`` is handed out)."""

    def __init__(self, dispatcher: Dispatcher, ray: str, edge: str, deadline: float | None) -> None:
        self._dispatcher = dispatcher
        self.ray = ray
        self.edge = edge
        self.deadline = deadline
        """When its asyncio tasks are cut off (waitUntil work's own limit), or None: 30 s after they start."""
        self.handed: set[int] | None = None
        """Ids of the awaitables handed to asyncio tasks (they run later: not "never awaited"); made at the first."""
        self._request_token = REQUEST.set(ray)
        self._calls_token = CALLS.set(self)

    def leave(self, ctx: ExecutionContext | None, phase: str) -> None:
        """The code has stopped running (in ``phase``): report the KV calls it never awaited, and leave its
        context."""
        try:
            if self:  # no KV call, none left un-awaited
                self._dispatcher._check_awaited(self, ctx, phase)
                self.clear()  # checked: not kept as long as the ctx holding `spawn` is
        finally:
            REQUEST.reset(self._request_token)
            CALLS.reset(self._calls_token)

    def outbound(self, request: Request) -> Awaitable[Response]:
        """Send an outbound request on the simulation's routes."""
        return self._dispatcher.sim._outbound(request)

    def start_task(self, handed: Awaitable[Any], runner: Callable[[], Awaitable[None]]) -> None:
        """Start an asyncio task of this code."""
        self._dispatcher._start_task(self, handed, runner)

    def respond(self, now: int, start: int, status: int, failure: BaseException | None) -> None:
        """Record the request's ``response`` row (applied at its turn, at virtual millisecond ``now``; it arrived at
        ``start``)."""
        self._dispatcher.engine.store.history.record(
            pack_response(
                edge=self.edge, op="response", request=self.ray, status=status,
                error=None if failure is None else error_text(failure), invoke=start / 1000, complete=now / 1000,
            )
        )  # fmt: skip

    def spawn(self, work: Awaitable[Any]) -> None:
        """Start ``work`` handed to ``ctx.waitUntil`` (the handler has returned: see ``after``)."""
        self._dispatcher._spawn_work(self.ray, self.edge, self.after, work)


def _is_cancellation(error: BaseException) -> bool:
    """Whether ``error`` is trio cancelling the task (which must go on up), rather than the worker failing. A
    worker's ``SystemExit``, ``KeyboardInterrupt`` or own ``BaseException`` is its failure: a 500, not the end of
    the simulation or the server."""
    if isinstance(error, trio.Cancelled):
        return True
    return isinstance(error, BaseExceptionGroup) and error.subgroup(trio.Cancelled) is not None

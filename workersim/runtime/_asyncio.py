"""``asyncio`` as a worker's own code sees it: the parts real Python Workers use, run on trio and virtual time.

Python Workers run on an asyncio event loop, and their code calls ``asyncio.gather``, ``asyncio.sleep``,
``asyncio.create_task``, ``asyncio.wait_for`` and friends. In a simulation the handler runs on trio, under the
conductor; so the worker's modules get this module instead (through the isolate's imports), whose functions do the
same things with trio primitives: ``sleep`` is virtual time, ``gather`` runs its awaitables concurrently in a
nursery, ``create_task`` starts a task beside the request (its ``waitUntil`` nursery: leaving ``async with sim``
waits for it, and Cloudflare's 30-second limit after the response applies). Every task is ordered by the conductor,
so runs stay reproducible. Everything else (``iscoroutine``, the exception classes...) is the real module's.
Libraries that import ``asyncio`` themselves keep the real one.
"""

from __future__ import annotations

import asyncio as _asyncio
import collections
import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from typing import Any

import trio

from ._serving import running
from ._shims import Shim


class Future:
    """A result that will be there later: ``set_result``/``set_exception``, ``done()``, ``result()``, and
    ``await``. The base of ``Task``."""

    def __init__(self) -> None:
        self._event = trio.Event()
        self._result: Any = None
        self._exception: BaseException | None = None
        self._cancelled = False
        self._callbacks: list[Callable[[Future], Any]] = []

    def done(self) -> bool:
        """Whether a result, an exception or a cancellation is in."""
        return self._event.is_set()

    def cancelled(self) -> bool:
        """Whether it was cancelled."""
        return self._cancelled

    def result(self) -> Any:
        """The result; raises the exception, ``CancelledError``, or ``InvalidStateError`` if not done."""
        if not self.done():
            raise _asyncio.InvalidStateError("Result is not ready.")
        if self._cancelled:
            raise _asyncio.CancelledError()
        if self._exception is not None:
            raise self._exception
        return self._result

    def exception(self) -> BaseException | None:
        """The exception, or ``None``."""
        if not self.done():
            raise _asyncio.InvalidStateError("Exception is not set.")
        if self._cancelled:
            raise _asyncio.CancelledError()
        return self._exception

    def set_result(self, result: Any) -> None:
        """Complete with ``result``."""
        self._check_pending()
        self._result = result
        self._finish()

    def set_exception(self, exception: BaseException) -> None:
        """Complete with ``exception``."""
        self._check_pending()
        self._exception = exception
        self._finish()

    def cancel(self, msg: Any = None) -> bool:
        """Cancel it, if it is not done."""
        if self.done():
            return False
        self._cancelled = True
        self._finish()
        return True

    def add_done_callback(self, callback: Callable[[Future], Any], *, context: Any = None) -> None:
        """Call ``callback(self)`` once done (at once if it is)."""
        if self.done():
            callback(self)
        else:
            self._callbacks.append(callback)

    def remove_done_callback(self, callback: Callable[[Future], Any]) -> int:
        """Forget ``callback``; how many were removed."""
        before = len(self._callbacks)
        self._callbacks = [kept for kept in self._callbacks if kept != callback]
        return before - len(self._callbacks)

    def _check_pending(self) -> None:
        if self.done():
            raise _asyncio.InvalidStateError("invalid state")

    def _finish(self) -> None:
        self._event.set()
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    async def _wait(self) -> Any:
        await self._event.wait()
        return self.result()

    def __await__(self) -> Any:
        return self._wait().__await__()


class Task(Future):
    """A coroutine running beside the request (``asyncio.create_task``); awaiting it gives its result."""

    def __init__(self, coro: Awaitable[Any], *, name: str | None = None) -> None:
        super().__init__()
        serving = running()
        if serving is None:
            inspect_close(coro)
            raise RuntimeError("no running event loop: asyncio tasks can start only while the worker handles a request")
        self._coro = coro
        self._name = name or f"Task-{id(self)}"
        self._scope = trio.CancelScope()
        serving.start_task(coro, self._run)

    async def _run(self) -> None:
        try:
            with self._scope:
                try:
                    value = await self._coro
                except Exception as error:
                    self.set_exception(error)
                else:
                    self.set_result(value)
        finally:
            if not self.done():  # cancelled: by cancel(), or by the request's time limit
                super().cancel()

    def cancel(self, msg: Any = None) -> bool:
        """Cancel the task (it stops at its next checkpoint)."""
        if self.done():
            return False
        self._scope.cancel()
        return True

    def get_name(self) -> str:
        """The task's name."""
        return self._name

    def get_coro(self) -> Awaitable[Any]:
        """The coroutine it runs."""
        return self._coro


def inspect_close(awaitable: Awaitable[Any]) -> bool:
    """Close ``awaitable`` if it is a coroutine that will never run (so it leaves no warning)."""
    if isinstance(awaitable, Coroutine):
        awaitable.close()
        return True
    return False


def ensure_future(awaitable: Awaitable[Any], *, loop: Any = None) -> Future:
    """A ``Future`` as it is; anything else awaitable as a ``Task``."""
    return awaitable if isinstance(awaitable, Future) else Task(awaitable)


def create_task(coro: Awaitable[Any], *, name: str | None = None, context: Any = None) -> Task:
    """Start ``coro`` beside the request."""
    return Task(coro, name=name)


async def sleep(delay: float, result: Any = None) -> Any:
    """Let ``delay`` virtual seconds pass."""
    await trio.sleep(max(0.0, delay))
    return result


async def gather(*awaitables: Awaitable[Any], return_exceptions: bool = False) -> list[Any]:
    """Await every awaitable concurrently; their results in order. Without ``return_exceptions`` the first
    exception to occur is raised once all have finished."""
    outcomes: list[tuple[bool, Any]] = [(True, None)] * len(awaitables)
    failures: list[BaseException] = []

    async def run(index: int, awaitable: Awaitable[Any]) -> None:
        try:
            outcomes[index] = (True, await awaitable)
        except Exception as error:
            outcomes[index] = (False, error)
            failures.append(error)

    async with trio.open_nursery() as nursery:
        for index, awaitable in enumerate(awaitables):
            nursery.start_soon(run, index, awaitable)
    if failures and not return_exceptions:
        raise failures[0]
    return [value for _, value in outcomes]


async def wait_for(awaitable: Awaitable[Any], timeout: float | None) -> Any:
    """``awaitable``'s result, or ``TimeoutError`` after ``timeout`` virtual seconds (a task is then cancelled)."""
    if timeout is None:
        return await awaitable
    with trio.move_on_after(max(0.0, timeout)):
        return await awaitable
    if isinstance(awaitable, Task):
        awaitable.cancel()
    else:
        inspect_close(awaitable)
    raise TimeoutError


@contextlib.asynccontextmanager
async def timeout(delay: float | None) -> AsyncIterator[None]:
    """``async with asyncio.timeout(delay):`` raises ``TimeoutError`` if the block takes longer."""
    with trio.move_on_after(math.inf if delay is None else max(0.0, delay)) as scope:
        yield
    if scope.cancelled_caught:
        raise TimeoutError


async def wait(
    awaitables: Iterable[Awaitable[Any]], *, timeout: float | None = None, return_when: str = "ALL_COMPLETED"
) -> tuple[set[Future], set[Future]]:
    """``(done, pending)`` once all (or the first, with ``FIRST_COMPLETED``/``FIRST_EXCEPTION``) are done."""
    futures = [ensure_future(awaitable) for awaitable in awaitables]

    def enough() -> bool:
        done = [future for future in futures if future.done()]
        if return_when == _asyncio.FIRST_COMPLETED:
            return bool(done)
        if return_when == _asyncio.FIRST_EXCEPTION and any(
            not future.cancelled() and future.exception() is not None for future in done
        ):
            return True
        return len(done) == len(futures)

    with trio.move_on_after(math.inf if timeout is None else max(0.0, timeout)):
        while not enough():
            changed = trio.Event()
            for future in futures:
                future.add_done_callback(_setter(changed))
            await changed.wait()
    done = {future for future in futures if future.done()}
    return done, set(futures) - done


def _setter(event: trio.Event) -> Callable[[Future], None]:
    return lambda _future: event.set()


def shield(awaitable: Awaitable[Any]) -> Awaitable[Any]:
    """``awaitable`` itself: nothing cancels it from outside here."""
    return awaitable


class Event:
    """``asyncio.Event`` on trio: ``set``, ``clear``, ``is_set``, ``await wait()``."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def set(self) -> None:
        """Wake every waiter."""
        self._event.set()

    def clear(self) -> None:
        """Make it unset again."""
        if self._event.is_set():
            self._event = trio.Event()

    def is_set(self) -> bool:
        """Whether it is set."""
        return self._event.is_set()

    async def wait(self) -> bool:
        """Wait until it is set."""
        await self._event.wait()
        return True


class Lock:
    """``asyncio.Lock`` on trio: ``async with lock:``, ``acquire``, ``release``, ``locked``."""

    def __init__(self) -> None:
        self._lock = trio.Lock()

    async def acquire(self) -> bool:
        """Wait for the lock and take it."""
        await self._lock.acquire()
        return True

    def release(self) -> None:
        """Give the lock back."""
        self._lock.release()

    def locked(self) -> bool:
        """Whether someone holds it."""
        return self._lock.locked()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()


class Semaphore(Lock):
    """``asyncio.Semaphore`` on trio."""

    def __init__(self, value: int = 1) -> None:
        self._semaphore = trio.Semaphore(value)

    async def acquire(self) -> bool:
        """Wait for a slot and take it."""
        await self._semaphore.acquire()
        return True

    def release(self) -> None:
        """Give a slot back."""
        self._semaphore.release()

    def locked(self) -> bool:
        """Whether no slot is free."""
        return self._semaphore.value == 0


class Queue:
    """``asyncio.Queue`` on trio: ``put``/``get`` (waiting), their ``_nowait`` forms, ``qsize``, ``empty``,
    ``full``, ``task_done`` and ``join``."""

    def __init__(self, maxsize: int = 0) -> None:
        self.maxsize = maxsize
        self._items: collections.deque[Any] = collections.deque()
        self._changed = trio.Event()
        self._unfinished = 0
        self._finished = trio.Event()
        self._finished.set()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def qsize(self) -> int:
        """How many items wait."""
        return len(self._items)

    def empty(self) -> bool:
        """Whether no item waits."""
        return not self._items

    def full(self) -> bool:
        """Whether ``maxsize`` items wait."""
        return 0 < self.maxsize <= len(self._items)

    def put_nowait(self, item: Any) -> None:
        """Add ``item``, or raise ``QueueFull``."""
        if self.full():
            raise _asyncio.QueueFull
        self._items.append(item)
        self._unfinished += 1
        if self._finished.is_set():
            self._finished = trio.Event()
        self._notify()

    async def put(self, item: Any) -> None:
        """Add ``item``, waiting while the queue is full."""
        while self.full():
            await self._changed.wait()
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        """Take the next item, or raise ``QueueEmpty``."""
        if not self._items:
            raise _asyncio.QueueEmpty
        item = self._items.popleft()
        self._notify()
        return item

    async def get(self) -> Any:
        """Take the next item, waiting for one."""
        while not self._items:
            await self._changed.wait()
        return self.get_nowait()

    def task_done(self) -> None:
        """Mark one item taken as processed."""
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0:
            self._finished.set()

    async def join(self) -> None:
        """Wait until every item put has been marked done."""
        await self._finished.wait()


class _Loop:
    """What ``asyncio.get_running_loop()`` gives a worker: ``time()`` (virtual), ``create_task``,
    ``create_future``, ``run_in_executor`` (inline: Pyodide has no threads) and ``call_later``."""

    def time(self) -> float:
        """The loop's clock: trio's, in virtual seconds."""
        return trio.current_time()

    def create_task(self, coro: Awaitable[Any], *, name: str | None = None) -> Task:
        """``asyncio.create_task``."""
        return Task(coro, name=name)

    def create_future(self) -> Future:
        """A new ``Future``."""
        return Future()

    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any) -> Future:
        """Run ``func(*args)`` now, on the loop (there are no threads in Pyodide); its result as a ``Future``."""
        future = Future()
        try:
            future.set_result(func(*args))
        except Exception as error:
            future.set_exception(error)
        return future

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Task:
        """Call ``callback(*args)`` after ``delay`` virtual seconds."""

        async def later() -> None:
            await sleep(delay)
            callback(*args)

        return Task(later())

    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> Task:
        """Call ``callback(*args)`` at the next turn."""
        return self.call_later(0, callback, *args)

    def is_running(self) -> bool:
        """Always: a handler runs on it."""
        return True


_LOOP = _Loop()


def asyncio_module() -> Shim:
    """The ``asyncio`` a worker's modules import."""
    return Shim(
        _asyncio,
        Future=Future,
        Task=Task,
        ensure_future=ensure_future,
        create_task=create_task,
        sleep=sleep,
        gather=gather,
        wait_for=wait_for,
        timeout=timeout,
        wait=wait,
        shield=shield,
        Event=Event,
        Lock=Lock,
        Semaphore=Semaphore,
        BoundedSemaphore=Semaphore,
        Queue=Queue,
        get_running_loop=lambda: _LOOP,
        get_event_loop=lambda: _LOOP,
    )

"""Running an ASGI app with hypercorn's trio worker until cancelled or told to stop by a signal."""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator

import trio
from hypercorn.config import Config
from hypercorn.trio import serve as hypercorn_serve

from ..sim.simulation import Simulation, engine
from ._asgi import Receive, Scope, Send

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ShutdownTrigger = Callable[[], Awaitable[None]]

log = logging.getLogger("workersim.server")


async def serve(
    app: ASGIApp,
    config: Config,
    shutdown_trigger: ShutdownTrigger | None = None,
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the ASGI ``app`` until cancelled, or gracefully once ``shutdown_trigger`` returns; ``task_status``
    gets the bound URLs."""
    # hypercorn types its app with TypedDict scopes and events; ours are plain dicts of the same shape.
    await hypercorn_serve(
        _closing_connections_quiet(app),  # type: ignore[arg-type]
        config,
        shutdown_trigger=shutdown_trigger,
        task_status=task_status,
    )


_CLOSED_CONNECTION = (trio.BusyResourceError, trio.BrokenResourceError, trio.ClosedResourceError)


def _closing_connections_quiet(app: ASGIApp) -> ASGIApp:
    """``app``, for which a response that can no longer be sent ends the request quietly.

    That happens when a client sends a body the server refused (and so closes the connection) and does not read
    the answer: hypercorn then shuts the socket while the app is still sending, and the send fails with one of
    trio's stream errors (``BusyResourceError`` when the shutdown and the send meet). There is nobody left to
    answer, so it is logged at debug level rather than as hypercorn's "Error in ASGI Framework" traceback."""

    async def quiet(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except _CLOSED_CONNECTION as error:
            log.debug("connection closed before the response to %s was sent: %r", scope.get("path"), error)

    return quiet


@contextlib.contextmanager
def stop_on_signals(command: str) -> Iterator[ShutdownTrigger]:
    """A shutdown trigger that returns at the first SIGINT or SIGTERM, logging ``<command>: SIGINT, shutting
    down``; the signals are caught only inside the block."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:

        async def trigger() -> None:
            async for received in signals:
                log.info("%s: %s, shutting down", command, signal.Signals(received).name)
                return

        yield trigger


class CannotListen(Exception):
    """The server could not listen where it was asked to (the address is in use, unknown, or not allowed)."""


def listening_error(error: BaseException) -> OSError | OverflowError | None:
    """The bind error inside what ``trio.run`` raised when hypercorn could not listen, if that is what it was."""
    if isinstance(error, OSError | OverflowError):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = listening_error(inner)
            if found is not None:
                return found
    return None


def on_real_clock(sim: Simulation) -> None:
    """Make ``sim``'s conductor apply operations in arrival order, at once (before ``async with sim``): a server
    under steady input is never idle, and operations that waited for idleness would wait for ever."""
    engine(sim).arrival_order = True

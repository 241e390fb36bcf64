"""``workersim dev``: serve a worker over HTTP from simulated edges, with hypercorn's trio worker.

``WorkerApp`` is the ASGI application (another app can wrap it, e.g. to mount the REST API beside it); ``serve_dev``
runs a simulation and hypercorn together until a shutdown signal. The command line lives in ``workersim.cli``.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import attrs
import trio
import trio.testing
from hypercorn.config import Config

from ..core.delays import FixedDelay
from ..runtime import CONFIG_NAMES, ConfigError, Request, Simulation, find_config
from ..sim.simulation import DEFAULT_EDGES
from ._asgi import BodyPacing, BodyTooLarge, ClientGone, Receive, Scope, Send, lifespan, read_body
from ._durable import open_state
from ._history import keep_history, save_history
from ._live import LiveDev
from ._serving import CannotListen, listening_error, on_real_clock, serve, stop_on_signals
from ._watchdog import watchdog
from .api import ApiMount, Credentials, Stored

EDGE_HEADER = "x-workersim-edge"
"""The request header that picks the serving edge (its value is an edge name, e.g. ``LHR``)."""

log = logging.getLogger("workersim.dev")


BODY_LIMIT = 100 * 1000 * 1000
"""The largest request body the dev server takes: 100 MB, Cloudflare's limit on its Free and Pro plans."""


DEFAULT_CPU_MS = 30_000
"""The CPU milliseconds a request may use unless told otherwise: Cloudflare's default for paid plans."""

SCHEDULED_PATHS = frozenset({"/__scheduled", "/cdn-cgi/handler/scheduled"})
"""wrangler's endpoints for running a worker's ``scheduled`` handler by hand (``?cron=...``)."""


class WorkerApp:
    """An ASGI application that serves ``sim``'s worker, one request at a time per connection, many at once.

    The ``X-Workersim-Edge`` header picks the serving edge (default: the first); an unknown edge is a 400 that
    lists the edges. Every worker response carries ``CF-Ray: <request id>-<EDGE>``. One log line per request
    gives the edge, method, path, status, the virtual time and the wall-clock time it took. The simulation must
    be running (``async with sim:``) while requests arrive. A request body over ``body_limit`` bytes is refused
    with a 413, as Cloudflare refuses bodies over its plan's limit (100 MB by default), without being held whole.
    Bodies are read as ``pacing`` says.
    """

    def __init__(
        self,
        sim: Simulation,
        *,
        body_limit: int = BODY_LIMIT,
        pacing: BodyPacing = BodyPacing(),  # noqa: B008 - a frozen value, shared safely
    ) -> None:
        self.sim = sim
        self.body_limit = body_limit
        self.pacing = pacing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await lifespan(receive, send)
        else:
            await send({"type": "websocket.close", "code": 1003, "reason": "workersim dev serves HTTP only"})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method, path = scope["method"], _printable(scope["path"])
        chosen = _header(scope, EDGE_HEADER)
        edge = self._edge(chosen)
        if edge is None:
            message = f"unknown edge {chosen!r} in X-Workersim-Edge; the edges are {', '.join(self.sim.edges)}\n"
            await _send(send, 400, [("content-type", "text/plain;charset=UTF-8")], message.encode("utf-8"), method)
            log.info("%-4s %s %s -> 400 (%s)", "-", method, path, message.strip())
            return
        try:
            declared = _header(scope, "content-length")
            size = int(declared) if declared is not None and declared.isdigit() else None
            body = await read_body(receive, self.body_limit, declared=size, pacing=self.pacing)
        except ClientGone:
            return
        except BodyTooLarge:
            refusal = f"413 Payload Too Large: the request body is over {self.body_limit} bytes\n".encode()
            headers = [("content-type", "text/plain;charset=UTF-8"), ("connection", "close")]
            await _send(send, 413, headers, refusal, method)
            log.info("%-4s %s %s -> 413 (body over %d bytes)", edge, method, path, self.body_limit)
            return
        if scope["path"] in SCHEDULED_PATHS:
            await self._scheduled(scope, send, edge)
            return
        try:
            request = _request(scope, body)
        except TypeError as error:  # a Host header (or target) that makes no URL: the client's mistake
            refusal = f"400 Bad Request: {error}\n".encode()
            await _send(send, 400, [("content-type", "text/plain;charset=UTF-8")], refusal, method)
            log.info("%-4s %s %s -> 400 (%s)", edge, method, path, _printable(str(error)))
            return
        response = await self.sim.fetch(request, edge=edge)
        await _send(send, response.status, response.headers.multi_items(), await response.bytes(), method)
        log.info(
            "%-4s %s %s -> %d  t=%.3fs  %.1f ms  cf-ray=%s",
            edge,
            method,
            path,
            response.status,
            self.sim.now(),
            (time.perf_counter() - started) * 1000,
            response.headers.get("cf-ray"),
        )

    async def _scheduled(self, scope: Scope, send: Send, edge: str) -> None:
        """wrangler's test endpoint: ``/__scheduled?cron=...`` runs the ``scheduled`` handler now, at ``edge``."""
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        cron = query.get("cron", [None])[0]
        try:
            await self.sim.trigger_scheduled(cron, edge=edge)
        except (ConfigError, RuntimeError) as error:
            await _send(send, 400, [("content-type", "text/plain;charset=UTF-8")], f"{error}\n".encode(), "GET")
            log.info("%-4s scheduled %s -> 400 (%s)", edge, cron, error)
            return
        await _send(send, 200, [("content-type", "text/plain;charset=UTF-8")], b"Ran scheduled event", "GET")
        log.info("%-4s scheduled %s -> ran  t=%.3fs", edge, cron, self.sim.now())

    def _edge(self, chosen: str | None) -> str | None:
        if chosen is None:
            return self.sim.edges[0]
        if chosen in self.sim.edges:
            return chosen
        # Header values are typed by hand: "lhr" means LHR unless the edges differ only in case.
        matches = [edge for edge in self.sim.edges if edge.casefold() == chosen.casefold()]
        return matches[0] if len(matches) == 1 else None


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for key, value in scope["headers"]:
        if key.lower() == wanted:
            return str(value.decode("latin-1")).strip()
    return None


def _printable(text: str) -> str:
    # A decoded path can hold newlines and escape sequences: logged as they are, they would forge log lines or
    # reach the terminal.
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _request(scope: Scope, body: bytes) -> Request:
    """The Fetch ``Request`` for an ASGI HTTP scope: the URL as the client addressed it, headers as sent."""
    host = _header(scope, "host") or "{}:{}".format(*scope["server"])
    target = scope.get("raw_path") or quote(scope["path"]).encode("ascii")
    query = scope.get("query_string", b"")
    url = f"{scope['scheme']}://{host}{target.decode('latin-1')}" + (f"?{query.decode('latin-1')}" if query else "")
    headers = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in scope["headers"]]
    # The Fetch API cannot give a GET or HEAD request a body, so one sent anyway is dropped.
    keep = body and scope["method"] not in ("GET", "HEAD")
    return Request(url, method=scope["method"], headers=headers, body=body if keep else None)


async def _send(send: Send, status: int, headers: list[tuple[str, str]], body: bytes, method: str) -> None:
    """Send a whole response; its Content-Length is the body's, whatever the worker set (as at Cloudflare)."""
    raw = [(key.encode("latin-1"), value.encode("latin-1")) for key, value in headers if key != "content-length"]
    raw.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


@attrs.frozen
class DevOptions:
    """The settings of ``workersim dev``."""

    target: str | None = None
    """A worker file (``.py``), a wrangler configuration or a project folder holding one; ``None``: the
    configuration in this folder."""
    host: str = "127.0.0.1"
    port: int = 8787
    edges: tuple[str, ...] = DEFAULT_EDGES
    seed: int = 0
    max_delay: float = 10.0
    delay: float | None = None
    """A fixed propagation delay in seconds; ``None``: the default random delays."""
    time_scale: float = 1.0
    """How many simulated seconds pass per real second."""
    kv: tuple[str, ...] = ()
    """KV binding names for a worker file (a configuration names its own)."""
    history: Path | None = None
    """Where to write the history as JSON Lines when the server stops; ``None``: nowhere."""
    body_limit: int = BODY_LIMIT
    """The largest request body taken, in bytes (larger ones get a 413)."""
    environment: str | None = None
    """The configuration's ``[env.NAME]`` section to use (``--env``)."""
    network: bool = False
    """Whether the worker's outbound requests may reach the real network (``--network``)."""
    cpu_ms: int | None = None
    """The CPU milliseconds a request may use (``--cpu-ms``); ``None``: the configuration's ``[limits] cpu_ms``,
    else ``DEFAULT_CPU_MS``."""
    persist: Path | None = None
    """The SQLite file that keeps the state between runs; ``None``: the state lasts as long as the server."""
    reload: bool = True
    """Reload the worker when a Python file in its folder changes."""


def build_simulation(options: DevOptions) -> Simulation:
    """The simulation ``options`` describe; a ``ConfigError`` or ``ValueError`` says what is wrong with them."""
    target = options.target
    if target is None:
        found = find_config(".")
        if found is None:
            raise ConfigError(f"no worker given, and no {', '.join(CONFIG_NAMES)} in {Path.cwd()}")
        target = str(found)
    settings: dict[str, Any] = {
        "edges": options.edges,
        "seed": options.seed,
        "max_delay": options.max_delay,
        "delays": None if options.delay is None else FixedDelay(options.delay),
        # Virtual time 0 is now: the server runs on the real clock, and absolute expirations a worker or a client
        # computes from its own clock then mean what they say.
        "start_time": time.time(),
        "network": options.network,
    }
    if Path(target).suffix == ".py":
        if options.environment is not None:
            raise ConfigError(f"--env is for a wrangler configuration; {target} is a worker file")
        return Simulation(kv_namespaces=options.kv, worker=target, **settings)
    if options.kv:
        raise ConfigError(f"--kv is for a worker file; {target} names its bindings in kv_namespaces")
    sim = Simulation(worker=target, environment=options.environment, **settings)  # a configuration, or its folder
    if sim.worker is None:
        raise ConfigError(f'{target}: main is missing: name the worker\'s entry file, e.g. main = "src/entry.py"')
    return sim


def hypercorn_config(options: DevOptions) -> Config:
    """Hypercorn settings: one bind, no access log (``WorkerApp`` logs each request), and timeouts stretched by
    the time scale, since hypercorn measures them on the (scaled) trio clock."""
    config = Config()
    config.bind = [f"[{options.host}]:{options.port}" if ":" in options.host else f"{options.host}:{options.port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = 5.0 * options.time_scale
    config.graceful_timeout = 1.0 * options.time_scale
    return config


async def serve_dev(sim: Simulation, options: DevOptions, *, grace: float = 5.0, state: Stored | None = None) -> None:
    """Serve ``sim``'s worker until SIGINT or SIGTERM, then stop taking requests and give waitUntil work ``grace``
    real seconds to finish before cancelling it. ``state``: the open ``--persist`` file."""
    credentials = Credentials.resolve(saved_account=None if state is None or state[1] is None else state[1].account)
    # Bodies paced in real time: the trio clock runs time_scale times as fast.
    pacing = BodyPacing().scaled(options.time_scale)
    # the REST API under /client/v4/, the worker elsewhere
    app = ApiMount(WorkerApp(sim, body_limit=options.body_limit, pacing=pacing), sim, credentials, pacing=pacing)
    live = LiveDev(sim, app, state, reload=options.reload)
    on_real_clock(sim)
    with trio.CancelScope() as scope:
        async with sim, live.running():
            cpu_ms = options.cpu_ms or sim.cpu_ms or DEFAULT_CPU_MS
            with stop_on_signals("workersim dev") as shutdown_trigger, watchdog(cpu_ms / 1000):
                async with trio.open_nursery() as nursery:
                    binds = await nursery.start(serve, live.app, hypercorn_config(options), shutdown_trigger)
                    print(
                        f"{_banner(sim, options, binds[0])}\n{live.describe(binds[0])}\n{app.describe(binds[0])}",
                        flush=True,
                    )
            # Hypercorn has stopped; leaving `async with sim` waits for waitUntil work, for `grace` at most.
            scope.deadline = trio.current_time() + grace * options.time_scale
    if scope.cancelled_caught:
        log.warning("workersim dev: waitUntil work still running after %s s was cancelled", grace)


def _banner(sim: Simulation, options: DevOptions, url: str) -> str:
    delay = "random delays" if options.delay is None else f"delay {options.delay:g} s"
    speed = "real time" if options.time_scale == 1 else f"time x{options.time_scale:g}"
    return (
        f"workersim dev: serving {options.target or 'the wrangler configuration here'} on {url}\n"
        f"  edges {', '.join(sim.edges)} (pick one with the header 'X-Workersim-Edge: {sim.edges[-1]}'; "
        f"default {sim.edges[0]})\n"
        f"  seed {sim.seed}, max delay {sim.max_delay:g} s, {delay}, {speed}; Ctrl-C stops"
    )


def run_dev(options: DevOptions) -> int:
    """Build the simulation and serve it on the real clock, or ``time_scale`` times faster; 0 after a graceful
    shutdown (Ctrl-C or SIGTERM), 130 if a second Ctrl-C cut the shutdown short."""
    sim = build_simulation(options)
    keep_history(sim, options.history)
    state = None if options.persist is None else open_state(options.persist, sim)
    clock = None if options.time_scale == 1 else trio.testing.MockClock(rate=options.time_scale)
    try:
        trio.run(functools.partial(serve_dev, sim, options, state=state), clock=clock)
    except KeyboardInterrupt:  # a second Ctrl-C during the graceful shutdown: stop at once, quietly
        print("workersim dev: interrupted", file=sys.stderr)
        return 130
    except BaseException as error:
        cause = listening_error(error)
        if cause is None:
            raise
        raise CannotListen(f"cannot listen on {options.host}:{options.port}: {cause}") from None
    finally:
        save_history(sim, options.history)
    return 0

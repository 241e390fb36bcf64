"""A real REST API server for tests: hypercorn on a free loopback port, in a background thread running trio."""

from __future__ import annotations

import contextlib
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import attrs
import trio
from cloudflare import Cloudflare

from workersim import Simulation
from workersim.server.api import hypercorn_config, serve
from workersim.server.rest import Accounts, RestApp
from workersim.sim import engine

T = TypeVar("T")

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "test-token-1"
OTHER_ACCOUNT = "9a7806061c88ada191ed06f989cc3dac"
OTHER_TOKEN = "test-token-2"


@attrs.define
class RunningServer:
    """A server running in a background thread, and ways to reach it."""

    url: str
    sim: Simulation
    app: RestApp
    _trio_token: trio.lowlevel.TrioToken

    @property
    def base_url(self) -> str:
        """What clients use as their base URL."""
        return f"{self.url}/client/v4"

    def namespaces_url(self, account: str = ACCOUNT) -> str:
        """The URL of an account's namespaces."""
        return f"{self.base_url}/accounts/{account}/storage/kv/namespaces"

    def sdk(self, token: str = TOKEN) -> Cloudflare:
        """The official SDK pointed at this server, without retries."""
        return Cloudflare(api_token=token, base_url=self.base_url, max_retries=0)

    def apply(self, action: Callable[[int], T]) -> T:
        """Run ``action(now)`` in the simulation's order, on the server's thread (to look at its state)."""
        return trio.from_thread.run(engine(self.sim).apply, action, trio_token=self._trio_token)

    def unix_now(self) -> int:
        """The simulation's clock in whole UNIX seconds, the unit of KV expirations."""
        return int(self.sim.start_time + self.apply(lambda now: now) / 1000)


@contextlib.contextmanager
def running_server(
    sim: Simulation | None = None, *, other_account: bool = False, bulk_body_limit: int | None = None
) -> Iterator[RunningServer]:
    """Serve the REST API over ``sim`` (default: a fresh one) for ``ACCOUNT``/``TOKEN`` (and, if asked,
    ``OTHER_ACCOUNT``/``OTHER_TOKEN``) until the block ends."""
    sim = sim or Simulation(kv_namespaces=("MY_KV",))
    accounts = Accounts(sim.seed, sim.limits.namespaces)
    accounts.add(ACCOUNT, TOKEN, bindings=sim.kv_namespaces)
    if other_account:
        accounts.add(OTHER_ACCOUNT, OTHER_TOKEN)
    options = {} if bulk_body_limit is None else {"bulk_body_limit": bulk_body_limit}
    app = RestApp(sim, accounts, **options)
    started: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    async def main() -> None:
        async with sim, trio.open_nursery() as nursery:
            binds = await nursery.start(serve, app, hypercorn_config("127.0.0.1", 0))
            started.put((binds[0], trio.lowlevel.current_trio_token()))
            await trio.to_thread.run_sync(stop.wait)
            nursery.cancel_scope.cancel()

    def thread_main() -> None:
        try:
            trio.run(main)
        except BaseException as error:  # report a failed start instead of leaving the test waiting
            started.put(error)

    thread = threading.Thread(target=thread_main, name="rest-server", daemon=True)
    thread.start()
    first = started.get(timeout=30)
    if isinstance(first, BaseException):
        raise first
    url, trio_token = first
    try:
        yield RunningServer(url, sim, app, trio_token)
    finally:
        stop.set()
        thread.join(timeout=30)


@attrs.frozen
class ApiProcess:
    """A ``workersim api`` process and what its banner said."""

    process: subprocess.Popen[str]
    url: str
    banner: str

    def stop(self) -> str:
        """Stop the server; what it logged."""
        self.process.terminate()
        self.process.wait(timeout=10)
        return self.process.stderr.read()  # type: ignore[union-attr]


@contextlib.contextmanager
def workersim_process(*args: str, env: dict[str, str] | None = None) -> Iterator[ApiProcess]:
    """Run ``workersim ARGS`` (``api`` or ``dev``, on port 0) and wait (bounded) for its banner, which ends with
    the REST API's wrangler example; stop it when the block ends."""
    if "--port" not in args or args[args.index("--port") + 1] != "0":
        # A port picked in advance can be taken by another process before the server binds it.
        raise ValueError(f"run servers with --port 0 and read the port from the banner, not {args}")
    command = [sys.executable, "-m", "workersim.cli", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        banner = []
        while not banner or "wrangler kv namespace list" not in banner[-1]:
            try:
                banner.append(lines.get(timeout=30))
            except queue.Empty:
                raise TimeoutError(f"workersim printed no banner in 30 s (exit code {process.poll()})") from None
        url = re.search(r"http://[0-9.]+:[1-9][0-9]*", banner[0]).group(0)  # type: ignore[union-attr]
        yield ApiProcess(process, url, "".join(banner))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a server that ignores SIGTERM must not outlive its test
            process.kill()
            process.wait(timeout=10)


def api_process(*args: str, env: dict[str, str] | None = None) -> contextlib.AbstractContextManager[ApiProcess]:
    """``workersim api --port 0 ARGS``, as ``workersim_process`` runs it."""
    return workersim_process("api", "--port", "0", *args, env=env)

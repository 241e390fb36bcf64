"""Clients that keep a server busy: some stream large bodies as fast as they can, some trickle a byte a millisecond
into a body the server accepts (slowloris), and, if asked, some flood it with requests it refuses at once.

They run in a process of their own (``hostile_load``). In the measuring process, their 14 threads would hold the
GIL, and the measuring client would wait for the GIL as well as for the server: the latency measured would be the
test's own, not the server's. ``tests/test_server_starvation.py`` and ``benchmarks/starvation.py`` use them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Iterator
from multiprocessing.sharedctypes import Synchronized
from urllib.parse import urlsplit

import httpx

STREAMERS = 4
TRICKLERS = 20
BLOCK = 65536
TRICKLED_BODY = 1_000_000
"""The body size a trickler announces: within the value limit, so the server reads it (a byte at a time)."""
REFUSED_BODY = 100_000_000
"""The body size a flooder announces: over the limit, so the server refuses it at once and closes."""


def stream_bodies(url: str, headers: dict[str, str], stop: threading.Event, sent: Synchronized[int]) -> None:
    """PUT endless bodies to ``url`` in 64 KiB blocks, one request after another, until ``stop``."""

    def chunks() -> Iterator[bytes]:
        block = b"x" * BLOCK
        while not stop.is_set():
            with sent.get_lock():
                sent.value += BLOCK
            yield block

    with httpx.Client(headers=headers, timeout=120) as client:
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError):  # the server refuses a body over its limit, and may cut it
                client.put(f"{url}/values/big", content=chunks())


def trickle(url: str, token: str, stop: threading.Event, size: int = TRICKLED_BODY) -> None:
    """Announce a PUT of ``size`` bytes to ``url`` and send it a byte a millisecond, reconnecting whenever cut, until
    ``stop``. With ``REFUSED_BODY`` the server refuses each at once: a flood of connections instead."""
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    head = (
        f"PUT {parts.path}/values/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Length: {size}\r\n\r\n"
    )
    while not stop.is_set():
        with contextlib.suppress(OSError), socket.create_connection(address) as connection:
            connection.sendall(head.encode())
            while not stop.is_set():
                connection.sendall(b"y")
                time.sleep(0.001)


def _run(
    url: str,
    token: str,
    clients: tuple[int, int, int],
    stop: threading.Event,
    ready: threading.Event,
    sent: Synchronized[int],
) -> None:
    streamers, tricklers, flooders = clients
    headers = {"Authorization": f"Bearer {token}"}
    threads = [threading.Thread(target=stream_bodies, args=(url, headers, stop, sent)) for _ in range(streamers)]
    threads += [threading.Thread(target=trickle, args=(url, token, stop)) for _ in range(tricklers)]
    threads += [threading.Thread(target=trickle, args=(url, token, stop, REFUSED_BODY)) for _ in range(flooders)]
    for thread in threads:
        thread.start()
    ready.set()
    for thread in threads:
        thread.join()


@contextlib.contextmanager
def server_pinned(pid: int) -> Iterator[None]:
    """While the block runs, give the server process the first CPU and this process (the measuring client, and the
    load it starts) the last: the latency measured is then the server's, not the machine's when the load generator
    would take the server's core. Nothing is pinned on a machine with one CPU."""
    cpus = os.sched_getaffinity(0)
    if len(cpus) < 2:
        yield
        return
    os.sched_setaffinity(pid, {min(cpus)})
    os.sched_setaffinity(0, {max(cpus)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cpus)


@contextlib.contextmanager
def hostile_load(
    url: str, token: str, *, streamers: int = STREAMERS, tricklers: int = TRICKLERS, flooders: int = 0
) -> Iterator[Synchronized[int]]:
    """Run the streaming, trickling and flooding clients against the namespace at ``url`` in another process while
    the block runs; yields the count of body bytes the streamers have sent so far."""
    context = multiprocessing.get_context("spawn")
    stop, ready = context.Event(), context.Event()
    sent = context.Value("q", 0)
    process = context.Process(
        target=_run, args=(url, token, (streamers, tricklers, flooders), stop, ready, sent), daemon=True
    )
    process.start()
    try:
        if not ready.wait(60):
            raise TimeoutError("the load process did not start in 60 s")
        yield sent
    finally:
        stop.set()
        process.join(30)
        if process.is_alive():
            process.kill()


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) process ``pid`` has used so far, from ``/proc``."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115, PTH123 - one read
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def put_latencies(client: httpx.Client, url: str, count: int) -> list[float]:
    """Seconds each of ``count`` small PUTs to the namespace at ``url`` took, one after another (ten keys in turn)."""
    times = []
    for index in range(count):
        started = time.perf_counter()
        client.put(f"{url}/values/probe-{index % 10}", content=b"p").raise_for_status()
        times.append(time.perf_counter() - started)
    return times

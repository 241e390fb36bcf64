"""Clients that keep a server busy: some stream large bodies as fast as they can, some trickle a byte a millisecond.

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
TRICKLERS = 10
BLOCK = 65536


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


def trickle(url: str, token: str, stop: threading.Event) -> None:
    """Announce a 100 MB PUT to ``url`` and send it a byte a millisecond, reconnecting whenever cut, until ``stop``."""
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    head = (
        f"PUT {parts.path}/values/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        "Content-Length: 100000000\r\n\r\n"
    )
    while not stop.is_set():
        with contextlib.suppress(OSError), socket.create_connection(address) as connection:
            connection.sendall(head.encode())
            while not stop.is_set():
                connection.sendall(b"y")
                time.sleep(0.001)


def _run(url: str, token: str, stop: threading.Event, ready: threading.Event, sent: Synchronized[int]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    threads = [threading.Thread(target=stream_bodies, args=(url, headers, stop, sent)) for _ in range(STREAMERS)]
    threads += [threading.Thread(target=trickle, args=(url, token, stop)) for _ in range(TRICKLERS)]
    for thread in threads:
        thread.start()
    ready.set()
    for thread in threads:
        thread.join()


@contextlib.contextmanager
def hostile_load(url: str, token: str) -> Iterator[Synchronized[int]]:
    """Run the streaming and trickling clients against the namespace at ``url`` in another process while the
    block runs; yields the count of body bytes the streamers have sent so far."""
    context = multiprocessing.get_context("spawn")
    stop, ready = context.Event(), context.Event()
    sent = context.Value("q", 0)
    process = context.Process(target=_run, args=(url, token, stop, ready, sent), daemon=True)
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

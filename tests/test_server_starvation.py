"""A server under steady input is never idle: its KV operations must not wait for idleness (the conductor
applies them in arrival order). A PUT's latency while other clients stream large bodies and trickle bytes stays
within 10x of idle (the servers pace bodies that arrive in small pieces). Drives a real `workersim api` process over
loopback, with the load from another process."""

from __future__ import annotations

import logging
import os
import statistics
import time
from typing import Any

import httpx
import pytest
import trio
from _hostile_clients import cpu_seconds, hostile_load, put_latencies, server_pinned
from _rest_support import ACCOUNT, TOKEN, api_process

from workersim.server._asgi import Receive, Scope, Send
from workersim.server._serving import _closing_connections_quiet

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_put_latency_under_streaming_and_trickling_clients_stays_near_idle() -> None:
    env = {**os.environ, "WORKERSIM_ACCOUNT_ID": ACCOUNT, "WORKERSIM_API_TOKEN": TOKEN}
    with (
        api_process("--quiet", env=env) as server,
        server_pinned(server.process.pid),
        httpx.Client(headers=AUTH, timeout=30) as client,
    ):
        base = f"{server.url}/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
        namespace = client.post(base, json={"title": "load"}).json()["result"]["id"]
        url = f"{base}/{namespace}"
        put_latencies(client, url, 10)  # warm up
        idle = statistics.median(put_latencies(client, url, 50))
        with hostile_load(url, TOKEN) as sent:
            time.sleep(0.5)  # drives a real server: let the load build up
            cpu, wall, streamed = cpu_seconds(server.process.pid), time.perf_counter(), sent.value
            loaded = statistics.median(put_latencies(client, url, 50))
            busy = (cpu_seconds(server.process.pid) - cpu) / (time.perf_counter() - wall)
            streamed = sent.value - streamed
    print(f"PUT median: idle {idle * 1000:.2f} ms, under load {loaded * 1000:.2f} ms ({loaded / idle:.1f}x);")
    print(f"the server was busy {busy:.0%} of the time, and the streamers sent {streamed / 2**20:.0f} MiB meanwhile")
    # The load is real: the server spends most of its time on the other clients, and bodies keep streaming.
    assert busy > 0.5
    assert streamed > 2**20
    # Waiting for idleness, these PUTs time out (over 30 s). In arrival order, with every trickled byte handled as
    # it came, the median took 9.6x idle; with trickled bodies paced (BodyPacing), 4.7x to 4.9x on the 2-core
    # development machine (benchmarks/starvation.py, 3 rounds of 200 PUTs).
    assert loaded < 10 * idle, f"idle {idle * 1000:.2f} ms, loaded {loaded * 1000:.2f} ms"


def test_a_fast_chunked_upload_of_short_lines_is_not_paced() -> None:
    # Pacing is for slow clients: 2,000 lines of 1 KiB sent chunked, each a small piece, arrive at megabytes a
    # second and are read at once (0.04 s here). Pacing every run of small pieces took 10.8 s for this upload.
    env = {**os.environ, "WORKERSIM_ACCOUNT_ID": ACCOUNT, "WORKERSIM_API_TOKEN": TOKEN}
    line = b"x" * 1023 + b"\n"
    with api_process("--quiet", env=env) as server, httpx.Client(headers=AUTH, timeout=60) as client:
        base = f"{server.url}/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
        url = f"{base}/{client.post(base, json={'title': 'lines'}).json()['result']['id']}/values/lines"
        started = time.perf_counter()
        client.put(url, content=(line for _ in range(2000))).raise_for_status()
        took = time.perf_counter() - started
        assert client.get(url).content == line * 2000
    assert took < 3.0, f"the upload took {took:.2f} s"


async def test_a_response_that_can_no_longer_be_sent_ends_the_request_quietly(caplog: pytest.LogCaptureFixture) -> None:
    # Under a flood of refused uploads, hypercorn shuts a socket while the app is still sending its 413 (the client
    # never reads it): the send fails with one of trio's stream errors, which must not become a traceback.
    async def refused(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 413, "headers": []})

    for error in (trio.BusyResourceError, trio.BrokenResourceError, trio.ClosedResourceError):

        async def failing_send(message: dict[str, Any], error: type[Exception] = error) -> None:
            raise error("the connection is closing")

        with caplog.at_level(logging.DEBUG, logger="workersim"):
            await _closing_connections_quiet(refused)({"type": "http", "path": "/v"}, _no_body, failing_send)
        assert "connection closed before the response to /v was sent" in caplog.text
        caplog.clear()

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("a bug in the app")

    with pytest.raises(ValueError, match="a bug in the app"):  # anything else still surfaces
        await _closing_connections_quiet(broken)({"type": "http", "path": "/v"}, _no_body, failing_send)


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}

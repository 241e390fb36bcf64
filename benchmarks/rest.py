"""REST API requests per second over loopback, beside a plain hypercorn hello-world app measured in the same run.

The hello-world app is the ceiling for this server stack (hypercorn's trio worker, h11), so the ratios say how
much of it the REST API keeps. Each server runs in its own process; the load comes from keep-alive connections
driven by a minimal raw-socket HTTP/1.1 client (so the client costs little next to the server).

Every GET must return the value put and every listing 10 keys, so no phase measures empty answers.

    python benchmarks/rest.py [--seconds 2] [--rounds 3] [--connections 16] [--quick]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable

import trio

ACCOUNT = "bench"
TOKEN = "bench-token"
NAMESPACES = f"/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


async def hello_app(scope: dict, receive: Callable, send: Callable) -> None:
    """The smallest useful ASGI app: 200 "hello" to every request."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


async def _serve(kind: str) -> None:
    from workersim import Simulation
    from workersim.server.api import hypercorn_config, serve
    from workersim.server.rest import RestApp

    config = hypercorn_config("127.0.0.1", 0)
    if kind == "hello":
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(serve, hello_app, config)
            print(binds[0], flush=True)
        return
    sim = Simulation(start_time=time.time())
    async with sim, trio.open_nursery() as nursery:
        binds = await nursery.start(serve, RestApp.for_simulation(sim, ACCOUNT, TOKEN), config)
        print(binds[0], flush=True)


def start_server(kind: str) -> tuple[subprocess.Popen[str], str, int]:
    """A server process for ``kind`` (``hello`` or ``rest``), and the host and port it listens on."""
    process = subprocess.Popen([sys.executable, __file__, "--serve", kind], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # type: ignore[union-attr]
    host, port = line.strip().removeprefix("http://").rsplit(":", 1)
    return process, host, int(port)


def request(method: str, path: str, body: bytes = b"") -> bytes:
    """The bytes of one keep-alive HTTP/1.1 request."""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _receive(stream: trio.SocketStream, buffer: bytearray) -> None:
    chunk = await stream.receive_some(65536)
    if not chunk:
        raise EOFError("the server closed the connection")
    buffer += chunk


async def exchange(stream: trio.SocketStream, data: bytes, buffer: bytearray) -> tuple[int, bytes]:
    """Send one request and read its response (status, body); leftovers stay in ``buffer``."""
    await stream.send_all(data)
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        await _receive(stream, buffer)
    head = bytes(buffer[:end])
    length = int(_LENGTH.search(head).group(1))  # type: ignore[union-attr]
    start = end + 4
    while len(buffer) < start + length:
        await _receive(stream, buffer)
    body = bytes(buffer[start : start + length])
    del buffer[: start + length]
    return int(head[9:12]), body


async def load(
    host: str,
    port: int,
    make: Callable[[int, int], bytes],
    connections: int,
    seconds: float,
    check: Callable[[bytes], bool] | None = None,
    answered: Callable[[int, int], object] | None = None,
) -> float:
    """Requests per second that ``connections`` keep-alive connections get through in ``seconds``; every response
    must be a 200 whose body ``check`` accepts (requests that find nothing would flatter the server).
    ``answered(c, i)`` is called for each request answered."""
    done = 0
    deadline = trio.current_time() + seconds

    async def connection(c: int) -> None:
        nonlocal done
        i = 0
        while trio.current_time() < deadline:
            # Hypercorn closes a keep-alive connection after 1000 requests: then open another one.
            async with await trio.open_tcp_stream(host, port) as stream:
                buffer = bytearray()
                try:
                    while trio.current_time() < deadline:
                        status, body = await exchange(stream, make(c, i), buffer)
                        if status != 200 or (check is not None and not check(body)):
                            raise RuntimeError(f"status {status}: {body[:200]!r}")
                        if answered is not None:
                            answered(c, i)
                        i += 1
                        done += 1
                except EOFError:
                    continue

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for c in range(connections):
            nursery.start_soon(connection, c)
    return done / (time.perf_counter() - start)


async def measure(args: argparse.Namespace) -> dict[str, float]:
    """Every phase's best requests per second over ``args.rounds`` rounds.

    Both servers run at once, in their own processes, and the phases take turns round after round, so that a
    machine busy with something else slows every phase alike rather than one of them.
    """
    (hello, hello_host, hello_port), (rest, host, port) = start_server("hello"), start_server("rest")
    try:
        async with await trio.open_tcp_stream(host, port) as stream:
            _, body = await exchange(stream, request("POST", NAMESPACES, b'{"title":"bench"}'), bytearray())
        values = f"{NAMESPACES}/{json.loads(body)['result']['id']}"
        written = [0] * args.connections

        def put(c: int, _: int) -> bytes:
            written[c] += 1
            return request("PUT", f"{values}/values/c{c:02d}-k{written[c] - 1:07d}", b"small value")

        def list_keys(c: int, i: int) -> bytes:
            # Dropping a key's last digit gives a prefix that the ten keys ...0 to ...9 share: each listing
            # pages through real keys, all written in the PUT phase.
            full_tens = written[c] // 10
            if not full_tens:
                raise RuntimeError(f"client {c} wrote {written[c]} keys in the PUT phase; listing needs 10")
            return request("GET", f"{values}/keys?limit=10&prefix=c{c:02d}-k{i % full_tens:06d}")

        Phase = tuple[str, int, Callable[[int, int], bytes], Callable[[bytes], bool] | None]
        phases: dict[str, Phase] = {
            "hello world": (hello_host, hello_port, lambda c, i: request("GET", "/"), None),
            "PUT value": (host, port, put, None),
            "GET value": (
                host,
                port,
                lambda c, i: request("GET", f"{values}/values/c{c:02d}-k{i % written[c]:07d}"),
                lambda body: body == b"small value",
            ),
            "GET keys (limit 10)": (host, port, list_keys, lambda body: body.count(b'"name"') == 10),
        }
        best = dict.fromkeys(phases, 0.0)
        for _ in range(args.rounds):
            for phase, (phase_host, phase_port, make, check) in phases.items():
                rate = await load(phase_host, phase_port, make, args.connections, args.seconds, check)
                best[phase] = max(best[phase], rate)
        return best
    finally:
        hello.terminate()
        rest.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each phase in each round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all phases; the best of each is shown")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive clients")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds (one short round)")
    parser.add_argument("--serve", choices=("hello", "rest"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 0.5, 1
    if args.serve:
        trio.run(_serve, args.serve)
        return
    results = trio.run(measure, args)
    ceiling = results["hello world"]
    print(
        f"REST API over loopback: {args.connections} keep-alive clients, best of {args.rounds} rounds of "
        f"{args.seconds:g} s per phase, Python {sys.version.split()[0]}"
    )
    print(f"{'phase':<24}{'requests/s':>12}{'/ hello':>9}")
    for phase, rate in results.items():
        print(f"{phase:<24}{rate:>12.0f}{rate / ceiling:>9.2f}")


if __name__ == "__main__":
    main()

"""Request bodies that arrive in many small pieces are read with waits between pieces (``BodyPacing``), so that a
client trickling a body costs the server a few steps per wait rather than two a byte. Each test plans the pieces
and works out from the rule which reads wait; the virtual clock says how long the reader waited."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
import trio

import workersim
from workersim.server._asgi import BodyPacing, BodyTooLarge, ClientGone, read_body
from workersim.server.dev import WorkerApp
from workersim.server.rest import RestApp

PACING = BodyPacing()


class Pieces:
    """An ASGI ``receive`` that hands out ``pieces`` as one body, counting how often it was called."""

    def __init__(self, pieces: Sequence[bytes], *, disconnect_after: int | None = None) -> None:
        self.pieces = list(pieces)
        self.calls = 0
        self.disconnect_after = disconnect_after

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.calls == self.disconnect_after:
            return {"type": "http.disconnect"}
        last = self.calls == len(self.pieces)
        return {"type": "http.request", "body": self.pieces[self.calls - 1], "more_body": not last}


def planned_waits(sizes: Sequence[int], pacing: BodyPacing) -> int:
    """The waits the rule asks for: after each piece but the last that ends a run of ``after`` or more small ones."""
    waits, run = 0, 0
    for size in sizes[:-1]:
        run = run + 1 if size < pacing.small else 0
        waits += run >= pacing.after
    return waits


@pytest.mark.parametrize(
    "sizes",
    [
        [1] * 100,  # a byte at a time: every piece from the eighth waits
        [5, 0],  # almost every request: a piece and the end of the body
        [65536] * 20,  # a fast upload in large pieces
        [1] * 7 + [8192] + [1] * 7 + [0],  # small runs broken by a large piece before they reach eight
        [1] * 9 + [8192] + [1] * 9,  # two runs of nine: each waits from its eighth piece
        [4095] * 10 + [4096] * 10,  # the bound: under 4096 bytes is small
    ],
    ids=["trickle", "typical", "large", "broken-runs", "two-runs", "bound"],
)
async def test_the_body_is_whole_and_only_runs_of_small_pieces_wait(
    sizes: list[int], autojump_clock: trio.abc.Clock
) -> None:
    pieces = [bytes([65 + i % 26]) * size for i, size in enumerate(sizes)]
    started = trio.current_time()
    body = await read_body(Pieces(pieces), 10**9, pacing=PACING)
    assert body == b"".join(pieces)
    assert trio.current_time() - started == pytest.approx(planned_waits(sizes, PACING) * PACING.wait)


async def test_the_trickle_waits_92_times_for_100_bytes(autojump_clock: trio.abc.Clock) -> None:
    # The plan above, worked by hand once: pieces 8 to 99 are each followed by a wait; the 100th ends the body.
    started = trio.current_time()
    await read_body(Pieces([b"x"] * 100), 10**9, pacing=PACING)
    assert trio.current_time() - started == pytest.approx(92 * 0.005)


async def test_over_the_limit_is_refused_before_more_is_read(autojump_clock: trio.abc.Clock) -> None:
    receive = Pieces([b"x"] * 50)
    with pytest.raises(BodyTooLarge) as refused:
        await read_body(receive, 10, pacing=PACING)
    assert (receive.calls, refused.value.declared) == (11, None)  # the 11th byte is one too many
    announced = Pieces([b"x"])
    with pytest.raises(BodyTooLarge) as refused:
        await read_body(announced, 10, declared=11, pacing=PACING)
    assert (announced.calls, refused.value.declared) == (0, 11)  # refused on the announced size, unread


async def test_a_client_that_leaves_mid_trickle_is_gone(autojump_clock: trio.abc.Clock) -> None:
    with pytest.raises(ClientGone):
        await read_body(Pieces([b"x"] * 50, disconnect_after=20), 10**9, pacing=PACING)


def test_pacing_scales_with_a_faster_trio_clock() -> None:
    assert BodyPacing().scaled(4) == BodyPacing(wait=0.02)


async def test_both_servers_read_a_trickled_body_whole_at_the_pace_they_were_given(
    autojump_clock: trio.abc.Clock,
) -> None:
    pacing = BodyPacing(wait=0.5)
    pieces = [b"ab"] * 30

    async def echo(request: workersim.Request) -> workersim.Response:
        return workersim.Response(f"{len(await request.text())} bytes")

    sim = workersim.Simulation(edges=("SFO",), worker=echo)
    answers: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        answers.append(message.get("body", b""))

    scope = {
        "type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"", "scheme": "http",
        "server": ("w", 80), "headers": [(b"host", b"w")],
    }  # fmt: skip
    async with sim:
        started = trio.current_time()
        await WorkerApp(sim, pacing=pacing)(scope, Pieces(pieces), send)
        assert b"".join(answers) == b"60 bytes"
        assert trio.current_time() - started >= planned_waits([2] * 30, pacing) * 0.5  # 22 waits of half a second

        account, token = "a" * 32, "t" * 40
        rest = RestApp.for_simulation(sim, account, token, pacing=pacing)
        auth = {"Authorization": f"Bearer {token}"}
        base = f"/client/v4/accounts/{account}/storage/kv/namespaces"
        transport = httpx.ASGITransport(app=rest)
        async with httpx.AsyncClient(transport=transport, base_url="http://w", headers=auth) as client:
            namespace = (await client.post(base, json={"title": "t"})).json()["result"]["id"]
            path = f"{base}/{namespace}/values/k"
            put = {**scope, "method": "PUT", "path": path, "raw_path": path.encode(), "headers": [
                (b"authorization", auth["Authorization"].encode())]}  # fmt: skip
            answers.clear()
            started = trio.current_time()
            await rest(put, Pieces(pieces), send)
            assert json.loads(b"".join(answers))["success"] is True
            assert trio.current_time() - started >= 22 * 0.5
            assert (await client.get(path)).content == b"ab" * 30

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
    """An ASGI ``receive`` that hands out ``pieces`` as one body, each ``gap`` seconds after the reader asked for
    it (how fast the client sends), counting how often it was called."""

    def __init__(self, pieces: Sequence[bytes], *, gap: float = 0.0, disconnect_after: int | None = None) -> None:
        self.pieces = list(pieces)
        self.gap = gap
        self.calls = 0
        self.disconnect_after = disconnect_after

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.gap:
            await trio.sleep(self.gap)
        if self.calls == self.disconnect_after:
            return {"type": "http.disconnect"}
        last = self.calls == len(self.pieces)
        return {"type": "http.request", "body": self.pieces[self.calls - 1], "more_body": not last}


# The waits each plan calls for, worked out by hand from the rule: a wait follows each piece but the last that ends
# a run of 8 or more pieces under 4096 bytes, when the run has come in at under 64 KiB a second.
PLANS = {
    "trickle": ([1] * 100, 0.001, 92),  # a byte a millisecond: pieces 8 to 99 wait
    "quick-small-pieces": ([1] * 100, 0.0, 0),  # all there at once: never
    "chunked-lines": ([1024] * 100, 0.001, 0),  # 1 KiB a millisecond (1 MiB/s): a fast upload, never
    "slow-lines": ([1024] * 20, 0.05, 12),  # 1 KiB every 50 ms (20 KiB/s): pieces 8 to 19 wait
    "typical": ([5, 0], 0.0, 0),  # almost every request: a piece and the end of the body
    "large": ([65536] * 20, 0.001, 0),  # large pieces, however slow
    "broken-runs": ([1] * 7 + [8192] + [1] * 7 + [0], 0.001, 0),  # runs broken before their eighth piece
    "two-runs": ([1] * 9 + [8192] + [1] * 9, 0.001, 3),  # pieces 8 and 9 of the first run, 8 of the second
    "bound": ([4095] * 10 + [4096] * 10, 0.1, 3),  # under 4096 bytes is small (at 41 KiB/s: slow)
}


@pytest.mark.parametrize("plan", list(PLANS))
async def test_the_body_is_whole_and_only_slow_runs_of_small_pieces_wait(
    plan: str, autojump_clock: trio.abc.Clock
) -> None:
    sizes, gap, waits = PLANS[plan]
    pieces = [bytes([65 + i % 26]) * size for i, size in enumerate(sizes)]
    started = trio.current_time()
    body = await read_body(Pieces(pieces, gap=gap), 10**9, pacing=PACING)
    assert body == b"".join(pieces)
    assert trio.current_time() - started == pytest.approx(len(sizes) * gap + waits * PACING.wait)


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
    # Four times as fast a clock: a wait is four times as many of its seconds, and a byte rate a quarter.
    assert BodyPacing().scaled(4) == BodyPacing(wait=0.02, slow=16384.0)


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
        await WorkerApp(sim, pacing=pacing)(scope, Pieces(pieces, gap=0.01), send)
        assert b"".join(answers) == b"60 bytes"
        assert trio.current_time() - started >= 22 * 0.5  # two bytes every 10 ms: pieces 8 to 29 wait

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
            await rest(put, Pieces(pieces, gap=0.01), send)
            assert json.loads(b"".join(answers))["success"] is True
            assert trio.current_time() - started >= 22 * 0.5
            assert (await client.get(path)).content == b"ab" * 30

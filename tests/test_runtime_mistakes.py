"""Newcomer mistakes get clear answers, and a request's waitUntil work can be waited for."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import trio

import workersim

FORGETFUL = """
from workers import Response


async def fetch(request, env, ctx):
    if request.url.endswith("/later"):
        ctx.waitUntil(env.KV.put("later", "yes"))     # handed over: fine
        ctx.waitUntil(background(env))
        return Response("later")
    env.KV.put("visits", "1")                         # the await is missing
    return Response("ok")


async def background(env):
    env.KV.delete("later")                            # the await is missing here too
"""


PUT_CALL = 'env.KV.put("visits", "1")'


def line_of(text: str, source: str) -> int:
    """The line of ``source`` (as written to the file) where ``text`` stands: where the test put the mistake."""
    return next(number for number, line in enumerate(textwrap.dedent(source).splitlines(), 1) if text in line)


def make(worker: object, **options: object) -> workersim.Simulation:
    return workersim.Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",), worker=worker, **options)


async def test_a_kv_call_never_awaited_is_reported_with_its_line(
    tmp_path: Path, autojump_clock: trio.abc.Clock
) -> None:
    path = tmp_path / "worker.py"
    path.write_text(textwrap.dedent(FORGETFUL), encoding="utf-8")
    sim = make(path)
    async with sim:
        response = await sim.fetch("https://w/now", edge="SFO")
        assert response.status == 200  # as on Cloudflare, the response is unaffected
        assert await sim.env("SFO").KV.get("visits") is None  # the write never happened
        later = await sim.fetch("https://w/later", edge="SFO")
        await sim.settle(later)
        assert await sim.env("SFO").KV.get("later") == "yes"  # the put given to waitUntil did run
    [first, second] = sim.worker_errors
    assert (first.phase, first.edge) == ("fetch", "SFO")
    put_at = f"{path}:{line_of(PUT_CALL, FORGETFUL)}"
    assert str(first.error) == (
        f"env.KV.put() at {put_at} was never awaited, so it did nothing: write `await env.KV.put(...)`, or hand "
        "it to ctx.waitUntil() to run after the response"
    )
    delete_at = f"{path}:{line_of('env.KV.delete(', FORGETFUL)}"
    assert second.phase == "waitUntil" and f"env.KV.delete() at {delete_at} was never awaited" in str(second.error)


async def test_a_misspelt_binding_names_the_ones_there_are(autojump_clock: trio.abc.Clock) -> None:
    async def fetch(request: workersim.Request, env: workersim.Env) -> workersim.Response:
        return workersim.Response(await env.KVV.get("k"))

    sim = make(fetch, vars={"GREETING": "hi"})
    async with sim:
        response = await sim.fetch("https://w/", edge="LHR")
    assert response.status == 500
    [failure] = sim.worker_errors
    assert isinstance(failure.error, AttributeError)
    assert str(failure.error).startswith(
        "env has no binding or variable 'KVV'; this worker's are: GREETING (str), KV (KVNamespace)"
    )


async def test_settle_orders_back_to_back_requests(autojump_clock: trio.abc.Clock) -> None:
    async def fetch(request: workersim.Request, env: workersim.Env, ctx: workersim.ExecutionContext) -> object:
        count = int(await env.KV.get("count") or 0) + 1
        ctx.waitUntil(env.KV.put("count", str(count)))
        return workersim.Response(str(count))

    sim = make(fetch)
    async with sim:
        # Back to back at one virtual instant: the second runs before the first's waitUntil put lands.
        first = await sim.fetch("https://w/", edge="SFO")
        second = await sim.fetch("https://w/", edge="SFO")
        assert (await first.text(), await second.text()) == ("1", "1")
        await sim.settle()
        # With the first request's background work awaited, the next one sees its write.
        third = await sim.fetch("https://w/", edge="SFO")
        await sim.settle(third)
        fourth = await sim.fetch("https://w/", edge="SFO")
        assert (await third.text(), await fourth.text()) == ("2", "3")
        assert sim.now() == 0.0  # all at one virtual instant: settling waits for work, not for time


class Escape(BaseException):
    """A worker's own BaseException."""


@pytest.mark.parametrize("escape", [SystemExit(3), KeyboardInterrupt(), Escape("out")], ids=lambda e: type(e).__name__)
async def test_a_base_exception_from_a_worker_is_its_failure(
    escape: BaseException, autojump_clock: trio.abc.Clock
) -> None:
    async def fetch(request: workersim.Request, env: workersim.Env, ctx: workersim.ExecutionContext) -> object:
        if request.url.endswith("/later"):

            async def work() -> None:
                raise escape

            ctx.waitUntil(work())
            return workersim.Response("later")
        if request.url.endswith("/now"):
            raise escape
        return workersim.Response("fine")

    sim = make(fetch)
    async with sim:
        assert (await sim.fetch("https://w/now", edge="SFO")).status == 500
        assert (await sim.fetch("https://w/later", edge="SFO")).status == 200
        await sim.settle()
        assert await (await sim.fetch("https://w/", edge="SFO")).text() == "fine"  # the simulation goes on
    assert [(failure.phase, type(failure.error)) for failure in sim.worker_errors] == [
        ("fetch", type(escape)),
        ("waitUntil", type(escape)),
    ]

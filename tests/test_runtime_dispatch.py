"""sim.fetch: concurrent handlers on virtual time, errors as 500s, history rows per request, waitUntil work."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio

import workersim
from workersim import Request, Response

EDGES = ("SFO", "LHR", "NRT")


def make(worker: Any, **kwargs: Any) -> workersim.Simulation:
    return workersim.Simulation(
        edges=EDGES, kv_namespaces=("KV",), seed=3, worker=worker, delays=workersim.FixedDelay(2.0), **kwargs
    )


async def echo_after_work(request: Request, env: Any, ctx: Any) -> Response:
    name = request.url.rsplit("/", 1)[1]
    await env.KV.put(name, name.upper())
    await trio.sleep(1.5)  # the handler's own work takes virtual time
    shared = await env.KV.get("shared")
    return Response.json({"mine": await env.KV.get(name), "shared": shared})


async def test_100_concurrent_requests_across_edges(autojump_clock: trio.abc.Clock) -> None:
    results: dict[int, tuple[str, int, Any, float]] = {}
    async with make(echo_after_work) as sim:
        await sim.env("SFO").KV.put("shared", "S")
        await trio.sleep(2.0)  # "shared" is everywhere now

        async def one(i: int) -> None:
            edge = EDGES[i % 3]
            response = await sim.fetch(f"https://example.com/k{i}", edge=edge)
            results[i] = (edge, response.status, await response.json(), sim.now())

        async with trio.open_nursery() as nursery:
            for i in range(100):
                nursery.start_soon(one, i)
    assert len(results) == 100
    for i, (edge, status, body, finished) in results.items():
        assert (status, body, finished) == (200, {"mine": f"K{i}", "shared": "S"}, 3.5), (i, edge)
    rows = sim.history.rows
    fetches = [row for row in rows if row.op == "fetch"]
    responses = [row for row in rows if row.op == "response"]
    assert len(fetches) == len(responses) == 100
    assert {row.invoke for row in fetches} == {2.0}
    assert {(row.invoke, row.complete) for row in responses} == {(2.0, 3.5)}
    assert len({row.request for row in fetches}) == 100


async def test_history_ties_kv_rows_to_their_request(autojump_clock: trio.abc.Clock) -> None:
    async with make(echo_after_work) as sim:
        response = await sim.fetch("https://example.com/x", edge="NRT", method="POST", body="ignored")
    ray, edge = response.headers["cf-ray"].split("-")
    assert edge == "NRT" and len(ray) == 16
    rows = [row for row in sim.history if row.request == ray]
    assert [row.op for row in rows] == ["fetch", "put", "get", "get", "response"]
    assert rows[0].to_json() | {"id": 0} == {
        "id": 0,
        "edge": "NRT",
        "op": "fetch",
        "request": ray,
        "method": "POST",
        "url": "https://example.com/x",
        "invoke": 0.0,
        "complete": 0.0,
    }
    assert isinstance(rows[-1], workersim.ResponseRow) and rows[-1].status == 200 and rows[-1].error is None


async def test_a_raising_handler_gives_500_and_the_next_request_works(autojump_clock: trio.abc.Clock) -> None:
    async def flaky(request: Request, env: Any, ctx: Any) -> Response:
        if request.url.endswith("/boom"):
            await env.KV.put("before", "crash")
            raise ValueError("boom")
        return Response("fine")

    async with make(flaky) as sim:
        failed = await sim.fetch("https://example.com/boom", edge="LHR")
        ok = await sim.fetch("https://example.com/ok", edge="LHR")
    assert failed.status == 500
    assert "ValueError: boom" in await failed.text()
    assert failed.headers["cf-ray"].endswith("-LHR")
    assert (ok.status, await ok.text()) == (200, "fine")
    [error] = sim.worker_errors
    assert (error.phase, error.edge, str(error.error)) == ("fetch", "LHR", "boom")
    assert "raise ValueError" in error.traceback
    response_rows = [row for row in sim.history if row.op == "response"]
    assert [(row.status, getattr(row, "error", None)) for row in response_rows] == [
        (500, "ValueError: boom"),
        (200, None),
    ]


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ({"a": 1}, "returned dict {'a': 1}, not a Response: wrap it"),
        (None, "returned NoneType None, not a Response: does the handler end without a `return`?"),
        ("text", "returned str 'text', not a Response"),
    ],
)
async def test_a_non_response_gives_a_clear_500(returned: Any, message: str, autojump_clock: trio.abc.Clock) -> None:
    async def wrong(request: Request) -> Any:
        return returned

    async with make(wrong) as sim:
        response = await sim.fetch("https://example.com/")
    assert response.status == 500
    assert message in await response.text()
    assert message in str(sim.worker_errors[0])


async def test_a_forgotten_await_is_named_and_leaves_no_warning(autojump_clock: trio.abc.Clock) -> None:
    async def forgot(request: Request, env: Any) -> Any:
        return env.KV.get("k")  # an un-awaited coroutine, returned

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        async with make(forgot) as sim:
            response = await sim.fetch("https://example.com/")
    assert "is an `await` missing?" in await response.text()


async def test_wait_until_runs_after_the_response_and_is_awaited_at_exit(autojump_clock: trio.abc.Clock) -> None:
    async def later(env: Any) -> None:
        await trio.sleep(5)
        await env.KV.put("late", "done")

    async def worker(request: Request, env: Any, ctx: Any) -> Response:
        ctx.waitUntil(later(env))
        ctx.wait_until(env.KV.put("soon", "done"))
        return Response("sent")

    async with make(worker) as sim:
        response = await sim.fetch("https://example.com/", edge="SFO")
        assert sim.now() == 0.0 and await response.text() == "sent"
        assert await sim.env("SFO").KV.get("late") is None
    assert trio.current_time() == 5.0  # leaving `async with sim` waited for the work
    ray = response.headers["cf-ray"].split("-")[0]
    tagged = [(row.op, getattr(row, "key", None), row.invoke) for row in sim.history if row.request == ray]
    assert tagged == [("fetch", None, 0.0), ("response", None, 0.0), ("put", "soon", 0.0), ("put", "late", 5.0)]


async def test_failing_wait_until_work_is_reported_and_changes_nothing_else(autojump_clock: trio.abc.Clock) -> None:
    async def fail() -> None:
        await trio.sleep(1)
        raise RuntimeError("background failure")

    async def worker(request: Request, env: Any, ctx: Any) -> Response:
        ctx.waitUntil(fail())
        return Response("ok")

    async with make(worker) as sim:
        response = await sim.fetch("https://example.com/")
        assert response.status == 200
        await trio.sleep(2)
        assert (await sim.fetch("https://example.com/")).status == 200
    assert [(error.phase, str(error.error)) for error in sim.worker_errors] == [
        ("waitUntil", "background failure"),
        ("waitUntil", "background failure"),
    ]


async def test_wait_until_work_is_cancelled_30_seconds_after_the_response(autojump_clock: trio.abc.Clock) -> None:
    async def slow(env: Any) -> None:
        await trio.sleep(29)
        await env.KV.put("within", "limit")
        await trio.sleep_forever()

    async def worker(request: Request, env: Any, ctx: Any) -> Response:
        await trio.sleep(1)
        ctx.waitUntil(slow(env))
        return Response("ok")

    async with make(worker) as sim:
        await sim.fetch("https://example.com/")
    assert trio.current_time() == 31.0
    assert [row.key for row in sim.history if row.op == "put"] == ["within"]
    [error] = sim.worker_errors
    assert isinstance(error.error, TimeoutError) and "30 s after the response" in str(error)


async def test_wait_until_refuses_what_cannot_be_awaited(autojump_clock: trio.abc.Clock) -> None:
    async def worker(request: Request, env: Any, ctx: Any) -> Response:
        ctx.waitUntil("not awaitable")
        return Response("unreachable")

    async with make(worker) as sim:
        response = await sim.fetch("https://example.com/")
    assert response.status == 500 and "waitUntil() takes an awaitable" in await response.text()


async def test_an_error_in_the_body_cancels_wait_until_work_and_propagates(autojump_clock: trio.abc.Clock) -> None:
    async def worker(request: Request, env: Any, ctx: Any) -> Response:
        ctx.waitUntil(trio.sleep(60))
        return Response("ok")

    with pytest.raises(KeyError, match="mine"):
        async with make(worker) as sim:
            await sim.fetch("https://example.com/")
            raise KeyError("mine")
    assert trio.current_time() == 0.0


async def test_cf_ray_replaces_one_the_handler_set_and_keeps_its_headers(autojump_clock: trio.abc.Clock) -> None:
    async def handler(request: Request, env: Any, ctx: Any) -> Response:
        kind = request.url.rsplit("/", 1)[1]
        if kind == "text":
            return Response("t")
        if kind == "given":
            return Response("g", headers=[("CF-Ray", "mine"), ("X-A", "1"), ("cf-ray", "again")])
        response = Response(None, 204)
        response.headers.set("cf-ray", "mine")
        return response

    # An edge name with a space around it: the header value is trimmed, as Headers.set trims any value.
    async with workersim.Simulation(edges=("SFO", " LHR "), worker=handler) as sim:
        text = await sim.fetch("https://example.com/text")
        given = await sim.fetch("https://example.com/given", edge=" LHR ")
        read = await sim.fetch("https://example.com/read")
    ray = text.headers["cf-ray"].split("-")[0]
    assert text.headers.multi_items() == [("content-type", "text/plain;charset=UTF-8"), ("cf-ray", f"{ray}-SFO")]
    fields = given.headers.multi_items()
    assert fields[:2] == [("x-a", "1"), ("content-type", "text/plain;charset=UTF-8")]
    assert len(fields) == 3 and fields[2][0] == "cf-ray" and fields[2][1].endswith("- LHR")
    assert [name for name, _ in read.headers.multi_items()] == ["cf-ray"] and read.status == 204


async def test_bad_fetch_calls_are_refused_before_anything_is_recorded(autojump_clock: trio.abc.Clock) -> None:
    async with make(echo_after_work) as sim:
        with pytest.raises(ValueError, match="unknown edge 'XYZ'; the edges are SFO, LHR, NRT"):
            await sim.fetch("https://example.com/", edge="XYZ")
        with pytest.raises(TypeError, match="absolute http"):
            await sim.fetch("/relative")
    assert len(sim.history) == 0
    async with workersim.Simulation(edges=EDGES) as plain:
        with pytest.raises(RuntimeError, match="this simulation has no worker"):
            await plain.fetch("https://example.com/")
    with pytest.raises(RuntimeError, match="not running"):
        await make(echo_after_work).fetch("https://example.com/")


def run_workload(seed: int) -> str:
    async def worker(request: Request, env: Any, ctx: Any) -> Response:
        key = request.url.rsplit("/", 1)[1]
        seen = await env.KV.get(key)
        ctx.waitUntil(env.KV.put(key, f"{seen}+"))
        if key == "k3":
            raise RuntimeError("k3 fails")
        return Response(seen or "-")

    async def main() -> str:
        sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), seed=seed, worker=worker)
        async with sim:
            for round_ in range(3):
                async with trio.open_nursery() as nursery:
                    for i in range(30):
                        nursery.start_soon(partial(sim.fetch, f"https://example.com/k{i % 5}", edge=EDGES[i % 3]))
                await trio.sleep(0.4 * round_)
        return sim.history.to_jsonl_text()

    return workersim.run(main)


def test_same_seed_and_requests_give_the_same_history() -> None:
    first = run_workload(11)
    assert run_workload(11) == first
    assert run_workload(12) != first
    assert '"op":"response"' in first and '"request":' in first
    # Another process with another hash seed replays it byte for byte.
    script = "from test_runtime_dispatch import run_workload; print(run_workload(11), end='')"
    other = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path(__file__).parent,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert other.stdout == first

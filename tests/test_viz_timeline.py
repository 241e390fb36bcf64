"""Text timelines explain each read."""

from __future__ import annotations

import trio

import workersim
from workersim.viz import timeline


async def test_reads_say_what_they_saw_and_what_they_missed(autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",), delays=workersim.FixedDelay(2.5))
    async with sim:
        await sim.env("SFO").KV.put("k", "v")
        await sim.env("LHR").KV.get("k")
        await trio.sleep(3)
        await sim.env("LHR").KV.get("k")
        await sim.env("LHR").KV.delete("k")
        await sim.env("LHR").KV.list()
        sim.partition(["SFO"])
        await sim.env("SFO").KV.get("k")
    lines = timeline(sim.history, sim.arrival).splitlines()
    assert lines[1] == "  0.000s  SFO      put 'k' = 'v'  (write #0)"
    assert lines[2] == "  0.000s  LHR      get 'k' -> (missing)  <- stale: missed write #0, which reaches LHR at 2.500s"
    assert lines[3] == "  3.000s  LHR      get 'k' -> 'v'  (sees write #0)"
    assert lines[4] == "  3.000s  LHR      delete 'k'  (write #3)"
    assert lines[5] == "  3.000s  LHR      list prefix='' -> []"
    assert lines[6].endswith("<- stale: missed write #3, held back from SFO by a partition")


def test_a_history_from_a_file_renders_without_arrival_times() -> None:
    rows = [
        {"id": 0, "edge": "A", "op": "put", "key": "k", "value": "1", "invoke": 0.0, "version": 1},
        {"id": 1, "edge": "B", "op": "get", "key": "k", "value": None, "invoke": 0.5, "version": None},
        {"id": 2, "edge": "B", "op": "put", "key": "", "error": "TypeError: Key name cannot be empty.", "invoke": 1.0},
    ]
    lines = timeline(rows).splitlines()
    assert lines[2].endswith("<- stale: missed write #0")
    assert lines[3].endswith("put '' -> TypeError: Key name cannot be empty.")


async def test_requests_and_the_kv_calls_they_made_are_linked(autojump_clock: trio.abc.Clock) -> None:
    async def fetch(request: workersim.Request, env: workersim.Env, ctx: object) -> workersim.Response:
        await env.KV.put("k", "v")
        return workersim.Response("ok", status=201)

    sim = workersim.Simulation(edges=("SFO",), kv_namespaces=("KV",), worker=fetch)
    async with sim:
        await sim.fetch("https://example.com/x", edge="SFO", method="POST")
    request = sim.history[0]["request"]
    assert timeline(sim.history).splitlines()[1:] == [
        f"  0.000s  SFO      request {request}: POST https://example.com/x",
        f"  0.000s  SFO      put 'k' = 'v'  (write #1)  [request {request}]",
        f"  0.000s  SFO      request {request}: response 201",
    ]

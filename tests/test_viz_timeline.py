"""Text timelines explain each read: which write it saw, or which it missed and when that arrives."""

from __future__ import annotations

import trio
from _timeline import PARTITION, parse

import workersim
from workersim.core.rows import row_from_json
from workersim.viz import timeline

DELAY = 2.5
LATER = 3.0
"""When the test reads again: after the write has had ``DELAY`` to arrive."""


async def test_reads_say_what_they_saw_and_what_they_missed(autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",), delays=workersim.FixedDelay(DELAY))
    async with sim:
        await sim.env("SFO").KV.put("k", "v")  # op 0
        await sim.env("LHR").KV.get("k")  # op 1: before the write arrives
        await trio.sleep(LATER)
        await sim.env("LHR").KV.get("k")  # op 2: after
        await sim.env("LHR").KV.delete("k")  # op 3
        await sim.env("LHR").KV.list()  # op 4
        sim.partition(["SFO"])
        await sim.env("SFO").KV.get("k")  # op 5: the delete cannot reach SFO
    put, stale, fresh, delete, listed, cut_off = parse(timeline(sim.history, sim.arrival))

    assert (put.time, put.edge, put.op, put.write) == (0.0, "SFO", "put", 0)
    assert (stale.time, stale.edge, stale.result, stale.sees) == (0.0, "LHR", "(missing)", None)
    assert stale.missed == (put.write, 0.0 + DELAY)
    assert (fresh.time, fresh.edge, fresh.result, fresh.sees, fresh.missed) == (LATER, "LHR", "'v'", put.write, None)
    assert (delete.time, delete.edge, delete.op, delete.write) == (LATER, "LHR", "delete", 3)
    assert (listed.op, listed.result) == ("list", "[]")  # the delete is visible at once where it was made
    assert (cut_off.time, cut_off.edge, cut_off.result) == (LATER, "SFO", "'v'")
    assert cut_off.missed == (delete.write, PARTITION)


def test_a_history_from_a_file_renders_without_arrival_times() -> None:
    rows = [
        {"id": 0, "edge": "A", "op": "put", "key": "k", "value": "1", "invoke": 0.0, "version": 1},
        {"id": 1, "edge": "B", "op": "get", "key": "k", "value": None, "invoke": 0.5, "version": None},
        {"id": 2, "edge": "B", "op": "put", "key": "", "error": "TypeError: Key name cannot be empty.", "invoke": 1.0},
    ]
    put, read, failed = parse(timeline([row_from_json(row) for row in rows]))
    assert (put.edge, put.write) == ("A", 0)
    assert (read.time, read.edge, read.result, read.missed) == (0.5, "B", "(missing)", (0, None))  # no arrival given
    assert (failed.op, failed.result, failed.write) == ("put", rows[2]["error"], None)


async def test_requests_and_the_kv_calls_they_made_are_linked(autojump_clock: trio.abc.Clock) -> None:
    async def fetch(request: workersim.Request, env: workersim.Env, ctx: object) -> workersim.Response:
        await env.KV.put("k", "v")
        return workersim.Response("ok", status=201)

    sim = workersim.Simulation(edges=("SFO",), kv_namespaces=("KV",), worker=fetch)
    async with sim:
        await sim.fetch("https://example.com/x", edge="SFO", method="POST")
    request = sim.history[0].request
    arrived, put, responded = parse(timeline(sim.history))
    assert arrived.text == f"request {request}: POST https://example.com/x"
    assert (put.op, put.write) == ("put", 1)  # op 0 is the request's arrival
    assert put.text.endswith(f"[request {request}]")
    assert responded.text == f"request {request}: response 201"
    assert {line.edge for line in (arrived, put, responded)} == {"SFO"}

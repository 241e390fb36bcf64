"""Application-level anomalies found from the history alone: on histories recorded from real runs of buggy workers,
with no false alarm on correct ones, and on hand-written histories with and without versions."""

from __future__ import annotations

from typing import Any

import pytest
import trio

import workersim
from workersim.checkers import (
    check_anomalies,
    check_invariants,
    check_then_act,
    final_values,
    lost_updates,
    stale_write_backs,
    staleness,
)
from workersim.core.rows import row_from_json

EDGES = ("SFO", "LHR")


def make(worker: object) -> workersim.Simulation:
    return workersim.Simulation(
        edges=EDGES, kv_namespaces=("KV",), seed=2, delays=workersim.FixedDelay(2), worker=worker
    )


async def counter(request: workersim.Request, env: Any) -> workersim.Response:
    count = int(await env.KV.get("count") or 0) + 1
    await env.KV.put("count", str(count))
    return workersim.Response(str(count))


async def register(request: workersim.Request, env: Any) -> workersim.Response:
    name = request.url.rsplit("/", 1)[1]
    if await env.KV.get(f"user:{name}") is None:
        await env.KV.put(f"user:{name}", request.headers.get("x-owner") or "")
        return workersim.Response("created", status=201)
    return workersim.Response("taken", status=409)


async def sessions(request: workersim.Request, env: Any) -> workersim.Response:
    if request.method == "DELETE":
        await env.KV.delete("session")
        return workersim.Response("logged out")
    if request.method == "POST":
        await env.KV.put("session", "ada")
        return workersim.Response("logged in")
    session = await env.KV.get("session")
    if session is not None:
        await env.KV.put("session", session)  # the mistake: writing the session back on every read
    return workersim.Response(session or "nobody")


def requests_of(sim: workersim.Simulation) -> list[str]:
    return [row.request for row in sim.history if isinstance(row, workersim.FetchRow)]  # type: ignore[misc]


async def test_a_lost_increment_is_found(autojump_clock: trio.abc.Clock) -> None:
    sim = make(counter)
    async with sim:
        await sim.env("SFO").KV.put("count", "0")
        await trio.sleep(3)  # "0" is everywhere
        async with trio.open_nursery() as nursery:  # two visits at one instant, at two edges
            nursery.start_soon(lambda: sim.fetch("https://w/", edge="SFO"))
            nursery.start_soon(lambda: sim.fetch("https://w/", edge="LHR"))
        assert await sim.env("SFO").KV.get("count") == "1"  # two increments, one counted
    report = lost_updates(sim.history)
    [violation] = report.violations
    first, second = requests_of(sim)
    assert violation.message.startswith(f"lost update of 'count': request {first} at SFO and request {second} at LHR")
    # The read saw the test's own put of "0", named as the timeline names it: by its history id.
    [put] = [row for row in sim.history if isinstance(row, workersim.KVWrite) and row.request is None]
    assert f"both read '0' (write #{put.id})" in violation.message
    assert check_then_act(sim.history).ok and stale_write_backs(sim.history).ok


async def test_a_double_registration_is_found(autojump_clock: trio.abc.Clock) -> None:
    sim = make(register)
    async with sim:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: sim.fetch("https://w/ada", edge="SFO", headers={"x-owner": "one"}))
            nursery.start_soon(lambda: sim.fetch("https://w/ada", edge="LHR", headers={"x-owner": "two"}))
    report = check_then_act(sim.history)
    [violation] = report.violations
    first, second = requests_of(sim)
    assert violation.message.startswith(
        f"check-then-act race on 'user:ada': request {first} at SFO read it as missing at 0.000s and created it"
    )
    assert f"request {second} at LHR also read it as missing at 0.000s and created it again" in violation.message
    assert lost_updates(sim.history).ok


async def test_a_session_written_back_to_life_is_found(autojump_clock: trio.abc.Clock) -> None:
    sim = make(sessions)
    async with sim:
        await sim.fetch("https://w/", edge="LHR", method="POST")
        await trio.sleep(3)
        await sim.fetch("https://w/", edge="LHR", method="DELETE")  # logged out at LHR at 3 s
        await trio.sleep(1)
        await sim.fetch("https://w/", edge="SFO")  # SFO has not seen the delete yet: reads and writes it back
        await trio.sleep(3)
        assert await sim.env("LHR").KV.get("session") == "ada"  # back to life everywhere
    [violation] = stale_write_backs(sim.history).violations
    reader = requests_of(sim)[2]
    assert violation.message.startswith(
        f"write based on a stale read of 'session': request {reader} at SFO read 'ada' at 4.000s, but write #"
    )
    assert "at LHR had already deleted it at 3.000s" in violation.message


async def test_correct_workers_raise_no_alarm(autojump_clock: trio.abc.Clock) -> None:
    sim = make(counter)
    async with sim:
        for edge in ("SFO", "SFO", "LHR", "SFO"):
            await sim.fetch("https://w/", edge=edge)
            await trio.sleep(3)  # each visit sees the one before, wherever it was made
        assert await sim.env("LHR").KV.get("count") == "4"
    registrations = make(register)
    async with registrations:
        await registrations.fetch("https://w/ada", edge="SFO")
        await registrations.fetch("https://w/ada", edge="SFO")  # taken: read the first, wrote nothing
        await registrations.fetch("https://w/bob", edge="LHR")
    for history in (sim.history, registrations.history):
        assert all(report.ok for report in check_anomalies(history)), [str(r) for r in check_anomalies(history)]


def rows(data: list[dict[str, Any]]) -> list[Any]:
    return [row_from_json({"ns": "KV", "invoke": 0.0, **item, "id": i}) for i, item in enumerate(data)]


def test_hand_written_histories_with_and_without_versions() -> None:
    with_versions = rows(
        [
            {"edge": "A", "op": "put", "key": "n", "value": "5", "version": 1, "invoke": 0.0},
            {"edge": "A", "op": "get", "key": "n", "value": "5", "version": 1, "invoke": 5.0, "request": "r1"},
            {"edge": "B", "op": "get", "key": "n", "value": "5", "version": 1, "invoke": 5.0, "request": "r2"},
            {"edge": "A", "op": "put", "key": "n", "value": "6", "version": 2, "invoke": 5.0, "request": "r1"},
            {"edge": "B", "op": "put", "key": "n", "value": "6", "version": 3, "invoke": 5.1, "request": "r2"},
        ]
    )
    assert [v.ops for v in lost_updates(with_versions).violations] == [(1, 3, 2, 4)]
    # The same story without versions: reads matched to writes by value.
    without = rows([{k: v for k, v in row.to_json().items() if k != "version"} for row in with_versions])
    assert [v.ops for v in lost_updates(without).violations] == [(1, 3, 2, 4)]
    # Either way the message names the write both reads saw by its id, row 0 (not by its version, 1).
    for history in (with_versions, without):
        [violation] = lost_updates(history).violations
        assert "both read '5' (write #0) at 5.000s and 5.000s" in violation.message
    # Writes without a request (a test's own calls) are nobody's read-modify-write: no alarm.
    anonymous = rows([{k: v for k, v in row.to_json().items() if k != "request"} for row in with_versions])
    assert all(report.ok and report.checked == 0 for report in check_anomalies(anonymous))


async def test_staleness_statistics_follow_the_plan(autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), delays=workersim.FixedDelay(2))
    async with sim:
        await sim.env("SFO").KV.put("k", "v")
        await sim.env("SFO").KV.get("k")  # at the writer: fresh
        for at in (0.5, 1.5, 2.5):  # the write reaches LHR at 2 s: stale by 0.5 s and 1.5 s, then fresh
            await trio.sleep(at - sim.now())
            await sim.env("LHR").KV.get("k")
        stats = await sim.run_load(rate=50, duration=60, keys=5)
    planned = staleness(list(sim.history)[:5])
    assert (planned.reads, planned.stale_reads, planned.by_edge) == (4, 2, {"SFO": (1, 0), "LHR": (3, 2)})
    assert (planned.p50, planned.max) == (1.5, 1.5)
    assert str(planned).startswith("staleness: 2 of 4 reads stale; behind by p50 1.500s")
    # The load's own statistics (worked out from the replicas as it ran) agree with the history's.
    load = staleness(list(sim.history)[5:])
    assert (load.reads, load.stale_reads, load.max) == (stats.reads, stats.stale_reads, stats.staleness_max)


def every_increment_counts(history: Any) -> str | None:
    counted = int(final_values(history).get(("KV", "count")) or 0)
    served = sum(1 for row in history if isinstance(row, workersim.ResponseRow) and row.status == 200)
    if counted != served:
        return f"{served} increments were served but the final count is {counted}"
    return None


async def test_a_user_invariant_is_checked_like_a_checker(autojump_clock: trio.abc.Clock) -> None:
    racy, calm = make(counter), make(counter)
    async with racy:
        async with trio.open_nursery() as nursery:
            for edge in EDGES:
                nursery.start_soon(lambda edge=edge: racy.fetch("https://w/", edge=edge))
    async with calm:
        for edge in EDGES:
            await calm.fetch("https://w/", edge=edge)
            await trio.sleep(3)
    [report] = check_invariants(racy.history, every_increment_counts)
    assert report.name == "every_increment_counts" and not report.ok
    assert [v.message for v in report.violations] == ["2 increments were served but the final count is 1"]
    assert all(report.ok for report in check_invariants(calm.history, every_increment_counts, lambda rows: True))
    with pytest.raises(TypeError, match="returned int"):
        check_invariants(calm.history, lambda rows: 3)


@pytest.mark.parametrize("second", ["ada", "bob"])
def test_a_write_that_replaced_an_equal_value_is_told_apart(second: str) -> None:
    # A write over one its request had not seen: with the same value it undid nothing, but the history cannot say
    # whether a change was lost (two increments to 6), so the message says both; with another value, it undid it.
    race = rows(
        [
            {"edge": "A", "op": "get", "key": "user:x", "value": None, "version": None, "request": "r1"},
            {"edge": "B", "op": "get", "key": "user:x", "value": None, "version": None, "request": "r2"},
            {"edge": "A", "op": "put", "key": "user:x", "value": "ada", "version": 1, "request": "r1"},
            {"edge": "B", "op": "put", "key": "user:x", "value": second, "version": 2, "invoke": 0.5, "request": "r2"},
        ]
    )
    same = second == "ada"
    [created] = check_then_act(race).violations
    again = "created it again with the same value at 0.500s" if same else "created it again at 0.500s"
    assert again in created.message
    assert created.message.endswith("(as two increments do)." if same else "(write #3), replacing the first.")
    back = rows(
        [
            {"edge": "A", "op": "put", "key": "user:x", "value": "ada", "version": 1, "request": "r1"},
            {"edge": "C", "op": "get", "key": "user:x", "value": None, "version": None, "invoke": 2.0, "request": "r3"},
            {"edge": "C", "op": "put", "key": "user:x", "value": second, "version": 2, "invoke": 2.0, "request": "r3"},
        ]
    )
    [written] = stale_write_backs(back).violations
    assert written.message.endswith(
        "wrote the same value, 'ada', at 2.000s (write #2), without having seen it: harmless if both meant the same "
        "change, a lost one if each meant its own (as two increments do)."
        if same
        else "wrote 'bob' at 2.000s (write #2), undoing it."
    )

"""The conductor: every call is a checkpoint, cancellation is clean, and ordering survives a cancelled leader."""

from __future__ import annotations

import pytest
import trio
import trio.testing

import workersim
from workersim.sim import engine


def make() -> workersim.Simulation:
    return workersim.Simulation(edges=("SFO",), kv_namespaces=("KV",))


async def test_every_call_is_a_checkpoint_even_when_rejected(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        kv = sim.env("SFO").KV
        await kv.put("k", "v")
        with trio.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(trio.Cancelled):
                await kv.get("k")
        with trio.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(trio.Cancelled):
                await kv.get("")  # a rejected call is still a checkpoint
        with trio.testing.assert_checkpoints():
            await kv.get("k")
        with trio.testing.assert_checkpoints():
            with pytest.raises(TypeError):
                await kv.put("", "v")
    assert [row.op for row in sim.history] == ["put", "get", "put"]


async def test_a_cancelled_leader_hands_over_to_a_waiting_call(autojump_clock: trio.abc.Clock) -> None:
    results: list[object] = []
    async with make() as sim:
        kv = sim.env("SFO").KV
        await kv.put("k", "v")
        scope = trio.CancelScope()

        async def cancelled_reader() -> None:
            with scope:
                await kv.get("k")
                results.append("not cancelled")

        async def reader() -> None:
            results.append(await kv.get("k"))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(cancelled_reader)
            # Two checkpoints: the first reader has parked as the leader before the second arrives.
            await trio.lowlevel.checkpoint()
            await trio.lowlevel.checkpoint()
            nursery.start_soon(reader)
            await trio.lowlevel.checkpoint()
            scope.cancel()
    assert results == ["v"]
    assert [row.op for row in sim.history] == ["put", "get"]


async def test_a_cancelled_follower_leaves_no_trace(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        kv = sim.env("SFO").KV
        scope = trio.CancelScope()

        async def follower() -> None:
            with scope:
                await kv.put("cancelled", "x")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(kv.put, "kept", "y")
            await trio.lowlevel.checkpoint()
            await trio.lowlevel.checkpoint()
            nursery.start_soon(follower)
            await trio.lowlevel.checkpoint()
            scope.cancel()
        assert await kv.get("cancelled") is None
        assert await kv.get("kept") == "y"


async def test_calls_from_many_tasks_complete_at_the_right_virtual_time(autojump_clock: trio.abc.Clock) -> None:
    finished: dict[int, float] = {}
    async with make() as sim:

        async def task(i: int) -> None:
            await trio.sleep(i % 5)
            await sim.env("SFO").KV.put(f"k{i}", str(i))
            finished[i] = sim.now()

        async with trio.open_nursery() as nursery:
            for i in range(100):
                nursery.start_soon(task, i)
    assert finished == {i: float(i % 5) for i in range(100)}


async def test_tasks_spawned_by_an_applied_call_belong_to_the_caller(autojump_clock: trio.abc.Clock) -> None:
    # An action runs inside whichever task leads the batch; what it spawns must still be numbered as the
    # calling task's child, or where its calls fall among the others would depend on trio's scheduling.
    async with make() as sim:
        kv = sim.env("SFO").KV
        async with trio.open_nursery() as nursery:

            async def caller(i: int) -> None:
                def spawn(now: int) -> None:
                    nursery.start_soon(kv.put, f"spawned{i}", "x")

                await trio.sleep(1)
                await engine(sim).apply(spawn)
                await kv.put(f"own{i}", "x")  # lands in the same batch as the spawned puts

            for i in range(10):
                nursery.start_soon(caller, i)
    assert [row.key for row in sim.history] == [k for i in range(10) for k in (f"own{i}", f"spawned{i}")]

"""The conductor: every call is a cancellation point, and a schedule point whenever another task could run;
cancellation is clean; tasks interleave fairly; and the trio internals it reads are where it expects them."""

from __future__ import annotations

import pytest
import trio
import trio.testing

import workersim
from workersim.sim import engine
from workersim.sim._conductor import MAX_STREAK
from workersim.sim._scheduler import Scheduler


def make() -> workersim.Simulation:
    return workersim.Simulation(edges=("SFO",), kv_namespaces=("KV",))


class _Steps(trio.abc.Instrument):
    def __init__(self, task: trio.lowlevel.Task) -> None:
        self.task = task
        self.steps = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if task is self.task:
            self.steps += 1


async def test_every_call_is_a_cancellation_point_even_when_rejected(autojump_clock: trio.abc.Clock) -> None:
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
                await kv.get("")  # a rejected call is still a cancellation point
    assert [row.op for row in sim.history] == ["put"]  # cancelled calls left no trace


async def test_a_call_is_a_schedule_point_when_another_task_could_run(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        kv = sim.env("SFO").KV
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.lowlevel.checkpoint)  # runnable at the call: the call must let it run
            with trio.testing.assert_checkpoints():
                await kv.get("k")
            nursery.start_soon(trio.lowlevel.checkpoint)
            with trio.testing.assert_checkpoints(), pytest.raises(TypeError):
                await kv.put("", "v")
        # Alone (nothing runnable, no deadline due) a call is applied without a scheduler pass.
        steps = _Steps(trio.lowlevel.current_task())
        trio.lowlevel.add_instrument(steps)
        await kv.get("k")
        await kv.put("k", "v2")
        trio.lowlevel.remove_instrument(steps)
        assert steps.steps == 0
        assert await kv.get("k") == "v2"


async def test_a_task_alone_still_gives_the_scheduler_a_pass_regularly(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        kv = sim.env("SFO").KV
        steps = _Steps(trio.lowlevel.current_task())
        trio.lowlevel.add_instrument(steps)
        calls = 10 * MAX_STREAK
        for i in range(calls):
            await kv.put("k", str(i))
        trio.lowlevel.remove_instrument(steps)
    # One pass every MAX_STREAK calls (the call that parks, then wakes with its result): never unbounded.
    assert calls // (MAX_STREAK + 1) <= steps.steps <= calls // MAX_STREAK + 1
    assert [row.value for row in sim.history] == [str(i).encode() for i in range(calls)]


async def test_two_tasks_looping_on_calls_interleave_fairly(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        kv = sim.env("SFO").KV

        async def loop(name: str) -> None:
            for i in range(50):
                await kv.put(name, str(i))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(loop, "first")
            nursery.start_soon(loop, "second")
    # Each batch holds one call of each, in spawn order: neither task runs ahead of the other.
    assert [row.key for row in sim.history] == ["first", "second"] * 50


async def test_a_task_cancelled_while_parked_leaves_no_trace(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        kv = sim.env("SFO").KV
        scope = trio.CancelScope()
        order: list[str] = []

        async def parked() -> None:
            with scope:
                await kv.put("cancelled", "x")
                order.append("not cancelled")

        async def canceller() -> None:
            scope.cancel()  # runs in the same pass as `parked`, before any batch: its call is still parked
            await kv.put("kept", "y")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(parked)
            nursery.start_soon(canceller)
        assert await kv.get("cancelled") is None
        assert await kv.get("kept") == "y"
    assert order == []
    assert [(row.op, row.key) for row in sim.history] == [("put", "kept"), ("get", "cancelled"), ("get", "kept")]


async def test_a_task_cancelled_between_calls_stops_there(autojump_clock: trio.abc.Clock) -> None:
    async with make() as sim:
        kv = sim.env("SFO").KV
        with trio.move_on_after(2.5):
            for i in range(10):
                await kv.put("k", str(i))
                await trio.sleep(1)
    assert [row.value for row in sim.history] == [b"0", b"1", b"2"]


def test_the_trio_internals_the_conductor_reads_are_there() -> None:
    # If this fails, trio moved its run queue or deadlines: the conductor falls back to trio's public statistics
    # (correct, but each call costs about half a checkpoint more). Check workersim/sim/_scheduler.py against the
    # new trio, then widen the pin in pyproject.toml.
    async def main() -> tuple[bool, int, bool]:
        scheduler = Scheduler.current()
        trio.lowlevel.reschedule  # noqa: B018 - the public half it relies on
        return scheduler.internal, scheduler.runnable(), scheduler.deadline_due()

    assert trio.run(main) == (True, 0, False)


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

"""The conductor: every call is a cancellation point, and a schedule point whenever another task could run;
cancellation is clean; tasks interleave fairly; and the trio internals it reads are where it expects them."""

from __future__ import annotations

import itertools
import math

import pytest
import trio
import trio.testing

import workersim
from workersim.sim import engine
from workersim.sim._conductor import MAX_STREAK
from workersim.sim._scheduler import Scheduler
from workersim.sim.engine import task_identities


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
    # If this fails, trio moved its run queue, deadlines or park message: the conductor falls back to trio's public
    # API (correct, but each call costs about half a checkpoint more). Check workersim/sim/_scheduler.py against
    # the new trio, then widen the pin in pyproject.toml.
    async def main() -> tuple[bool, bool, int, float]:
        scheduler = Scheduler.current()
        trio.lowlevel.reschedule  # noqa: B018 - the public half it relies on
        await trio.lowlevel.checkpoint()  # a pass of the scheduler: the queue is emptied in place, not replaced
        same_queue = Scheduler.current().queue is scheduler.queue
        return scheduler.internal, same_queue, len(scheduler.queue), scheduler.next_deadline()

    assert trio.run(main) == (True, True, 0, math.inf)


def test_the_park_message_is_the_one_trio_s_wait_task_rescheduled_yields() -> None:
    def abort(_raise_cancel: object) -> trio.lowlevel.Abort:
        return trio.lowlevel.Abort.SUCCEEDED

    async def main() -> None:
        park = Scheduler.current().park
        assert park is not None
        waiting = trio.lowlevel.wait_task_rescheduled(abort)
        yielded = waiting.send(None)  # what trio's run loop would receive
        waiting.close()
        assert type(yielded) is type(park(abort))
        assert vars(yielded) == vars(park(abort)) == {"abort_func": abort}

    trio.run(main)


async def test_the_internal_reads_agree_with_trio_s_public_statistics(autojump_clock: trio.abc.Clock) -> None:
    internal, public = Scheduler.current(), Scheduler.public()

    def both() -> list[tuple[int, float]]:
        return [(len(scheduler.queue), scheduler.next_deadline()) for scheduler in (internal, public)]

    assert not public.internal
    async with trio.open_nursery() as nursery:
        assert both() == [(0, math.inf)] * 2
        nursery.start_soon(trio.sleep, 3)
        nursery.start_soon(trio.sleep, 5)
        assert both() == [(2, math.inf)] * 2  # runnable, not yet asleep
        await trio.sleep(1)
        assert both() == [(0, 3.0)] * 2
        await trio.sleep(3)
        assert both() == [(0, 5.0)] * 2


async def test_the_public_fallback_applies_calls_in_the_same_order(
    autojump_clock: trio.abc.Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def workload(sim: workersim.Simulation) -> list[object]:
        kv = sim.env("SFO").KV

        async def task(i: int) -> None:
            for j in range(6):
                await trio.sleep(i % 3 / 2)
                await kv.put(f"k{i % 4}", f"{i}.{j}")
                await kv.get(f"k{(i + 1) % 4}")

        async with sim:
            with trio.move_on_after(2.2):  # cancels some tasks while parked, some between calls
                async with trio.open_nursery() as nursery:
                    for i in range(10):
                        nursery.start_soon(task, i)
            for _ in range(3 * MAX_STREAK):  # alone, now and then a scheduler pass
                await kv.get("k0")
        return list(sim.history)

    internal = await workload(make())
    monkeypatch.setattr(Scheduler, "current", Scheduler.public)
    assert not Scheduler.current().internal
    assert await workload(make()) == internal


async def test_apply_is_an_async_function_to_trio(autojump_clock: trio.abc.Clock) -> None:
    # trio.from_thread.run and nursery.start_soon take only functions returning a native coroutine.
    async with make() as sim, trio.open_nursery() as nursery:
        nursery.start_soon(engine(sim).apply, lambda now: sim.history.rows)
        results: list[int] = []
        await trio.to_thread.run_sync(
            lambda: results.append(trio.from_thread.run(engine(sim).apply, lambda now: now + 1))
        )
        assert results == [sim.now_ms() + 1]


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


def real_clock() -> workersim.Simulation:
    """A simulation whose conductor works as a server's does: on the real clock, in arrival order."""
    sim = make()
    engine(sim).arrival_order = True
    return sim


async def test_in_arrival_order_a_call_is_applied_while_other_tasks_never_stop() -> None:
    # A server under steady input is never idle: a task that is always runnable stands for its streaming clients.
    # With batches that wait for idleness, these calls would wait for ever.
    async with real_clock() as sim, trio.open_nursery() as nursery:
        kv = sim.env("SFO").KV

        async def spin() -> None:
            while True:
                await trio.lowlevel.checkpoint()

        nursery.start_soon(spin)
        await trio.lowlevel.checkpoint()  # the spinner is running
        # Calls in a row are applied without waiting for the spinner's turns, up to MAX_STREAK of them.
        steps = _Steps(trio.lowlevel.current_task())
        trio.lowlevel.add_instrument(steps)
        for i in range(MAX_STREAK - 1):
            await kv.put("first", str(i))
        trio.lowlevel.remove_instrument(steps)
        assert steps.steps == 0
        with trio.fail_after(10):  # real seconds, a generous bound for what takes microseconds
            for i in range(3 * MAX_STREAK):
                await kv.put("k", str(i))
            assert await kv.get("k") == str(3 * MAX_STREAK - 1)
        nursery.cancel_scope.cancel()
    assert [row.op for row in sim.history] == ["put"] * (MAX_STREAK - 1 + 3 * MAX_STREAK) + ["get"]


async def test_in_arrival_order_calls_are_cancellation_points_and_looping_tasks_take_turns() -> None:
    async with real_clock() as sim:
        kv = sim.env("SFO").KV
        with trio.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(trio.Cancelled):
                await kv.put("cancelled", "x")
        assert not sim.history.rows  # the cancelled call was never applied
        calls = 4 * MAX_STREAK

        async def loop(name: str) -> None:
            for i in range(calls):
                await kv.put(name, str(i))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(loop, "first")
            nursery.start_soon(loop, "second")
    # Each call is applied at once, and every MAX_STREAK-th call in a row lets the other task run. trio may run the
    # two in either order in each pass, so a task's last calls in one pass and its first in the next can follow
    # each other: neither makes more than 2 * MAX_STREAK calls while the other waits.
    applied = [row.key for row in sim.history]
    runs = [len(list(group)) for _, group in itertools.groupby(applied)]
    assert max(runs) <= 2 * MAX_STREAK
    assert len(runs) >= 2 * calls // (2 * MAX_STREAK)
    assert applied.count("first") == applied.count("second") == calls


async def test_calls_of_tasks_with_one_identity_apply_in_the_order_they_arrived(autojump_clock: trio.abc.Clock) -> None:
    # Tasks spawned before the simulation runs are known by their parent and name: these four tie. Their calls at
    # one instant are applied in the order they were made (trio's order of running them, which varies).
    sim = workersim.Simulation(edges=("A",), kv_namespaces=("KV",))
    started, finished = trio.Event(), trio.Event()
    arrived: list[str] = []
    identities = set()

    async def worker(name: str) -> None:
        await started.wait()
        identities.add(task_identities().of(trio.lowlevel.current_task()))
        arrived.append(name)  # no checkpoint between this and the call: the order the calls reach the conductor
        await sim.env("A").KV.put(name, "v")
        if len(arrived) == 4:
            finished.set()

    async with trio.open_nursery() as nursery:
        for name in "abcd":
            nursery.start_soon(worker, name)
        async with sim:
            started.set()
            await finished.wait()
    assert len(identities) == 1
    writes = [row for row in sim.history.rows if isinstance(row, workersim.KVWrite)]
    assert [row.key for row in writes] == arrived
    assert len({row.invoke for row in writes}) == 1  # one instant, one batch

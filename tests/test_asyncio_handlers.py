"""Handlers that use asyncio, as real Python Workers do: they run on trio and virtual time, reproducibly."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import trio

import workersim


def worker_file(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "worker.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


GATHER = """
import asyncio
import time
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        started = time.monotonic()
        keys = ["a", "b", "c"]
        values = await asyncio.gather(*(self.env.KV.get(key) for key in keys))

        async def slow(seconds, value):
            await asyncio.sleep(seconds)
            return value

        # Concurrent: three sleeps of 1, 2 and 3 virtual seconds take 3, not 6.
        slept = await asyncio.gather(slow(1, "x"), slow(3, "z"), slow(2, "y"))
        failures = await asyncio.gather(slow(0, 1), self.boom(), return_exceptions=True)
        return Response.json({
            "values": values, "slept": slept, "elapsed": time.monotonic() - started,
            "failures": [repr(item) for item in failures],
        })

    async def boom(self):
        raise ValueError("boom")
"""


async def test_gather_and_sleep_run_concurrently_on_virtual_time(autojump_clock: trio.abc.Clock, tmp_path: Path):
    sim = workersim.Simulation(edges=("LHR",), kv_namespaces=("KV",), worker=worker_file(tmp_path, GATHER))
    async with sim:
        await sim.env("LHR").KV.put("a", "1")
        await sim.env("LHR").KV.put("c", "3")
        before = sim.now()
        body = json.loads(await (await sim.fetch("https://example.com/")).text())
        assert sim.now() - before == 3.0
    assert body == {
        "values": ["1", None, "3"],
        "slept": ["x", "z", "y"],
        "elapsed": 3.0,
        "failures": ["1", "ValueError('boom')"],
    }
    assert sim.worker_errors == []


TASKS = """
import asyncio
from workers import Response, WorkerEntrypoint

LOG = []


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/background"):
            # Fire and forget: the put runs beside the request, after the response.
            asyncio.create_task(self.env.KV.put("background", "done"))
            return Response("accepted")
        if request.url.endswith("/timeout"):
            try:
                await asyncio.wait_for(asyncio.sleep(10), timeout=2)
            except asyncio.TimeoutError:
                return Response("timed out", status=504)
        task = asyncio.create_task(self.count())
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()
        event = asyncio.Event()
        lock = asyncio.Lock()

        async def producer():
            for number in range(3):
                await queue.put(number)
                await asyncio.sleep(0.5)
            event.set()

        async def consumer():
            total = 0
            while not (event.is_set() and queue.empty()):
                try:
                    total += await asyncio.wait_for(queue.get(), timeout=1)
                except asyncio.TimeoutError:
                    pass
            return total

        async with lock:
            _, total = await asyncio.gather(producer(), consumer())
        return Response.json({"task": await task, "total": total, "loop_time": loop.time() >= 0})

    async def count(self):
        await asyncio.sleep(0.25)
        return int(await self.env.KV.get("n") or 0) + 1
"""


async def test_tasks_queues_events_and_timeouts(autojump_clock: trio.abc.Clock, tmp_path: Path):
    sim = workersim.Simulation(edges=("LHR",), kv_namespaces=("KV",), worker=worker_file(tmp_path, TASKS))
    async with sim:
        body = json.loads(await (await sim.fetch("https://example.com/")).text())
        assert body == {"task": 1, "total": 3, "loop_time": True}
        before = sim.now()
        late = await sim.fetch("https://example.com/timeout")
        assert (late.status, sim.now() - before) == (504, 2.0)
        accepted = await sim.fetch("https://example.com/background")
        assert await accepted.text() == "accepted"
        await sim.settle(accepted)
        assert await sim.env("LHR").KV.get("background") == "done"
    # The put handed to a task was not "never awaited": it ran.
    assert sim.worker_errors == []


async def concurrent_run(tmp_path: Path, seed: int) -> workersim.Simulation:
    sim = workersim.Simulation(edges=("LHR", "SFO"), kv_namespaces=("KV",), seed=seed,
                               worker=worker_file(tmp_path, TASKS))  # fmt: skip
    async with sim, trio.open_nursery() as nursery:
        for index in range(8):
            path = ("/", "/background", "/timeout")[index % 3]
            nursery.start_soon(lambda p=path, i=index: sim.fetch(f"https://e.example{p}", edge=sim.edges[i % 2]))
    return sim


def test_asyncio_handlers_are_reproducible(tmp_path: Path) -> None:
    runs = [workersim.run(lambda seed: concurrent_run(tmp_path, seed), 5) for _ in range(3)]
    assert len({sim.history.to_jsonl_text() for sim in runs}) == 1
    assert runs[0].worker_errors == []


def test_asyncio_outside_worker_files_is_the_real_module() -> None:
    import asyncio

    assert asyncio.sleep.__module__ == "asyncio.tasks"


GATHER_AND_SLEEP = """
import asyncio
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        first, second = await asyncio.gather(self.env.KV.get("a"), self.env.KV.get("b"))
        await asyncio.sleep(5)
        return Response(f"{first} {second}")
"""


async def gather_and_sleep(tmp_path: Path, seed: int) -> workersim.Simulation:
    sim = workersim.Simulation(edges=("LHR", "SFO"), kv_namespaces=("KV",), seed=seed,
                               worker=worker_file(tmp_path, GATHER_AND_SLEEP))  # fmt: skip
    async with sim:
        await sim.env("LHR").KV.put("a", "1")
        await sim.env("LHR").KV.put("b", "2")
        response = await sim.fetch("https://example.com/", edge="LHR")
        assert (await response.text(), sim.now()) == ("1 2", 5.0)  # five virtual seconds later
    return sim


def test_gather_over_two_gets_and_a_five_second_sleep_replays_byte_for_byte(tmp_path: Path) -> None:
    started = time.perf_counter()
    runs = [workersim.run(lambda seed: gather_and_sleep(tmp_path, seed), 9) for _ in range(2)]
    # Virtual seconds: a real five-second sleep would take 10 s for the two runs; they take well under one.
    assert time.perf_counter() - started < 4
    assert runs[0].history.to_jsonl_text() == runs[1].history.to_jsonl_text()
    assert [row.op for row in runs[0].history] == ["put", "put", "fetch", "get", "get", "response"]

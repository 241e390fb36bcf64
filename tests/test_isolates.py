"""Each edge runs its own isolate of a worker file, whose code reads the simulated clock and draws seeded randomness."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
import trio

import workersim

EDGES = ("LHR", "SFO", "NRT")

CACHING_WORKER = """
from workers import Response

CACHE = {}          # module state: per isolate on Cloudflare, so per edge here


async def fetch(request, env, ctx):
    key = request.url.rsplit("/", 1)[1]
    if request.method == "PUT":
        await env.KV.put(key, await request.text())
        CACHE.pop(key, None)
        return Response("stored")
    if key not in CACHE:
        CACHE[key] = await env.KV.get(key)
    return Response(str(CACHE[key]))
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def make(worker: object, **options: object) -> workersim.Simulation:
    return workersim.Simulation(
        edges=EDGES, kv_namespaces=("KV",), seed=5, delays=workersim.FixedDelay(2.0), worker=worker, **options
    )


async def text(sim: workersim.Simulation, url: str, edge: str, **init: object) -> str:
    return await (await sim.fetch(url, edge=edge, **init)).text()


async def test_module_state_is_per_edge(tmp_path: Path, autojump_clock: trio.abc.Clock) -> None:
    sim = make(write(tmp_path, "worker.py", CACHING_WORKER))
    async with sim:
        assert await text(sim, "https://w/k", "LHR", method="PUT", body="v1") == "stored"
        assert await text(sim, "https://w/k", "LHR") == "v1"  # cached at LHR
        # SFO's isolate has its own (empty) cache and reads its own replica, which the write has not reached.
        assert await text(sim, "https://w/k", "SFO") == "None"
        await trio.sleep(3)
        await sim.env("LHR").KV.put("k", "v2")  # behind the worker's back: LHR's cache does not know
        assert await text(sim, "https://w/k", "LHR") == "v1"  # the LHR isolate keeps its cache
        assert await text(sim, "https://w/k", "SFO") == "None"  # and SFO its own (stale) one
        sim.evict("LHR")
        assert await text(sim, "https://w/k", "LHR") == "v2"  # a fresh isolate: the cache is gone
        assert await text(sim, "https://w/k", "SFO") == "None"
        sim.evict()
        await trio.sleep(3)
        assert await text(sim, "https://w/k", "SFO") == "v2"


async def test_an_idle_isolate_is_evicted(tmp_path: Path, autojump_clock: trio.abc.Clock) -> None:
    sim = make(write(tmp_path, "worker.py", CACHING_WORKER), isolate_idle_timeout=60)
    async with sim:
        await sim.env("LHR").KV.put("k", "v1")
        assert await text(sim, "https://w/k", "LHR") == "v1"
        await sim.env("LHR").KV.put("k", "v2")
        await trio.sleep(59)
        assert await text(sim, "https://w/k", "LHR") == "v1"  # used 59 s after: still the same isolate
        await trio.sleep(61)
        assert await text(sim, "https://w/k", "LHR") == "v2"  # idle for 61 s: evicted, a fresh cache


async def test_workers_with_a_same_named_sibling_each_get_their_own(
    tmp_path: Path, autojump_clock: trio.abc.Clock
) -> None:
    worker = """
    from workers import Response
    import helpers

    async def fetch(request, env, ctx):
        helpers.calls.append(request.url)
        return Response(f"{helpers.NAME} {len(helpers.calls)}")
    """
    first = write(tmp_path / "first", "worker.py", worker)
    write(tmp_path / "first", "helpers.py", "NAME = 'first'\ncalls = []\n")
    second = write(tmp_path / "second", "worker.py", worker)
    write(tmp_path / "second", "helpers.py", "NAME = 'second'\ncalls = []\n")
    one, two = make(first), make(second)
    async with one, two:
        assert await text(one, "https://w/a", "LHR") == "first 1"
        assert await text(two, "https://w/a", "LHR") == "second 1"
        assert await text(one, "https://w/b", "LHR") == "first 2"
        assert await text(one, "https://w/b", "SFO") == "first 1"  # the sibling's state is per edge too
    assert "helpers" not in sys.modules


async def test_imports_inside_a_handler_and_packages_work(tmp_path: Path, autojump_clock: trio.abc.Clock) -> None:
    write(tmp_path / "lib", "__init__.py", "from .names import GREETING\n")
    write(tmp_path / "lib", "names.py", "GREETING = 'hello'\n")
    write(tmp_path, "lazy.py", "def shout(text):\n    return text.upper()\n")
    worker = write(
        tmp_path,
        "worker.py",
        """
        from workers import Response

        async def fetch(request, env, ctx):
            import lazy
            from lib import GREETING
            from lib.names import GREETING as again
            return Response(lazy.shout(GREETING) + " " + again)
        """,
    )
    sim = make(worker)
    async with sim:
        assert await text(sim, "https://w/", "NRT") == "HELLO hello"
        assert await text(sim, "https://w/", "NRT") == "HELLO hello"


CLOCK_WORKER = """
import time
import datetime
from datetime import timezone
from workers import Response


async def fetch(request, env, ctx):
    now = datetime.datetime.now(timezone.utc)
    return Response.json({
        "time": time.time(),
        "time_ns": time.time_ns(),
        "now_utc": now.timestamp(),
        "now_naive": datetime.datetime.now().isoformat(),
        "utcnow": datetime.datetime.utcnow().isoformat(),
        "today": datetime.date.today().isoformat(),
    })
"""


async def test_handlers_read_the_simulated_clock(tmp_path: Path, autojump_clock: trio.abc.Clock) -> None:
    sim = make(write(tmp_path, "worker.py", CLOCK_WORKER), start_time=1_767_225_600)  # 2026-01-01T00:00:00Z
    async with sim:
        await trio.sleep(3600)
        seen = await (await sim.fetch("https://w/", edge="SFO")).json()
    planned = 1_767_225_600 + 3600
    assert seen["time"] == planned and seen["time_ns"] == planned * 10**9 and seen["now_utc"] == planned
    assert seen["now_naive"] == seen["utcnow"] == "2026-01-01T01:00:00"  # Workers run in UTC
    assert seen["today"] == "2026-01-01"
    # Code outside the worker still reads the machine's clock.
    assert abs(datetime.datetime.now(datetime.UTC).timestamp() - __import__("time").time()) < 5


RANDOM_WORKER = """
import random, secrets, uuid, os, time
from workers import Response


async def fetch(request, env, ctx):
    return Response.json([random.random(), str(uuid.uuid4()), secrets.token_hex(8), os.urandom(4).hex(),
                          random.randint(1, 10**9), time.time()])
"""

DRIVER = """
import json, sys, trio, workersim

async def main():
    sim = workersim.Simulation(edges=("LHR", "SFO", "NRT"), seed=int(sys.argv[2]), worker=sys.argv[1])
    out = []
    async with sim:
        for i in range(6):
            await trio.sleep(1.5)
            out.append(await (await sim.fetch("https://w/", edge=("LHR", "SFO", "NRT")[i % 3])).json())
    print(json.dumps(out))

workersim.run(main)
"""


def run_driver(worker: Path, seed: int, hash_seed: str) -> list[list[object]]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(worker), str(seed)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_randomness_and_time_replay_from_the_seed_across_processes(tmp_path: Path) -> None:
    worker = write(tmp_path, "worker.py", RANDOM_WORKER)
    first, second = run_driver(worker, 7, "0"), run_driver(worker, 7, "1")
    assert first == second
    assert len({json.dumps(response) for response in first}) == 6  # every request drew something new
    assert [response[-1] for response in first] == [workersim.sim.DEFAULT_START_TIME + 1.5 * (i + 1) for i in range(6)]
    other = run_driver(worker, 8, "0")
    assert [response[:5] for response in other] != [response[:5] for response in first]


UNSEEDED_WORKER = """
import random, uuid
from workers import Response


async def fetch(request, env, ctx):
    first, second = uuid.uuid1(), uuid.uuid1()
    fresh = random.Random().random()
    random.seed()  # reseeds the module's generator: from the OS on a real machine
    return Response.json([str(first), str(second), uuid.getnode(), fresh, random.random(),
                          random.SystemRandom().random()])
"""


def test_uuid1_and_generators_seeded_without_a_seed_replay_too(tmp_path: Path) -> None:
    worker = write(tmp_path, "worker.py", UNSEEDED_WORKER)
    first, second = run_driver(worker, 7, "0"), run_driver(worker, 7, "1")
    assert first == second  # nothing came from the machine's clock, address or entropy
    for i, (one, two, node, *draws) in enumerate(first):
        a, b = uuid.UUID(one), uuid.UUID(two)
        assert (a.version, b.version) == (1, 1)
        # The time of a version-1 UUID counts 100 ns from 1582-10-15; the request ran at start + 1.5 s * (i + 1).
        planned = (workersim.sim.DEFAULT_START_TIME + 1.5 * (i + 1)) * 10**7 + 0x01B21DD213814000
        assert a.time == planned and b.time > a.time  # the clock stands still in a request: uuid1 moves on
        assert a.node == b.node == node and node >> 40 & 1  # a random node, marked as one (multicast bit)
        assert len(set(draws)) == 3
    assert len({response[2] for response in first}) == 3  # a node per isolate: three edges


CLOCKS_WORKER = """
import time
from workers import Response


async def fetch(request, env, ctx):
    return Response.json([time.time(), time.clock_gettime(time.CLOCK_REALTIME),
                          time.clock_gettime_ns(time.CLOCK_REALTIME) / 1e9, time.monotonic(),
                          time.clock_gettime(time.CLOCK_MONOTONIC), time.process_time(), time.thread_time()])
"""


async def test_every_clock_in_time_reads_virtual_time(autojump_clock: trio.abc.Clock, tmp_path: Path) -> None:
    # The convention: every clock a handler can read is virtual time. The request runs at virtual time 0.
    sim = workersim.Simulation(edges=("LHR",), worker=write(tmp_path, "worker.py", CLOCKS_WORKER))
    async with sim:
        now, realtime, realtime_ns, monotonic, clock_monotonic, process, thread = await (
            await sim.fetch("https://example.com/")
        ).json()
    assert now == realtime == realtime_ns == workersim.sim.DEFAULT_START_TIME
    assert monotonic == clock_monotonic == process == thread == 0.0


async def test_a_worker_object_keeps_its_callers_module(autojump_clock: trio.abc.Clock) -> None:
    calls: list[str] = []

    async def fetch(request: workersim.Request) -> workersim.Response:
        calls.append(request.url)
        return workersim.Response("ok")

    sim = make(fetch)
    async with sim:
        await sim.fetch("https://w/1", edge="LHR")
        await sim.fetch("https://w/2", edge="SFO")
        sim.evict("LHR")  # nothing to evict: the function is shared by every edge
        await sim.fetch("https://w/3", edge="LHR")
    assert calls == ["https://w/1", "https://w/2", "https://w/3"]


def test_a_broken_worker_file_fails_when_the_simulation_is_made(tmp_path: Path) -> None:
    with pytest.raises(SyntaxError):
        make(write(tmp_path, "broken.py", "def fetch(:\n"))
    with pytest.raises(TypeError, match="defines no worker"):
        make(write(tmp_path, "empty.py", "X = 1\n"))
    with pytest.raises(ValueError, match="unknown edge 'MARS'"):
        make(write(tmp_path, "worker.py", CACHING_WORKER)).evict("MARS")

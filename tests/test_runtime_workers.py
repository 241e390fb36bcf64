"""Every form a worker can take runs on the simulated edges, including unchanged Python Workers files."""

from __future__ import annotations

import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest
import trio

import workersim
from workersim import Request, Response, WorkerEntrypoint

EDGES = ("SFO", "LHR")


async def serve_once(worker: Any, url: str = "https://example.com/hi", **init: Any) -> tuple[int, str]:
    sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), vars={"GREETING": "hello"}, worker=worker)
    async with sim:
        response = await sim.fetch(url, edge="LHR", **init)
        return response.status, await response.text()


async def fetch_function(request: Request, env: Any, ctx: Any) -> Response:
    await env.KV.put("last", request.url)
    return Response(f"{env.GREETING} from {await env.KV.get('last')}")


async def test_fetch_function(autojump_clock: trio.abc.Clock) -> None:
    assert await serve_once(fetch_function) == (200, "hello from https://example.com/hi")


async def test_module_object_with_fetch(autojump_clock: trio.abc.Clock) -> None:
    module = types.ModuleType("my_worker")
    module.fetch = fetch_function  # type: ignore[attr-defined]
    assert await serve_once(module) == (200, "hello from https://example.com/hi")


async def test_older_on_fetch_with_two_parameters(autojump_clock: trio.abc.Clock) -> None:
    async def on_fetch(request: Request, env: Any) -> Response:
        return Response(f"{request.method} {env.GREETING}")

    assert await serve_once(types.SimpleNamespace(on_fetch=on_fetch), method="DELETE") == (200, "DELETE hello")


async def test_plain_function_returning_a_response(autojump_clock: trio.abc.Clock) -> None:
    def fetch(request: Request) -> Response:
        return Response.json({"url": request.url})

    assert await serve_once(fetch) == (200, '{"url": "https://example.com/hi"}')


class Default(WorkerEntrypoint):
    instances: list[Default] = []

    async def fetch(self, request: Request) -> Response:
        Default.instances.append(self)
        self.ctx.waitUntil(self.env.KV.put("seen", request.url))
        return Response(self.env.GREETING)


async def test_worker_entrypoint_class_gets_a_fresh_instance_per_request(autojump_clock: trio.abc.Clock) -> None:
    Default.instances.clear()
    sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), vars={"GREETING": "hi"}, worker=Default)
    async with sim:
        for edge in EDGES:
            response = await sim.fetch(f"https://example.com/{edge}", edge=edge)
            assert await response.text() == "hi"
    first, second = Default.instances
    assert first is not second
    assert first.env is sim.env("SFO") and second.env is sim.env("LHR")
    assert [row.value for row in sim.history if row.op == "put"] == [
        b"https://example.com/SFO",
        b"https://example.com/LHR",
    ]


PYTHON_WORKERS_FILE = """
from workers import Response, WorkerEntrypoint
from helpers import shout


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        count = int(await self.env.KV.get("count") or 0) + 1
        await self.env.KV.put("count", str(count))
        return Response.json({"count": count, "greeting": shout(self.env.GREETING)})
"""


async def test_python_workers_file_runs_unchanged(tmp_path: Path, autojump_clock: trio.abc.Clock) -> None:
    (tmp_path / "helpers.py").write_text("def shout(text):\n    return text.upper()\n")
    entry = tmp_path / "entry.py"
    entry.write_text(textwrap.dedent(PYTHON_WORKERS_FILE))
    had_workers = "workers" in sys.modules
    sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), vars={"GREETING": "hey"}, worker=str(entry))
    assert ("workers" in sys.modules) == had_workers  # the mapping lasts only while the file loads
    async with sim:
        bodies = [await (await sim.fetch("https://example.com/", edge="LHR")).json() for _ in range(2)]
    assert bodies == [{"count": 1, "greeting": "HEY"}, {"count": 2, "greeting": "HEY"}]


@pytest.mark.parametrize(
    ("worker", "message"),
    [
        (types.SimpleNamespace(handler=None), "a worker is"),
        (types.ModuleType("empty"), "empty defines no worker"),
        (type("NotAnEntrypoint", (), {"fetch": lambda self, request: None}), "must subclass WorkerEntrypoint"),
        (type("NoFetch", (WorkerEntrypoint,), {}), "has no fetch method"),
        (lambda: None, "takes no arguments"),
        (42, "a worker is"),
    ],
)
def test_unusable_workers_are_refused_at_construction(worker: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        workersim.Simulation(worker=worker)


def test_a_missing_worker_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="worker file not found"):
        workersim.Simulation(worker=tmp_path / "nope.py")

"""Workers KV as a Python Worker calls it on Cloudflare, where ``env.KV`` is a JavaScript object reached through
Pyodide's FFI (and, with the current Workers SDK, through its binding wrapper).

Expected values come from Cloudflare's and Pyodide's documents, not from workersim:
- cloudflare/workers-py, packages/runtime-sdk/tests/bindings-test/src/test_kv.py (the SDK's KV tests, run in
  workerd): ``get(key, "json")`` and ``get(key, type="json")`` give a ``dict``, ``get(key, "arrayBuffer")`` a
  ``memoryview``, a bulk ``get([...])`` a ``dict`` with ``None`` for a missing key, ``getWithMetadata`` and ``list``
  results are read with ``result["value"]``, ``result["keys"]``, ``entry["name"]``, ``entry.get("expiration")``,
  ``result.get("cursor")``; options go as keywords or as a dict, and ``None`` options are no options;
- the Pyodide type-conversion page (pyodide/pyodide docs/usage/type-conversions.md): keyword arguments to a
  JavaScript function become one object passed last, JavaScript errors reach Python as ``JsException``, ``to_js``
  with ``dict_converter=Object.fromEntries`` makes a plain object and without it a ``Map``;
- the KV API pages (developers.cloudflare.com/kv/api/): error texts, ``null`` for a missing key, streams.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import trio

import workersim


def worker_file(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "src" / "entry.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


async def answer(tmp_path: Path, source: str, path: str = "/") -> object:
    sim = workersim.Simulation(edges=("LHR",), kv_namespaces=("KV",), worker=worker_file(tmp_path, source))
    async with sim:
        response = await sim.fetch("https://example.com" + path)
        text = await response.text()
    assert sim.worker_errors == [], sim.worker_errors
    assert response.status == 200, text
    return json.loads(text)


SDK_STYLE = """
import json
from workers import WorkerEntrypoint, Response


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        kv = self.env.KV
        seen = {}
        await kv.put("doc", json.dumps({"title": "tea", "sizes": [1, 2]}), expirationTtl=120, metadata={"by": "kw"})
        await kv.put("note", "plain", {"metadata": {"by": "dict"}, "expirationTtl": 60})
        await kv.put("bare", "x", None)
        as_json = await kv.get("doc", "json")
        seen["json"] = [isinstance(as_json, dict), as_json == {"title": "tea", "sizes": [1, 2]}]
        seen["json_keyword"] = (await kv.get("doc", type="json"))["sizes"]
        seen["json_dict"] = (await kv.get("doc", {"type": "json"}))["title"]
        buffer = await kv.get("note", "arrayBuffer")
        seen["buffer"] = [len(buffer), buffer.tobytes().decode(), bytes(buffer).decode()]
        meta = await kv.getWithMetadata("note")
        seen["with_metadata"] = [meta["value"], meta["metadata"], meta["cacheStatus"]]
        missing = await kv.getWithMetadata("nothing")
        seen["missing"] = [missing["value"], missing["metadata"], await kv.get("nothing")]
        page = await kv.list(prefix="", limit=2)
        rest = await kv.list({"prefix": "", "limit": 2, "cursor": page["cursor"]})
        seen["pages"] = [[entry["name"] for entry in page["keys"]], page["list_complete"],
                         [entry["name"] for entry in rest["keys"]], rest["list_complete"], rest.get("cursor")]
        everything = await kv.list(None)
        seen["expiring"] = [entry.get("expiration") is not None for entry in everything["keys"]]
        seen["listed_metadata"] = [entry.get("metadata") for entry in everything["keys"]]
        bulk = await kv.get(["note", "nothing"])
        seen["bulk"] = [isinstance(bulk, dict), bulk.get("note"), bulk.get("nothing")]
        seen["bulk_json"] = (await kv.get(["doc"], "json"))["doc"]["title"]
        await kv.delete("bare")
        seen["deleted"] = await kv.get("bare")
        return Response(json.dumps(seen))
"""


async def test_kv_called_as_the_workers_sdk_tests_call_it(autojump_clock: trio.abc.Clock, tmp_path: Path):
    assert await answer(tmp_path, SDK_STYLE) == {
        "json": [True, True],
        "json_keyword": [1, 2],
        "json_dict": "tea",
        "buffer": [5, "plain", "plain"],
        "with_metadata": ["plain", {"by": "dict"}, None],
        "missing": [None, None, None],
        "pages": [["bare", "doc"], False, ["note"], True, None],
        "expiring": [False, True, True],
        "listed_metadata": [None, {"by": "kw"}, {"by": "dict"}],
        "bulk": [True, "plain", None],
        "bulk_json": "tea",
        "deleted": None,
    }


PROXY_STYLE = """
from js import Response, JSON, Object, Uint8Array
from pyodide.ffi import to_js


def js_object(value):
    return to_js(value, dict_converter=Object.fromEntries)


async def on_fetch(request, env):
    seen = {}
    options = js_object({"expirationTtl": 120, "metadata": js_object({"v": 1})})
    await env.KV.put("doc", JSON.stringify(js_object({"title": "tea"})), options)
    await env.KV.put("bytes", to_js(b"\\x00\\x01\\xff"))
    await env.KV.put("typed", Uint8Array.new(to_js([7, 8])))
    seen["json"] = (await env.KV.get("doc", js_object({"type": "json"}))).title
    seen["bytes"] = list((await env.KV.get("bytes", "arrayBuffer")).to_bytes())
    seen["typed"] = list((await env.KV.get("typed", "arrayBuffer")).to_py())
    listed = await env.KV.list(js_object({"prefix": "d"}))
    seen["listed"] = [[key.name for key in listed.keys], listed.list_complete, listed.to_py()["keys"][0]["metadata"]]
    bulk = await env.KV.get(to_js(["doc", "none"]))
    seen["bulk"] = [bulk.has("none"), bulk.size, list(bulk.to_py())]
    meta = await env.KV.getWithMetadata("doc", "json")
    seen["meta"] = [meta.metadata.v, meta.value.title]
    return Response.new(JSON.stringify(js_object(seen)))
"""


async def test_kv_called_with_javascript_values_made_by_to_js(autojump_clock: trio.abc.Clock, tmp_path: Path):
    assert await answer(tmp_path, PROXY_STYLE) == {
        "json": "tea",
        "bytes": [0, 1, 255],
        "typed": [7, 8],
        "listed": [["doc"], True, {"v": 1}],
        "bulk": [True, 2, ["doc", "none"]],
        "meta": [1, "tea"],
    }


ERRORS = """
import json
from workers import WorkerEntrypoint, Response
from pyodide.ffi import JsException


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        kv = self.env.KV
        await kv.put("text", "<p>tea</p>")
        caught = []
        for call in (
            lambda: kv.put("", "x"),
            lambda: kv.get("."),
            lambda: kv.put("k", "v", expirationTtl=30),
            lambda: kv.list(limit=1001),
            lambda: kv.get("text", "json"),
        ):
            try:
                await call()
            except JsException as error:
                caught.append([error.name, error.message])
        return Response(json.dumps(caught))
"""


async def test_kv_errors_are_caught_as_js_exceptions(autojump_clock: trio.abc.Clock, tmp_path: Path):
    # What the runtime throws reaches Python as a JsException with the JavaScript error's name and message.
    assert await answer(tmp_path, ERRORS) == [
        ["TypeError", "Key name cannot be empty."],
        ["TypeError", '"." is not allowed as a key name.'],
        ["Error", "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60."],
        ["Error", "KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1000."],
        ["SyntaxError", "Unexpected token '<', \"<p>tea</p>\" is not valid JSON"],  # V8's wording
    ]


STREAM = """
import js
from workers import WorkerEntrypoint, Response


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        await self.env.KV.put("page", "<h1>tea</h1>")
        stream = await self.env.KV.get("page", "stream")
        if request.url.endswith("/js"):
            return js.Response.new(stream, headers={"content-type": "text/html"})
        return Response(stream, headers={"content-type": "text/html"})
"""


@pytest.mark.parametrize("path", ["/", "/js"])
async def test_a_stream_read_becomes_a_response_body(autojump_clock: trio.abc.Clock, tmp_path: Path, path: str):
    sim = workersim.Simulation(edges=("LHR",), kv_namespaces=("KV",), worker=worker_file(tmp_path, STREAM))
    async with sim:
        response = await sim.fetch("https://example.com" + path)
        assert (response.status, await response.text()) == (200, "<h1>tea</h1>")
    assert sim.worker_errors == []


MAP_OPTIONS = """
from workers import WorkerEntrypoint, Response
from pyodide.ffi import to_js


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        await self.env.KV.put("k", "v", to_js({"expirationTtl": 60}))
        return Response("stored")
"""


async def test_a_map_as_options_is_refused_with_the_fix(autojump_clock: trio.abc.Clock, tmp_path: Path):
    # to_js(a_dict) without dict_converter makes a Map, whose entries the runtime does not read as options: on
    # Cloudflare the TTL would be silently dropped, so workersim refuses it and says what to write instead.
    sim = workersim.Simulation(edges=("LHR",), kv_namespaces=("KV",), worker=worker_file(tmp_path, MAP_OPTIONS))
    async with sim:
        assert (await sim.fetch("https://example.com/")).status == 500
        assert await sim.env("LHR").KV.get("k") is None
    [failure] = sim.worker_errors
    assert isinstance(failure.error, TypeError)
    assert "Map" in str(failure.error) and "dict_converter=Object.fromEntries" in str(failure.error)

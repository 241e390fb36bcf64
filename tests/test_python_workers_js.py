"""Workers written against Pyodide's JavaScript FFI, as Cloudflare's public examples are: ``from js import ...``,
``pyodide.ffi``, the older ``on_fetch`` with a JavaScript request, ``print``/``console`` into the log."""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path

import pytest
import trio

import workersim
from workersim import LogRow
from workersim.core.errors import JsException
from workersim.core.jsontext import parse_js


def worker_file(tmp_path: Path, source: str, name: str = "entry.py") -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


RESPONSE_NEW = """
from js import Response, Headers, Object, JSON, URL
from pyodide.ffi import to_js


async def on_fetch(request, env):
    url = URL.new(request.url)
    name = url.searchParams.get("name") or "world"
    if url.pathname == "/headers":
        headers = Headers.new({"content-type": "text/plain", "x-greeting": name}.items())
        return Response.new(f"hello {name}", headers=headers, status=201)
    if url.pathname == "/object":
        init = Object.fromEntries(to_js({"status": 202, "headers": {"x-kind": "object"}}))
        return Response.new("from an object", init)
    if url.pathname == "/converted":
        init = to_js({"status": 203, "headers": {"x-kind": "converted"}}, dict_converter=Object.fromEntries)
        return Response.new(JSON.stringify(to_js({"a": [1, 2]}, dict_converter=Object.fromEntries)), init)
    return Response.new("not found", status=404)
"""


async def test_response_new_with_headers_new_and_object_from_entries(autojump_clock: trio.abc.Clock, tmp_path: Path):
    sim = workersim.Simulation(edges=("LHR",), worker=worker_file(tmp_path, RESPONSE_NEW))
    async with sim:
        first = await sim.fetch("https://example.com/headers?name=Ada")
        assert (first.status, await first.text()) == (201, "hello Ada")
        assert first.headers["x-greeting"] == "Ada" and first.headers["content-type"] == "text/plain"
        second = await sim.fetch("https://example.com/object")
        assert (second.status, second.headers["x-kind"], await second.text()) == (202, "object", "from an object")
        third = await sim.fetch("https://example.com/converted")
        assert (third.status, third.headers["x-kind"]) == (203, "converted")
        assert json.loads(await third.text()) == {"a": [1, 2]}
        assert (await sim.fetch("https://example.com/elsewhere")).status == 404
    assert sim.worker_errors == []


LEGACY_JSON = """
from js import Response, JSON


async def on_fetch(request, env):
    if request.method == "POST":
        order = await request.json()          # a JavaScript object on Cloudflare
        items = order.items.to_py()            # attribute access, then .to_py()
        await env.KV.put("order:" + order.id, JSON.stringify(order))
        return Response.new(f"{order.id}: {len(items)} items, first {order.to_py()['items'][0]}")
    stored = JSON.parse(await env.KV.get("order:" + request.headers.get("x-order")))
    return Response.new(f"{stored.id} has {stored['items'].length} items")
"""


async def test_an_older_on_fetch_gets_javascript_values(autojump_clock: trio.abc.Clock, tmp_path: Path):
    sim = workersim.Simulation(edges=("LHR",), kv_namespaces=("KV",), worker=worker_file(tmp_path, LEGACY_JSON))
    async with sim:
        body = json.dumps({"id": "A7", "items": ["tea", "jam", "bread"]})
        posted = await sim.fetch("https://shop.example/orders", method="POST", body=body)
        assert await posted.text() == "A7: 3 items, first tea"
        read = await sim.fetch("https://shop.example/orders", headers={"x-order": "A7"})
        assert await read.text() == "A7 has 3 items"
    assert sim.worker_errors == []


CONSOLE = """
from js import console, Date, Response


async def on_fetch(request, env):
    console.log("serving", request.url, 42)
    console.warn("careful")
    print("printed at", Date.now())
    return Response.new("ok")
"""


async def test_console_and_print_land_in_the_log_and_the_history(autojump_clock: trio.abc.Clock, tmp_path: Path):
    sim = workersim.Simulation(edges=("LHR", "SFO"), start_time=1_800_000_000, worker=worker_file(tmp_path, CONSOLE))
    async with sim:
        await trio.sleep(2.5)
        response = await sim.fetch("https://example.com/a", edge="SFO")
    ray = response.headers["cf-ray"].split("-")[0]
    expected = [
        ("SFO", ray, "log", "serving https://example.com/a 42"),
        ("SFO", ray, "warn", "careful"),
        ("SFO", ray, "log", "printed at 1800000002500"),  # Date.now(): simulated milliseconds
    ]
    assert [(line.edge, line.request, line.level, line.message) for line in sim.logs] == expected
    assert [line.time for line in sim.logs] == [2.5, 2.5, 2.5]
    rows = [row for row in sim.history if isinstance(row, LogRow)]
    assert [(row.edge, row.request, row.level, row.message) for row in rows] == expected
    # The log rows come between the request's arrival and its response, and survive a round trip through JSONL.
    ops = [row.op for row in sim.history]
    assert ops == ["fetch", "log", "log", "log", "response"]
    text = sim.history.to_jsonl_text()
    assert workersim.History.from_jsonl_text(text).to_jsonl_text() == text


RANDOM = """
from js import crypto, Uint8Array, Math, Response


async def on_fetch(request, env):
    values = crypto.getRandomValues(Uint8Array.new(4))
    return Response.new(f"{crypto.randomUUID()} {list(values.to_bytes())} {Math.random()}")
"""


async def run_random(tmp_path: Path, seed: int) -> list[str]:
    sim = workersim.Simulation(edges=("LHR", "SFO"), seed=seed, worker=worker_file(tmp_path, RANDOM))
    async with sim:
        return [await (await sim.fetch("https://example.com/", edge=edge)).text() for edge in ("LHR", "SFO", "LHR")]


async def test_crypto_and_math_random_are_seeded(autojump_clock: trio.abc.Clock, tmp_path: Path):
    first, again, other = (await run_random(tmp_path, 1), await run_random(tmp_path, 1), await run_random(tmp_path, 2))
    assert first == again and first != other
    assert len(set(first)) == 3  # draws go on within an isolate and differ between edges
    for text in first:
        identifier, *_ = text.split(" ")
        assert uuid.UUID(identifier).version == 4


FFI = """
from pyodide.ffi import to_js, create_proxy, JsProxy, jsnull, JsException
from js import Object, Response, JSON, Map


async def on_fetch(request, env):
    plain = to_js({"a": 1})                                     # a Map without a converter
    obj = to_js({"a": {"b": [1, 2]}}, dict_converter=Object.fromEntries)
    checks = [
        isinstance(obj, JsProxy),
        plain.get("a") == 1 and plain.size == 1,
        obj.a.b.to_py() == [1, 2],
        obj.to_py() == {"a": {"b": [1, 2]}},
        jsnull is not None and not jsnull,
        create_proxy(len)("abc") == 3,
        JSON.parse('{"x": null}').x is None,
    ]
    return Response.new(JSON.stringify(to_js(checks)))
"""


async def test_pyodide_ffi(autojump_clock: trio.abc.Clock, tmp_path: Path):
    sim = workersim.Simulation(edges=("LHR",), worker=worker_file(tmp_path, FFI))
    async with sim:
        response = await sim.fetch("https://example.com/")
        assert json.loads(await response.text()) == [True] * 7


IMPORTS_INSIDE = """
from workers import WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        import js
        from pyodide.ffi import to_js
        import pyodide.ffi
        assert pyodide.ffi.to_js is to_js
        return js.Response.new("imported inside")
"""


async def test_js_and_pyodide_import_inside_a_handler(autojump_clock: trio.abc.Clock, tmp_path: Path):
    sim = workersim.Simulation(edges=("LHR",), worker=worker_file(tmp_path, IMPORTS_INSIDE))
    async with sim:
        assert await (await sim.fetch("https://example.com/")).text() == "imported inside"
    assert sim.worker_errors == []


UNSIMULATED_GLOBAL = """
from js import HTMLRewriter, Response


async def on_fetch(request, env):
    if request.url.endswith("/rewrite"):
        return HTMLRewriter.new().transform(Response.new("<head></head>"))
    return Response.new("a route that does not rewrite")
"""


async def test_a_javascript_global_that_is_not_simulated_loads_and_says_so_when_used(
    autojump_clock: trio.abc.Clock, tmp_path: Path
):
    # As Cloudflare's opengraph example does: imported at the top, so every route needs the import to work.
    sim = workersim.Simulation(edges=("LHR",), worker=worker_file(tmp_path, UNSIMULATED_GLOBAL))
    async with sim:
        assert await (await sim.fetch("https://example.com/")).text() == "a route that does not rewrite"
        assert (await sim.fetch("https://example.com/rewrite")).status == 500
    [failure] = sim.worker_errors
    assert isinstance(failure.error, NotImplementedError)
    assert str(failure.error) == "js.HTMLRewriter is not simulated by workersim (HTMLRewriter.new cannot be used)"


def test_a_name_javascript_does_not_have_is_an_import_error(tmp_path: Path):
    with pytest.raises(ImportError, match="NoSuchGlobal"):
        workersim.Simulation(worker=worker_file(tmp_path, "from js import NoSuchGlobal\nasync def on_fetch(r): pass\n"))


KV_JS_STYLE = """
from js import Response, JSON


async def on_fetch(request, env):
    await env.KV.put("user:1", JSON.stringify({"name": "Ada", "tags": ["x", "y"]}), metadata={"v": 2})
    await env.KV.put("user:2", "{}")
    user = await env.KV.get("user:1", "json")
    raw = await env.KV.get("user:1", "arrayBuffer")
    listed = await env.KV.list(prefix="user:")
    names = [key.name for key in listed.keys]
    meta = await env.KV.getWithMetadata("user:1", "json")
    return Response.new(JSON.stringify({
        "name": user.name, "tags": user.tags.to_py(), "plain": user.to_py(), "bytes": len(raw.to_bytes()),
        "names": names, "complete": listed.list_complete, "meta": meta.metadata.v, "value": meta.value.name,
    }))
"""


async def test_kv_results_answer_javascript_style_access(autojump_clock: trio.abc.Clock, tmp_path: Path):
    sim = workersim.Simulation(edges=("LHR",), kv_namespaces=("KV",), worker=worker_file(tmp_path, KV_JS_STYLE))
    async with sim:
        response = await sim.fetch("https://example.com/")
        assert json.loads(await response.text()) == {
            "name": "Ada",
            "tags": ["x", "y"],
            "plain": {"name": "Ada", "tags": ["x", "y"]},
            "bytes": len('{"name":"Ada","tags":["x","y"]}'),
            "names": ["user:1", "user:2"],
            "complete": True,
            "meta": 2,
            "value": "Ada",
        }
        # The same results are plain dicts, lists and bytes to code written for workersim.
        kv = sim.env("LHR").KV
        assert await kv.get("user:1", type="json") == {"name": "Ada", "tags": ["x", "y"]}
        assert (await kv.list())["keys"][0]["name"] == "user:1"
    assert sim.worker_errors == []


CORS = """
from js import Response, Headers, Object
from pyodide.ffi import to_js

CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, OPTIONS"}


async def on_fetch(request, env):
    if request.method == "OPTIONS":
        return Response.new("", to_js(
            {"status": 204, "headers": Headers.new(to_js(CORS_HEADERS, dict_converter=Object.fromEntries))},
            dict_converter=Object.fromEntries,
        ))
    return Response.new(None, status=405, headers=Headers.new(CORS_HEADERS))
"""


async def test_a_cors_preflight_written_with_nested_conversions(autojump_clock: trio.abc.Clock, tmp_path: Path):
    sim = workersim.Simulation(edges=("LHR",), worker=worker_file(tmp_path, CORS))
    async with sim:
        preflight = await sim.fetch("https://api.example/", method="OPTIONS")
        other = await sim.fetch("https://api.example/", method="PUT", body="x")
    assert preflight.status == 204 and await preflight.text() == ""
    assert preflight.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
    assert other.status == 405 and other.headers["access-control-allow-origin"] == "*"
    assert sim.worker_errors == []


PASS_THROUGH = """
from js import Headers, Object, Request, Response, URL, fetch


async def on_fetch(request, env):
    url = URL.new(request.url)
    target = url.searchParams["to"] or "https://origin.example/default"
    if url.pathname == "/copy":
        # A request made from the incoming one: its method, headers and body come along.
        outbound = Request.new(target, request)
        outbound.headers["x-relayed"] = "yes"
        reply = await fetch(outbound)
        relayed = Response.new(reply.body, reply)
        relayed.headers["x-relayed-status"] = str(reply.status)
        return relayed
    if url.pathname == "/form":
        form = await request.formData()
        return Response.new(JSON_TEXT(Object.fromEntries(form.entries())))
    return Response.new("missing" if "to" not in url.searchParams else "has to")


def JSON_TEXT(value):
    from js import JSON
    return JSON.stringify(value)
"""


async def test_a_request_and_a_response_built_from_others_move_their_bodies(
    autojump_clock: trio.abc.Clock, tmp_path: Path
):
    async def origin(request: workersim.Request) -> workersim.Response:
        text = await request.text()
        return workersim.Response(
            f"{request.method} {text} {request.headers.get('x-relayed')}", status=203, headers={"x-from": "origin"}
        )

    sim = workersim.Simulation(edges=("LHR",), worker=worker_file(tmp_path, PASS_THROUGH))
    sim.route("https://origin.example/", origin)
    async with sim:
        relayed = await sim.fetch("https://edge.example/copy?to=https://origin.example/x", method="POST", body="hi")
        assert (relayed.status, await relayed.text()) == (203, "POST hi yes")
        assert (relayed.headers["x-from"], relayed.headers["x-relayed-status"]) == ("origin", "203")
        form = await sim.fetch(
            "https://edge.example/form",
            method="POST",
            body="a=1&b=two&a=3",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert json.loads(await form.text()) == {"a": "3", "b": "two"}  # fromEntries: the last value wins
        assert await (await sim.fetch("https://edge.example/?to=x")).text() == "has to"
        assert await (await sim.fetch("https://edge.example/")).text() == "missing"
    assert sim.worker_errors == []


BODIES_AND_ERRORS = """
from js import Response, JSON
from pyodide.ffi import JsException, create_once_callable


async def on_fetch(request, env):
    if request.method == "POST":
        try:
            data = await request.json()
        except JsException as error:
            return Response.new({"error": error.name}, status=400)
        return Response.new(data.name)
    once = create_once_callable(lambda: "called")
    first = once()
    try:
        once()
    except JsException:
        second = "refused"
    try:
        JSON.parse("")
    except JsException as error:
        return Response.new(f"{first} {second} {error.message}")
"""


async def test_javascript_errors_and_bodies_as_pyodide_gives_them(autojump_clock: trio.abc.Clock, tmp_path: Path):
    sim = workersim.Simulation(edges=("LHR",), worker=worker_file(tmp_path, BODIES_AND_ERRORS))
    async with sim:
        bad = await sim.fetch("https://example.com/", method="POST", body="not json")
        # JSON that does not parse is a JavaScript SyntaxError; a dict given as a body becomes its str().
        assert (bad.status, await bad.text()) == (400, "{'error': 'SyntaxError'}")
        good = await sim.fetch("https://example.com/", method="POST", body='{"name": "Ada"}')
        assert await good.text() == "Ada"
        read = await sim.fetch("https://example.com/")
        assert await read.text() == "called refused Unexpected end of JSON input"
    assert sim.worker_errors == []


RETURNS_AWAITABLES = """
from workers import Response, fetch


async def answer(text):
    return Response(text)


async def on_fetch(request, env):
    if request.url.endswith("/origin"):
        return fetch("https://origin.example/")   # not awaited: JavaScript resolves the promise
    if request.url.endswith("/value"):
        return env.KV.get("k")                   # resolves, but to no Response
    return answer("from a coroutine")
"""


async def test_an_awaitable_a_handler_returns_is_awaited_as_a_promise_is(
    autojump_clock: trio.abc.Clock, tmp_path: Path
):
    sim = workersim.Simulation(edges=("LHR",), kv_namespaces=("KV",), worker=worker_file(tmp_path, RETURNS_AWAITABLES))
    sim.route("https://origin.example/", "origin text")
    async with sim:
        assert await (await sim.fetch("https://example.com/")).text() == "from a coroutine"
        assert await (await sim.fetch("https://example.com/origin")).text() == "origin text"
        wrong = await sim.fetch("https://example.com/value")
        assert wrong.status == 500
        assert "which gave NoneType None, not a Response" in await wrong.text()
    assert len(sim.worker_errors) == 1


async def test_a_javascript_object_is_not_iterable_and_says_what_to_use(autojump_clock: trio.abc.Clock, tmp_path: Path):
    source = """
    from js import JSON, Response

    async def on_fetch(request, env):
        data = JSON.parse('{"a": 1}')
        return Response.new(str(sorted(dict(data))))
    """
    sim = workersim.Simulation(edges=("LHR",), worker=worker_file(tmp_path, source))
    async with sim:
        response = await sim.fetch("https://example.com/")
    assert response.status == 500
    assert "use obj.to_py() for a dict" in await response.text()


URL_SETTERS = """
from js import URL, Response


async def on_fetch(request, env):
    url = URL.new(request.url)
    url.hostname = "Origin.Example"
    url.port = "8443"
    url.pathname = "api/v1"
    url.search = "?page=2"
    url.searchParams.append("sort", "name")
    url.hash = "top"
    moved = URL.new("https://a.example:8080/x")
    moved.host = "b.example:443"  # the https default port is dropped
    moved.protocol = "http:"
    moved.port = "not a port"  # ignored, as the URL standard does
    return Response.new(url.toString() + " " + moved.href + " " + url.searchParams.get("page"))
"""


async def test_url_properties_can_be_set_as_in_javascript(autojump_clock: trio.abc.Clock, tmp_path: Path):
    sim = workersim.Simulation(worker=worker_file(tmp_path, URL_SETTERS))
    async with sim:
        response = await sim.fetch("https://w.example/old?q=1")
        assert await response.text() == ("https://origin.example:8443/api/v1?page=2&sort=name#top http://b.example/x 2")


URL_SETTER_EDGES = """
from js import URL, Response


def changed(start, name, value):
    url = URL.new(start)
    setattr(url, name, value)
    return url.href


async def on_fetch(request, env):
    hrefs = [
        changed("https://a.example/x", "hostname", "b.example/p?q"),  # the host ends at /, ? or #
        changed("https://a.example/x", "hostname", "b.example:8080"),  # a port makes the whole value invalid
        changed("https://a.example:81/x", "host", "b.example:"),  # no digits: the port stays
        changed("https://a.example:81/x", "host", "[::1]:85"),
        changed("https://a.example/x", "hostname", "a b"),
        changed("https://a.example/x", "search", "q=a b&t=\\"<>'`#\\u00e9"),
        changed("https://a.example/x", "hash", "\\"<>'`#\\u00e9 x"),
        changed("https://a.example/x", "pathname", "a/../b c"),
        changed("https://a.example/x", "pathname", "/a/b/%2E%2e"),
        changed("https://a.example/x", "pathname", "a\\\\b"),
        URL.new("https://a.example/a/./b/.%2E/c?q=a b#c d").href,
    ]
    return Response.new("\\n".join(hrefs))
"""


async def test_url_setters_parse_their_values_as_the_url_standard(autojump_clock: trio.abc.Clock, tmp_path: Path):
    # The expected hrefs are the URL standard's (as Node 20's URL gives them).
    sim = workersim.Simulation(worker=worker_file(tmp_path, URL_SETTER_EDGES))
    async with sim:
        response = await sim.fetch("https://w.example/")
        assert (await response.text()).split("\n") == [
            "https://b.example/x",
            "https://a.example/x",
            "https://b.example:81/x",
            "https://[::1]:85/x",
            "https://a.example/x",
            "https://a.example/x?q=a%20b&t=%22%3C%3E%27`%23%C3%A9",
            "https://a.example/x#%22%3C%3E'%60#%C3%A9%20x",
            "https://a.example/b%20c",
            "https://a.example/a/",
            "https://a.example/a/b",
            "https://a.example/a/c?q=a%20b#c%20d",
        ]


@pytest.mark.parametrize(
    ("text", "message"),
    [  # V8's messages (as Node 20's JSON.parse gives them)
        ('{"a":', "Unexpected end of JSON input"),
        ("[", "Unexpected end of JSON input"),
        ("<p>tea</p>", "Unexpected token '<', \"<p>tea</p>\" is not valid JSON"),
        (
            '{"aaaaaaaaaaaaaaaaaaaa": 1, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb": x}',
            'Unexpected token \'x\', ..."bbbbbbb": x}" is not valid JSON',
        ),
        ("<html><body>Not found</body></html>", "Unexpected token '<', \"<html><bod\"... is not valid JSON"),
        (
            '{"count": 1, "items": [1, 2, oops, 4]}',
            'Unexpected token \'o\', ..."": [1, 2, oops, 4]}" is not valid JSON',
        ),
        (
            '{"a": 1, "b": [1, 2, oops, 4], "c": "padding"}',
            'Unexpected token \'o\', ..."": [1, 2, oops, 4], "... is not valid JSON',
        ),
    ],
)
def test_json_parse_errors_are_worded_as_v8_words_them(text: str, message: str) -> None:
    with pytest.raises(JsException) as raised:
        parse_js(text)
    assert raised.value.name == "SyntaxError" and raised.value.message == message

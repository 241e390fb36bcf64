"""The platform around a Python Worker: the ASGI bridge, outbound fetch, wrangler configuration (environments,
secrets, cron triggers, assets, bindings that are not simulated) and what Cloudflare adds to each request."""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import pytest
import trio

import workersim
from workersim import BindingNotSimulated, FetchNotRouted, ScheduledRow, UnsimulatedBindingWarning


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


# --- the ASGI bridge ---------------------------------------------------------------------------------------------

FASTAPI_WORKER = """
import asgi
from fastapi import FastAPI, Request
from workers import WorkerEntrypoint

app = FastAPI()


@app.get("/")
async def root():
    return {"message": "hello"}


@app.put("/notes/{name}")
async def put_note(name: str, req: Request):
    env = req.scope["env"]
    await env.NOTES.put(name, (await req.body()).decode())
    return {"stored": name}


@app.get("/notes/{name}")
async def get_note(name: str, req: Request):
    note = await req.scope["env"].NOTES.get(name)
    return {"name": name, "note": note, "message": req.scope["env"].MESSAGE}


@app.get("/sync")
def sync_endpoint():
    return {"sync": True}


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request.js_object, self.env)
"""


async def test_a_fastapi_app_through_asgi_fetch_sees_stale_kv_at_another_edge(
    autojump_clock: trio.abc.Clock, tmp_path: Path
) -> None:
    sim = workersim.Simulation(
        edges=("LHR", "SFO"),
        kv_namespaces=("NOTES",),
        vars={"MESSAGE": "from vars"},
        delays=workersim.FixedDelay(3.0),
        worker=write(tmp_path, "worker.py", FASTAPI_WORKER),
    )
    async with sim:
        root = await sim.fetch("https://notes.example/")
        assert (root.status, json.loads(await root.text())) == (200, {"message": "hello"})
        assert root.headers["content-type"] == "application/json"
        put = await sim.fetch("https://notes.example/notes/todo", method="PUT", body="buy tea", edge="LHR")
        assert json.loads(await put.text()) == {"stored": "todo"}
        here = await sim.fetch("https://notes.example/notes/todo", edge="LHR")
        there = await sim.fetch("https://notes.example/notes/todo", edge="SFO")
        assert json.loads(await here.text()) == {"name": "todo", "note": "buy tea", "message": "from vars"}
        assert json.loads(await there.text())["note"] is None  # the write has not reached SFO: stale
        await trio.sleep(3.0)
        later = await sim.fetch("https://notes.example/notes/todo", edge="SFO")
        assert json.loads(await later.text())["note"] == "buy tea"
        sync = await sim.fetch("https://notes.example/sync")
        assert json.loads(await sync.text()) == {"sync": True}
        missing = await sim.fetch("https://notes.example/nowhere")
        assert missing.status == 404
    assert sim.worker_errors == []


async def concurrent_notes(tmp_path: Path, seed: int) -> workersim.Simulation:
    sim = workersim.Simulation(
        edges=("LHR", "SFO"), kv_namespaces=("NOTES",), vars={"MESSAGE": "m"}, seed=seed,
        worker=write(tmp_path, "worker.py", FASTAPI_WORKER),
    )  # fmt: skip
    async with sim, trio.open_nursery() as nursery:
        for index in range(6):
            edge = ("LHR", "SFO")[index % 2]
            nursery.start_soon(lambda e=edge, i=index: sim.fetch(f"https://n.example/notes/k{i % 2}", edge=e,
                                                                  method="PUT", body=str(i)))  # fmt: skip
            nursery.start_soon(lambda e=edge, i=index: sim.fetch(f"https://n.example/notes/k{i % 2}", edge=e))
            nursery.start_soon(lambda: sim.fetch("https://n.example/sync"))
    return sim


def test_the_asgi_bridge_is_reproducible(tmp_path: Path) -> None:
    # Sync endpoints run inline (Pyodide has no threads), so concurrent requests give the same history every run.
    runs = [workersim.run(lambda seed: concurrent_notes(tmp_path, seed), 3) for _ in range(3)]
    texts = {sim.history.to_jsonl_text() for sim in runs}
    assert len(texts) == 1 and runs[0].worker_errors == []
    assert sum(row.op == "response" for row in runs[0].history) == 18


# --- outbound fetch ----------------------------------------------------------------------------------------------

OUTBOUND_WORKER = """
from js import fetch, Response, JSON
from pyodide.http import pyfetch
import workers


async def on_fetch(request, env):
    if request.url.startswith("https://api.example.com/"):
        return await fetch(request)            # the fall-through: pass the origin's response on
    path = request.url.split("/", 3)[3]
    if path == "js":
        reply = await fetch("https://api.example.com/v1/price?item=tea")
        data = await reply.json()              # a JavaScript object, as on Cloudflare
        return Response.new(f"js {reply.status} {data.price} {JSON.stringify(data)}")
    if path == "sdk":
        reply = await workers.fetch("https://api.example.com/v1/echo", method="POST", body="hi")
        return Response.new(f"sdk {reply.status} {await reply.text()}")
    if path == "pyfetch":
        reply = await pyfetch("https://static.example.com/data.json")
        return Response.new(f"pyfetch {(await reply.json())['n']}")
    reply = await fetch("https://unrouted.example.org/path")
    return Response.new("unreachable")
"""


async def test_outbound_fetch_goes_to_routed_origins_after_their_latency(
    autojump_clock: trio.abc.Clock, tmp_path: Path
) -> None:
    async def api(request: workersim.Request) -> workersim.Response:
        if request.url.endswith("/echo"):
            return workersim.Response(f"{request.method} {await request.text()}", status=201)
        return workersim.Response.json({"price": 3, "url": request.url})

    sim = workersim.Simulation(edges=("LHR",), worker=write(tmp_path, "entry.py", OUTBOUND_WORKER))
    sim.route("https://api.example.com/", api, latency=0.25)
    sim.route("https://static.example.com/", workersim.Response('{"n": 7}'), latency=0.5)
    async with sim:
        before = sim.now()
        js = await sim.fetch("https://w.example/js")
        assert sim.now() - before == pytest.approx(0.25)  # the origin's latency, in virtual time
        status, price, text = (await js.text()).split(" ", 3)[1:]
        assert (status, price) == ("200", "3")
        assert json.loads(text) == {"price": 3, "url": "https://api.example.com/v1/price?item=tea"}
        proxied = await sim.fetch("https://api.example.com/v1/echo", method="POST", body="through")
        assert (proxied.status, await proxied.text()) == (201, "POST through")
        assert await (await sim.fetch("https://w.example/sdk")).text() == "sdk 201 POST hi"
        for _ in range(2):  # a fixed response is served afresh each time
            assert await (await sim.fetch("https://w.example/pyfetch")).text() == "pyfetch 7"
        unrouted = await sim.fetch("https://w.example/elsewhere")
    assert unrouted.status == 500
    [failure] = sim.worker_errors
    assert isinstance(failure.error, FetchNotRouted)
    message = str(failure.error)
    assert "https://unrouted.example.org/path" in message and 'sim.route("https://unrouted.example.org/"' in message


HTTPX_WORKER = """
import httpx
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        async with httpx.AsyncClient() as client:
            reply = await client.post("https://api.example.com/v1/echo", content=b"from httpx")
        return Response(f"{reply.status_code} {reply.text}")
"""


async def test_httpx_async_client_in_a_worker_follows_the_routes(autojump_clock: trio.abc.Clock, tmp_path: Path):
    async def echo(request: workersim.Request) -> workersim.Response:
        return workersim.Response(f"{request.method} {await request.text()}", status=202)

    sim = workersim.Simulation(edges=("LHR",), worker=write(tmp_path, "entry.py", HTTPX_WORKER))
    sim.route("https://api.example.com/", echo, latency=0.1)
    async with sim:
        assert await (await sim.fetch("https://w.example/")).text() == "202 POST from httpx"
        assert sim.now() == pytest.approx(0.1)
    assert sim.worker_errors == []


def test_route_arguments_are_checked() -> None:
    sim = workersim.Simulation(edges=("LHR",))
    with pytest.raises(TypeError, match="absolute http"):
        sim.route("/relative", "x")
    with pytest.raises(ValueError, match="latency"):
        sim.route("https://a.example/", "x", latency=-1)
    with pytest.raises(TypeError, match="a route answers"):
        sim.route("https://a.example/", 42)  # type: ignore[arg-type]


# --- configuration -----------------------------------------------------------------------------------------------

CONFIG_WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(f"{self.env.API_KEY} {self.env.STAGE} {self.env.SHARED}")
"""


def project(tmp_path: Path, toml: str, dev_vars: str | None = None, dotenv: str | None = None) -> Path:
    write(tmp_path, "src/entry.py", CONFIG_WORKER)
    if dev_vars is not None:
        write(tmp_path, ".dev.vars", dev_vars)
    if dotenv is not None:
        write(tmp_path, ".env", dotenv)
    return write(tmp_path, "wrangler.toml", toml)


TOML = """
name = "shop"
main = "src/entry.py"
kv_namespaces = [{ binding = "KV", id = "1" }]

[vars]
STAGE = "production"
SHARED = "top"

[env.staging]
kv_namespaces = [{ binding = "STAGING_KV", id = "2" }]

[env.staging.vars]
STAGE = "staging"
SHARED = "staging-shared"
"""


async def answer(sim: workersim.Simulation) -> str:
    async with sim:
        return await (await sim.fetch("https://shop.example/")).text()


async def test_dev_vars_become_secrets_on_env(autojump_clock: trio.abc.Clock, tmp_path: Path) -> None:
    config = project(tmp_path, TOML, dev_vars='API_KEY="s3cret"\n# a comment\n', dotenv="API_KEY=ignored\n")
    sim = workersim.Simulation.from_config(config, edges=("LHR",))
    assert sim.secrets == {"API_KEY": "s3cret"}  # .env is read only when there is no .dev.vars
    assert await answer(sim) == "s3cret production top"


async def test_dot_env_is_read_without_dev_vars(autojump_clock: trio.abc.Clock, tmp_path: Path) -> None:
    config = project(tmp_path, TOML, dotenv="API_KEY=from-dotenv\n")
    assert await answer(workersim.Simulation.from_config(config, edges=("LHR",))) == "from-dotenv production top"


async def test_an_env_section_is_selected(autojump_clock: trio.abc.Clock, tmp_path: Path) -> None:
    config = project(tmp_path, TOML, dev_vars="API_KEY=k\n")
    write(tmp_path, ".dev.vars.staging", "API_KEY=staging-key\n")
    sim = workersim.Simulation.from_config(config, edges=("LHR",), environment="staging")
    assert sim.kv_namespaces == ("STAGING_KV",)  # bindings are not inherited from the top level
    assert await answer(sim) == "staging-key staging staging-shared"
    with pytest.raises(workersim.ConfigError, match="no environment 'qa'.*staging"):
        workersim.Simulation.from_config(config, environment="qa")
    assert workersim.load_config(config, "staging").name == "shop-staging"


async def test_vars_and_secrets_given_in_python_merge_over_the_file(
    autojump_clock: trio.abc.Clock, tmp_path: Path
) -> None:
    config = project(tmp_path, TOML, dev_vars="API_KEY=file\n")
    sim = workersim.Simulation.from_config(config, edges=("LHR",), vars={"SHARED": "mine"}, secrets={"API_KEY": "x"})
    assert await answer(sim) == "x production mine"


UNSIMULATED = """
name = "app"
main = "src/entry.py"
d1_databases = [{ binding = "DB", database_name = "db", database_id = "1" }]
r2_buckets = [{ binding = "BUCKET", bucket_name = "b" }]
services = [{ binding = "AUTH", service = "auth" }]

[durable_objects]
bindings = [{ name = "COUNTER", class_name = "Counter" }]
"""

USES_D1 = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        rows = await self.env.DB.prepare("SELECT 1").all()
        return Response(str(rows))
"""


async def test_bindings_that_are_not_simulated_warn_once_and_refuse_use(
    autojump_clock: trio.abc.Clock, tmp_path: Path
) -> None:
    config = write(tmp_path, "wrangler.toml", UNSIMULATED)
    write(tmp_path, "src/entry.py", USES_D1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sim = workersim.Simulation.from_config(config, edges=("LHR",))
    [warning] = [w for w in caught if issubclass(w.category, UnsimulatedBindingWarning)]
    for name in ("DB (a D1 database)", "BUCKET (an R2 bucket)", "AUTH (a service binding)", "COUNTER"):
        assert name in str(warning.message)
    async with sim:
        assert (await sim.fetch("https://app.example/")).status == 500
    [failure] = sim.worker_errors
    assert isinstance(failure.error, BindingNotSimulated)
    assert str(failure.error).startswith("env.DB is a D1 database, which workersim does not simulate")


# --- cron triggers -----------------------------------------------------------------------------------------------

CRON_WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def scheduled(self, controller, env, ctx):
        count = int(await env.KV.get("runs") or 0) + 1
        await env.KV.put("runs", str(count))
        print(f"run {count} for {controller.cron} at {controller.scheduledTime}")

    async def fetch(self):
        return Response("the fetch handler may take no request at all")
"""


async def test_a_cron_trigger_fires_every_minute_of_virtual_time(
    autojump_clock: trio.abc.Clock, tmp_path: Path
) -> None:
    write(tmp_path, "src/entry.py", CRON_WORKER)
    config = write(tmp_path, "wrangler.toml", 'main = "src/entry.py"\nkv_namespaces = [{binding = "KV", id = "1"}]\n'
                   '[triggers]\ncrons = ["* * * * *"]\n')  # fmt: skip
    start = 1_800_000_000  # 2027-01-15T08:00:00Z: a whole minute, so runs fall at 60, 120, ... virtual seconds
    sim = workersim.Simulation.from_config(config, edges=("LHR", "SFO"), start_time=start, scheduled_edge="SFO")
    async with sim:
        await trio.sleep(10 * 60 + 30)
        response = await sim.fetch("https://cron.example/")
        assert await response.text() == "the fetch handler may take no request at all"
    runs = [row for row in sim.history if isinstance(row, ScheduledRow)]
    assert [row.invoke for row in runs] == [60.0 * minute for minute in range(1, 11)]
    assert {row.edge for row in runs} == {"SFO"} and {row.cron for row in runs} == {"* * * * *"}
    assert [line.message for line in sim.logs] == [
        f"run {n} for * * * * * at {(start + 60 * n) * 1000:.1f}" for n in range(1, 11)
    ]
    # Each run's KV operations carry its id, as a request's do.
    writes = [row for row in sim.history if isinstance(row, workersim.KVWrite)]
    assert [row.request for row in writes] == [row.request for row in runs]
    assert sim.worker_errors == []


ON_SCHEDULED = """
from js import console


async def on_scheduled(controller, env, ctx):
    console.log("cleaning", controller.cron)
    ctx.waitUntil(env.KV.delete("stale"))


async def on_fetch(request, env):
    from js import Response
    return Response.new("ok")
"""


async def test_trigger_scheduled_runs_the_older_on_scheduled_form(
    autojump_clock: trio.abc.Clock, tmp_path: Path
) -> None:
    sim = workersim.Simulation(
        edges=("LHR", "SFO"), kv_namespaces=("KV",), worker=write(tmp_path, "w.py", ON_SCHEDULED)
    )
    async with sim:
        await sim.env("SFO").KV.put("stale", "x")
        await sim.trigger_scheduled("0 3 * * *", edge="SFO")
        await sim.settle()
        assert await sim.env("SFO").KV.get("stale") is None
    assert [(line.edge, line.message) for line in sim.logs] == [("SFO", "cleaning 0 3 * * *")]
    with pytest.raises(workersim.ConfigError, match="not a cron expression"):
        workersim.Simulation(edges=("LHR",), crons=["every minute"])


# --- static assets -----------------------------------------------------------------------------------------------

ASSETS_WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/api"):
            return Response.json({"from": "worker"})
        return await self.env.ASSETS.fetch(request.js_object)
"""


async def test_static_assets_are_served_before_the_worker(autojump_clock: trio.abc.Clock, tmp_path: Path) -> None:
    write(tmp_path, "public/index.html", "<h1>home</h1>")
    write(tmp_path, "public/css/site.css", "body{}")
    write(tmp_path, "src/entry.py", ASSETS_WORKER)
    config = write(tmp_path, "wrangler.toml", 'main = "src/entry.py"\n[assets]\ndirectory = "./public"\n'
                   'binding = "ASSETS"\n')  # fmt: skip
    sim = workersim.Simulation.from_config(config, edges=("LHR",))
    async with sim:
        home = await sim.fetch("https://site.example/")
        assert (home.status, await home.text()) == (200, "<h1>home</h1>")
        assert home.headers["content-type"].startswith("text/html")
        css = await sim.fetch("https://site.example/css/site.css")
        assert css.headers["content-type"].startswith("text/css") and await css.text() == "body{}"
        api = await sim.fetch("https://site.example/api")
        assert json.loads(await api.text()) == {"from": "worker"}
        missing = await sim.fetch("https://site.example/missing.png")  # the worker asks the binding: a 404
        assert missing.status == 404
        escape = await sim.fetch("https://site.example/%2e%2e/wrangler.toml")
        assert escape.status == 404  # never a file outside the directory
    ops = [row.op for row in sim.history]
    assert ops.count("fetch") == 3  # the two asset hits never reached the worker


# --- what Cloudflare adds to a request ---------------------------------------------------------------------------

CRON_ONLY_FUNCTION = """
from workers import handler


@handler
async def on_scheduled(controller, env, ctx):
    print("tick", controller.cron)
"""

CRON_ONLY_CLASS = """
from workers import WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def scheduled(self, controller):
        print("tick", controller.cron)
"""


@pytest.mark.parametrize("source", [CRON_ONLY_FUNCTION, CRON_ONLY_CLASS], ids=["on_scheduled", "class"])
async def test_a_worker_with_only_a_scheduled_handler_runs_its_crons_and_fails_requests(
    autojump_clock: trio.abc.Clock, tmp_path: Path, source: str
) -> None:
    write(tmp_path, "src/entry.py", source)
    write(tmp_path, "wrangler.toml", 'main = "src/entry.py"\n[triggers]\ncrons = ["0 * * * *"]\n')
    sim = workersim.Simulation(worker=tmp_path, start_time=1_800_000_000)  # a whole hour
    async with sim:
        await trio.sleep(2 * 3600 + 1)
        response = await sim.fetch("https://cron.example/")
    # As on Cloudflare, a cron-only worker is valid, and a request to it fails with the runtime's error.
    assert response.status == 500
    assert "Handler does not export a fetch() function." in await response.text()
    assert [line.message for line in sim.logs] == ["tick 0 * * * *", "tick 0 * * * *"]
    assert [error.phase for error in sim.worker_errors] == ["fetch"]


def test_a_worker_file_with_no_handler_at_all_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="defines no worker"):
        workersim.Simulation(worker=write(tmp_path, "entry.py", "VALUE = 1\n"))


CF_WORKER = """
async def on_fetch(request, env):
    from js import Response, JSON
    cf = request.cf
    found = {name: getattr(cf, name, None) for name in
             ("region", "regionCode", "postalCode", "metroCode", "isEUCountry", "tlsVersion", "tlsCipher")}
    return Response.new(JSON.stringify(found))
"""


async def test_request_cf_has_the_geolocation_fields_cloudflare_documents(
    autojump_clock: trio.abc.Clock, tmp_path: Path
) -> None:
    sim = workersim.Simulation(edges=("SFO", "FRA", "LHR"), worker=write(tmp_path, "entry.py", CF_WORKER))
    async with sim:
        answers = {edge: await sim.fetch("https://geo.example/", edge=edge) for edge in sim.edges}
        seen = {edge: json.loads(await response.text()) for edge, response in answers.items()}
    assert seen["SFO"] == {
        "region": "California", "regionCode": "CA", "postalCode": "94107", "metroCode": "807", "isEUCountry": None,
        "tlsVersion": "TLSv1.3", "tlsCipher": "AEAD-AES128-GCM-SHA256",
    }  # fmt: skip
    # metroCode (a US DMA code) and isEUCountry (only "1", only in the EU) are left out elsewhere, as on Cloudflare.
    assert (seen["FRA"]["metroCode"], seen["FRA"]["isEUCountry"]) == (None, "1")
    assert (seen["LHR"]["regionCode"], seen["LHR"]["metroCode"], seen["LHR"]["isEUCountry"]) == ("ENG", None, None)


def test_is_eu_country_follows_a_country_given_in_cf() -> None:
    # Cloudflare: isEUCountry is "1" when the visitor's country is in the EU, and left out otherwise; cf= may set the
    # visitor's country at an edge, and isEUCountry goes with it.
    sim = workersim.Simulation(edges=("SFO", "FRA"), cf={"SFO": {"country": "DE"}, "FRA": {"country": "US"}})
    assert (sim.cf("SFO").get("isEUCountry"), sim.cf("FRA").get("isEUCountry")) == ("1", None)
    given = workersim.Simulation(edges=("FRA",), cf={"FRA": {"country": "US", "isEUCountry": "1"}})
    assert given.cf("FRA")["isEUCountry"] == "1"  # what the test sets is kept


REQUEST_WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        cookie = request.headers["Cookie"]
        return Response.json({
            "cookie": cookie,
            "colo": request.cf.colo,
            "country": request.cf["country"],
            "ip": request.headers.get("CF-Connecting-IP"),
            "ip_country": request.headers.get("cf-ipcountry"),
            "proto": request.headers.get("x-forwarded-proto"),
            "js_colo": request.js_object.cf.colo,
        })
"""


async def test_request_cf_and_cloudflare_headers(autojump_clock: trio.abc.Clock, tmp_path: Path) -> None:
    sim = workersim.Simulation(
        edges=("LHR", "NRT", "XYZ"),
        cf={"NRT": {"city": "Narita"}},
        worker=write(tmp_path, "entry.py", REQUEST_WORKER),
    )
    async with sim:
        seen = {
            edge: json.loads(await (await sim.fetch("https://example.com/", edge=edge)).text()) for edge in sim.edges
        }
        with_cookie = await sim.fetch("https://example.com/", headers={"Cookie": "a=1"})
        assert json.loads(await with_cookie.text())["cookie"] == "a=1"
    for edge, found in seen.items():
        assert found["cookie"] is None  # a missing header is None, not a KeyError
        assert found["colo"] == edge == found["js_colo"]
        assert found["proto"] == "https"
        assert found["ip"].startswith("203.0.113.")
    assert (seen["LHR"]["country"], seen["NRT"]["country"], seen["XYZ"]["country"]) == ("GB", "JP", "XX")
    assert seen["LHR"]["ip_country"] == "GB"
    assert sim.cf("NRT")["city"] == "Narita" and sim.cf("LHR")["city"] == "London"
    with pytest.raises(ValueError, match="cf= names edges"):
        workersim.Simulation(edges=("LHR",), cf={"SFO": {}})


async def test_a_handler_changing_request_cf_changes_only_its_own_request(autojump_clock: trio.abc.Clock) -> None:
    # Every request at an edge starts from the edge's cf properties, shared until read: a handler writing to its
    # request's cf must never reach the next request, nor the simulation's own.
    seen = []

    async def handler(request: workersim.Request, env: object, ctx: object) -> workersim.Response:
        seen.append((request.cf.city, request.cf.get("mark"), request.headers.get("cf-ipcountry")))
        request.cf.city = "Changed"
        request.cf["mark"] = len(seen)
        return workersim.Response("ok")

    sim = workersim.Simulation(edges=("LHR",), cf={"LHR": {"city": "Planned", "country": "FR"}}, worker=handler)
    async with sim:
        await sim.fetch("https://example.com/")
        await sim.fetch("https://example.com/", edge="LHR")
        own = workersim.Request("https://example.com/")
        own.cf = {"mark": "mine"}
        await sim.fetch(own)
    assert seen == [("Planned", None, "FR"), ("Planned", None, "FR"), ("Planned", "mine", "FR")]
    assert sim.cf("LHR")["city"] == "Planned" and "mark" not in sim.cf("LHR")


FORM_WORKER = """
from workers import Response, WorkerEntrypoint, FormData, File


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        form = await request.form_data()
        upload = form["upload"]
        described = {
            "name": form["name"], "tags": form.get_all("tag"), "missing": form["nope"],
            "file": None if upload is None else [upload.name, upload.content_type, await upload.text()],
            "is_file": isinstance(upload, File), "count": len(form),
        }
        return Response.json(described)
"""


async def test_form_data_from_urlencoded_and_multipart_bodies(autojump_clock: trio.abc.Clock, tmp_path: Path):
    import httpx

    sim = workersim.Simulation(edges=("LHR",), worker=write(tmp_path, "form.py", FORM_WORKER))
    multipart = httpx.Request(
        "POST", "https://f.example/", data={"name": "Ada", "tag": ["x", "y"]},
        files={"upload": ("notes.txt", b"hello file", "text/plain")},
    )  # fmt: skip
    async with sim:
        plain = await sim.fetch("https://f.example/", method="POST", body="name=Bo&tag=a&tag=b+c",
                                headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert json.loads(await plain.text()) == {
            "name": "Bo", "tags": ["a", "b c"], "missing": None, "file": None, "is_file": False, "count": 3
        }  # fmt: skip
        files = await sim.fetch("https://f.example/", method="POST", body=multipart.read(),
                                headers={"content-type": multipart.headers["content-type"]})  # fmt: skip
        assert json.loads(await files.text()) == {
            "name": "Ada", "tags": ["x", "y"], "missing": None,
            "file": ["notes.txt", "text/plain", "hello file"], "is_file": True, "count": 4,
        }  # fmt: skip
        not_a_form = await sim.fetch("https://f.example/", method="POST", body="{}",
                                     headers={"content-type": "application/json"})  # fmt: skip
        assert not_a_form.status == 500
    [failure] = sim.worker_errors
    assert isinstance(failure.error, TypeError) and "Failed to parse body as FormData" in str(failure.error)


WSGI_WORKER = """
import json

from workers import WorkerEntrypoint, wsgi


def app(environ, start_response):
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("the app failed")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    start_response("201 Created", [("Content-Type", "application/json"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    yield json.dumps({
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "body": environ["wsgi.input"].read(length).decode(),
        "tag": environ.get("HTTP_X_TAG"),
        "greeting": environ["workers.env"].GREETING,
    }).encode()


if __name__ == "entry":
    Default = wsgi.entrypoint(app)
else:
    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            return await wsgi.fetch(app, request, self.env)
"""


@pytest.mark.parametrize("form", ["entry", "worker"])
async def test_a_wsgi_app_through_workers_wsgi(autojump_clock: trio.abc.Clock, tmp_path: Path, form: str) -> None:
    path = write(tmp_path, f"{form}.py", WSGI_WORKER)
    sim = workersim.Simulation(edges=("LHR",), vars={"GREETING": "hi"}, worker=path)
    async with sim:
        response = await sim.fetch(
            "https://example.com/caf%C3%A9?x=1", method="POST", body="data", headers={"x-tag": "t"}
        )
        assert (response.status, response.status_text) == (201, "Created")
        assert response.headers.multi_items().count(("set-cookie", "a=1")) == 1
        assert ("set-cookie", "b=2") in response.headers.multi_items()
        assert json.loads(await response.text()) == {
            "method": "POST",
            "path": "/café".encode().decode("latin-1"),  # a WSGI native string, as PEP 3333 asks
            "query": "x=1",
            "body": "data",
            "tag": "t",
            "greeting": "hi",
        }
        failed = await sim.fetch("https://example.com/boom")
        assert failed.status == 500 and "RuntimeError: the app failed" in await failed.text()


WSGI_ERROR_HANDLER = """
import sys

from workers import wsgi


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"] == "/fails":
        raise ValueError("no such item")
    return [environ["PATH_INFO"].encode("latin-1")]


def handled(environ, start_response):
    # Error-handling middleware, as PEP 3333 writes it: before any of the body, a second start_response with
    # exc_info replaces the status and headers.
    try:
        return list(app(environ, start_response))
    except ValueError:
        start_response("404 Not Found", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"handled"]


def too_late(environ, start_response):
    write = start_response("200 OK", [])
    write(b"partial")
    try:
        raise ValueError("after the body began")
    except ValueError:
        start_response("500 Internal Server Error", [], sys.exc_info())  # must re-raise: the headers are out
    return [b"unreachable"]


Default = wsgi.entrypoint(lambda environ, start: (too_late if environ["PATH_INFO"] == "/late" else handled)(
    environ, start))
"""


@pytest.mark.workersim_allow_worker_errors
async def test_the_wsgi_bridge_lets_an_error_handler_replace_the_headers(
    autojump_clock: trio.abc.Clock, tmp_path: Path
) -> None:
    sim = workersim.Simulation(edges=("LHR",), worker=write(tmp_path, "entry.py", WSGI_ERROR_HANDLER))
    async with sim:
        handled = await sim.fetch("https://example.com/fails")
        assert (handled.status, await handled.text()) == (404, "handled")
        late = await sim.fetch("https://example.com/late")
        assert late.status == 500 and "after the body began" in await late.text()
        # PATH_INFO holds the path's bytes one character each, UTF-8 or not (PEP 3333's native strings).
        raw = await sim.fetch("https://example.com/%FF%C3%A9")
        assert await raw.bytes() == b"/\xff\xc3\xa9"


STARLETTE_ENTRYPOINT = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from workers import Response, WorkerEntrypoint, asgi, fetch


async def hello(request):
    return PlainTextResponse(f"hello from {request.scope['env'].GREETING} at {request.url.path}")


Default = asgi.entrypoint(Starlette(routes=[Route("/hello", hello)]))
"""


async def test_an_asgi_app_as_the_whole_worker(autojump_clock: trio.abc.Clock, tmp_path: Path) -> None:
    sim = workersim.Simulation(
        edges=("LHR",), vars={"GREETING": "env"}, worker=write(tmp_path, "entry.py", STARLETTE_ENTRYPOINT)
    )
    async with sim:
        response = await sim.fetch("https://example.com/hello")
        assert await response.text() == "hello from env at /hello"
        assert (await sim.fetch("https://example.com/nope")).status == 404
        socket = await sim.fetch("https://example.com/hello", headers={"upgrade": "websocket"})
        assert "WebSocket requests are not simulated" in await socket.text()


PROXY_BODY = """
from workers import Response, WorkerEntrypoint, fetch


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        upstream = await fetch("https://origin.example/page")
        headers = dict(upstream.headers)
        headers["x-proxied"] = "1"
        if request.url.endswith("/twice"):
            relayed = Response(upstream.body, headers=headers)
            return Response(upstream.body)    # the stream was read by the first: an error, as in JavaScript
        return Response(upstream.body, status=upstream.status, headers=headers)
"""


async def test_a_response_body_stream_becomes_another_responses_body(
    autojump_clock: trio.abc.Clock, tmp_path: Path
) -> None:
    sim = workersim.Simulation(edges=("LHR",), worker=write(tmp_path, "entry.py", PROXY_BODY))
    sim.route("https://origin.example/", workersim.Response("page", status=202, headers={"x-origin": "o"}))
    async with sim:
        response = await sim.fetch("https://example.com/")
        assert (response.status, await response.text()) == (202, "page")
        assert (response.headers["x-origin"], response.headers["x-proxied"]) == ("o", "1")
        twice = await sim.fetch("https://example.com/twice")
        assert twice.status == 500 and "Body already used" in await twice.text()


# --- whole projects, laid out as pywrangler and C3 make them ------------------------------------------------------

PROJECT_JSONC = """
// A project as `pywrangler init` / C3 lay it out: comments, trailing commas, keys that change nothing here.
{
  "$schema": "node_modules/wrangler/config-schema.json",
  "name": "notes",
  "main": "src/entry.py",
  "compatibility_date": "2025-11-02",
  "compatibility_flags": ["python_workers"],
  "upload_source_maps": true,
  "observability": { "enabled": true, },
  /* bindings */
  "vars": { "GREETING": "hello", },
  "kv_namespaces": [{ "binding": "NOTES", "id": "0f2ac74b498b48028cb68387c421e279" },],
  "routes": [{ "pattern": "notes.example.com/*", "zone_name": "example.com" }],
  "rules": [{ "type": "Data", "globs": ["**/*.txt"], "fallthrough": true }],
}
"""

PROJECT_ENTRY = """
from workers import Response, WorkerEntrypoint

import wordcount
from notes.render import render


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        await self.env.NOTES.put("n", "a b c")
        text = await self.env.NOTES.get("n")
        return Response(render(self.env.GREETING, self.env.TOKEN, wordcount.count(text)))
"""


def python_project(folder: Path) -> Path:
    write(folder, "wrangler.jsonc", PROJECT_JSONC)
    write(folder, "pyproject.toml", '[project]\nname = "notes"\nversion = "0.1.0"\ndependencies = []\n')
    write(folder, ".dev.vars", "TOKEN=t0k\n")
    write(folder, "src/entry.py", PROJECT_ENTRY)
    write(folder, "src/wordcount.py", "def count(text):\n    return len(text.split())\n")
    write(folder, "src/notes/__init__.py", "")
    write(folder, "src/notes/render.py", "from .shape import line\n\n\ndef render(*parts):\n    return line(parts)\n")
    write(folder, "src/notes/shape.py", "def line(parts):\n    return ' '.join(map(str, parts))\n")
    return folder


@pytest.mark.parametrize("target", [".", "wrangler.jsonc"])
async def test_a_project_folder_or_its_configuration_is_the_worker(
    autojump_clock: trio.abc.Clock, tmp_path: Path, target: str
) -> None:
    folder = python_project(tmp_path)
    sim = workersim.Simulation(worker=folder / target, edges=("LHR",))
    assert (sim.kv_namespaces, sim.secrets, sim.worker) == (("NOTES",), {"TOKEN": "t0k"}, folder / "src/entry.py")
    assert sim.config is not None and sim.config.name == "notes"
    async with sim:
        assert await (await sim.fetch("https://notes.example.com/")).text() == "hello t0k 3"


def test_what_is_not_a_worker_project_is_named(tmp_path: Path) -> None:
    with pytest.raises(workersim.ConfigError, match="no wrangler.toml, wrangler.jsonc, wrangler.json in this folder"):
        workersim.Simulation(worker=tmp_path)
    with pytest.raises(workersim.ConfigError, match="no such worker file, configuration or project folder"):
        workersim.Simulation(worker=tmp_path / "missing")
    with pytest.raises(workersim.ConfigError, match=r"a worker is a Python file \(\*\.py\), a wrangler configuration"):
        workersim.Simulation(worker=write(tmp_path, "worker.js", "export default {}\n"))
    with pytest.raises(ValueError, match="environment= picks a section of a wrangler configuration"):
        workersim.Simulation(worker=write(tmp_path, "entry.py", "async def on_fetch(request): pass\n"), environment="x")


async def test_kv_namespaces_given_in_python_add_to_the_file(autojump_clock: trio.abc.Clock, tmp_path: Path) -> None:
    sim = workersim.Simulation(worker=python_project(tmp_path), kv_namespaces=("EXTRA", "NOTES"))
    assert sim.kv_namespaces == ("NOTES", "EXTRA")


def test_one_kv_namespace_named_in_python_adds_to_the_file_too(tmp_path: Path) -> None:
    # kv_namespaces= takes one name as a str elsewhere (workersim.sim.Simulation): not its letters.
    assert workersim.Simulation(worker=python_project(tmp_path), kv_namespaces="EXTRA").kv_namespaces == (
        "NOTES",
        "EXTRA",
    )


def test_no_crons_given_in_python_turns_the_files_crons_off(tmp_path: Path) -> None:
    # As from_config(path, crons=()) did before a project could be the worker: given crons replace the file's.
    write(tmp_path, "wrangler.toml", 'name = "c"\nmain = "entry.py"\n[triggers]\ncrons = ["*/5 * * * *"]\n')
    write(tmp_path, "entry.py", "async def on_scheduled(controller, env, ctx):\n    pass\n")
    assert workersim.Simulation(worker=tmp_path).crons == ("*/5 * * * *",)
    assert workersim.Simulation(worker=tmp_path, crons=()).crons == ()
    assert workersim.Simulation.from_config(tmp_path / "wrangler.toml", crons=[]).crons == ()
    assert workersim.Simulation(worker=tmp_path, crons=["0 * * * *"]).crons == ("0 * * * *",)


VENDORED = """
from workers import Response, WorkerEntrypoint
import wsim_vendored_markup


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(wsim_vendored_markup.bold("hi") + " " + wsim_vendored_legacy_name())


def wsim_vendored_legacy_name():
    import wsim_vendored_legacy
    return wsim_vendored_legacy.NAME
"""


async def test_python_modules_and_the_older_vendor_folder_are_importable(
    autojump_clock: trio.abc.Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.path", list(__import__("sys").path))  # the folders are added to sys.path
    for name in ("wsim_vendored_markup", "wsim_vendored_escape", "wsim_vendored_legacy"):
        monkeypatch.delitem(__import__("sys").modules, name, raising=False)
    write(tmp_path, "wrangler.toml", 'name = "v"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n')
    write(tmp_path, "src/entry.py", VENDORED)
    # What `pywrangler sync` leaves: packages beside the configuration, one importing another.
    write(tmp_path, "python_modules/pyvenv.cfg", "")
    write(tmp_path, "python_modules/wsim_vendored_escape.py", "def escape(text):\n    return text.upper()\n")
    write(
        tmp_path,
        "python_modules/wsim_vendored_markup/__init__.py",
        "from wsim_vendored_escape import escape\n\n\ndef bold(text):\n    return '<b>' + escape(text) + '</b>'\n",
    )
    write(tmp_path, "src/vendor/wsim_vendored_legacy.py", "NAME = 'legacy'\n")  # the 06-vendoring layout
    sim = workersim.Simulation(worker=tmp_path, edges=("LHR",))
    async with sim:
        assert await (await sim.fetch("https://example.com/")).text() == "<b>HI</b> legacy"


def test_a_relative_import_in_the_main_module_says_how_to_write_it(tmp_path: Path) -> None:
    write(tmp_path, "src/utils.py", "X = 1\n")
    entry = write(tmp_path, "src/entry.py", "from .utils import X\n\n\nasync def on_fetch(request):\n    pass\n")
    with pytest.raises(ImportError, match="no known parent package.*write `from utils import ...` without the dot"):
        workersim.Simulation(worker=entry)


IMAGE = """
from pyodide.ffi import to_js
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        data = to_js(b"\\x89PNG-bytes")
        data.buffer[0] = 0x88  # the ArrayBuffer under the Uint8Array: the same bytes
        return Response(data.buffer, headers={"Content-Type": "image/png"})
"""


async def test_an_array_buffer_is_a_response_body(autojump_clock: trio.abc.Clock, tmp_path: Path) -> None:
    # As Cloudflare's image-generation example returns its PNG: Response(to_js(image_bytes).buffer, ...).
    sim = workersim.Simulation(worker=write(tmp_path, "entry.py", IMAGE), edges=("LHR",))
    async with sim:
        response = await sim.fetch("https://example.com/")
        assert (response.headers["content-type"], await response.bytes()) == ("image/png", b"\x88PNG-bytes")

"""The example workers, and the eventual-consistency behaviour each one teaches."""

from __future__ import annotations

from pathlib import Path

import trio

import workersim

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EDGES = ("SFO", "LHR", "NRT")


async def test_url_shortener_link_is_missing_elsewhere_until_it_arrives(autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(
        edges=EDGES, kv_namespaces=("LINKS",), seed=4, worker=EXAMPLES / "url_shortener" / "worker.py"
    )
    async with sim:
        created = await sim.fetch(
            "https://sho.rt/shorten", edge="LHR", method="POST", body='{"url": "https://example.org/a/long/path"}'
        )
        assert created.status == 201
        code = (await created.json())["code"]
        link = f"https://sho.rt/{code}"
        assert (await sim.fetch(link, edge="LHR")).headers["location"] == "https://example.org/a/long/path"

        # The first click at SFO misses: the link has not reached SFO yet.
        assert (await sim.fetch(link, edge="SFO")).status == 404
        [write] = [row for row in sim.history if row.op == "put"]
        arrives = sim.arrival(write, "SFO")
        assert arrives is not None and 0 < arrives <= sim.max_delay
        await trio.sleep(arrives - sim.now() - 0.001)
        assert (await sim.fetch(link, edge="SFO")).status == 404
        await trio.sleep(0.001)
        assert (await sim.fetch(link, edge="SFO")).status == 302

        await trio.sleep(sim.max_delay)
        assert {(await sim.fetch(link, edge=edge)).status for edge in EDGES} == {302}
        bad = await sim.fetch("https://sho.rt/shorten", edge="NRT", method="POST", body='{"url": "ftp://x"}')
        assert bad.status == 400


async def test_feature_flag_flip_is_seen_edge_by_edge(autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation.from_config(
        EXAMPLES / "feature_flags" / "wrangler.toml", edges=EDGES, seed=2, delays=workersim.UniformDelay(1.0, 8.0)
    )

    async def checkout(edge: str) -> str:
        return (await sim.fetch("https://shop.example/checkout", edge=edge)).headers["x-checkout"]

    async with sim:
        assert [await checkout(edge) for edge in EDGES] == ["old", "old", "old"]
        denied = await sim.fetch("https://shop.example/flags", edge="LHR", method="PUT", body='{"new_checkout": true}')
        assert denied.status == 401
        flipped = await sim.fetch(
            "https://shop.example/flags",
            edge="LHR",
            method="PUT",
            body='{"new_checkout": true}',
            headers={"authorization": "Bearer let-me-in"},
        )
        assert flipped.status == 200

        # One user whose requests land on different edges sees the two checkouts alternate.
        assert [await checkout(edge) for edge in ("LHR", "SFO", "LHR", "NRT")] == ["new", "old", "new", "old"]
        [write] = [row for row in sim.history if row.op == "put"]
        first, last = sorted(sim.arrival(write, edge) for edge in ("SFO", "NRT"))  # type: ignore[type-var]
        await trio.sleep(first - sim.now())
        assert sorted([await checkout("SFO"), await checkout("NRT")]) == ["new", "old"]  # edges disagree
        await trio.sleep(last - sim.now())
        assert [await checkout(edge) for edge in EDGES] == ["new", "new", "new"]


async def test_session_login_is_only_known_where_it_was_written_at_first(autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(
        edges=EDGES,
        kv_namespaces=("SESSIONS",),
        seed=9,
        delays=workersim.FixedDelay(3.0),
        worker=EXAMPLES / "sessions" / "worker.py",
    )
    async with sim:
        login = await sim.fetch("https://app.example/login", edge="LHR", method="POST", body='{"user": "ada"}')
        cookie = login.headers["set-cookie"].split(";")[0]

        async def me(edge: str) -> workersim.Response:
            return await sim.fetch("https://app.example/me", edge=edge, headers={"cookie": cookie})

        assert (await (await me("LHR")).json()) == {"user": "ada", "seen": 1}
        # The next request is served by SFO (another network, say): logged out there, for now.
        assert (await me("SFO")).status == 401
        await trio.sleep(3.0)
        assert (await (await me("SFO")).json())["user"] == "ada"

        # Logging out is eventually consistent too: the session still works at other edges for a while.
        logout = await sim.fetch("https://app.example/logout", edge="LHR", method="POST", headers={"cookie": cookie})
        assert logout.status == 200
        assert (await me("LHR")).status == 401
        assert (await me("NRT")).status == 200
        await trio.sleep(3.0)
        assert {(await me(edge)).status for edge in EDGES} == {401}
    # Each /me bumped the "seen" counter with ctx.waitUntil, tagged with the request that asked for it.
    bumps = [row for row in sim.history if row.op == "put" and row.key.startswith("seen:")]
    responses = {row.request for row in sim.history if row.op == "response" and row.status == 200}
    assert bumps and all(row.request in responses for row in bumps)


async def test_writing_a_session_back_on_read_resurrects_it_after_logout(autojump_clock: trio.abc.Clock) -> None:
    """The pitfall the sessions example avoids: a touch-on-read at an edge that has not seen the logout yet."""

    async def naive(request: workersim.Request, env: object, ctx: workersim.ExecutionContext) -> workersim.Response:
        if request.method == "DELETE":
            await env.KV.delete("session")  # type: ignore[attr-defined]
            return workersim.Response("logged out")
        session = await env.KV.get("session", type="json")  # type: ignore[attr-defined]
        if session is None:
            return workersim.Response("who are you?", status=401)
        ctx.waitUntil(env.KV.put("session", '{"user": "ada", "touched": true}'))  # type: ignore[attr-defined]
        return workersim.Response.json(session)

    sim = workersim.Simulation(edges=EDGES, kv_namespaces=("KV",), delays=workersim.FixedDelay(3.0), worker=naive)
    async with sim:
        await sim.env("LHR").KV.put("session", '{"user": "ada"}')
        await trio.sleep(3.0)
        await sim.fetch("https://app.example/", edge="LHR", method="DELETE")
        assert (await sim.fetch("https://app.example/", edge="NRT")).status == 200  # NRT has not seen the logout
        await trio.sleep(3.0)
        # NRT's touch was written after the delete, so last-writer-wins revives the session everywhere.
        assert {(await sim.fetch("https://app.example/", edge=edge)).status for edge in EDGES} == {200}

"""The inspector page of ``workersim dev`` in headless Chromium: after a write at one edge it shows the other edges
behind, and its partition, advance and heal buttons change what it shows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from _browser import browser_page
from _rest_support import workersim_process

__all__ = ["browser_page"]  # the fixture, imported for pytest

WORKER = """
from workers import Response


async def fetch(request, env, ctx):
    await env.KV.put("greeting", await request.text())
    return Response("ok")
"""
DELAY = 100.0
"""Every write takes 100 virtual seconds to reach the other edges: on the real clock, only an advance delivers it."""
TIMEOUT = 30_000
"""Milliseconds the page may take to show a change (it polls the server every second)."""


def test_the_inspector_shows_edges_behind_and_its_buttons_act(tmp_path: Path, browser_page: Any) -> None:
    from playwright.sync_api import expect

    page = browser_page
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER, encoding="utf-8")
    args = ("dev", str(worker), "--kv", "KV", "--edges", "SFO,LHR,NRT", "--port", "0", "--quiet", "--no-reload")
    with workersim_process(*args, "--delay", str(DELAY), "--max-delay", str(DELAY)) as server:
        page.goto(f"{server.url}/__workersim/")
        # Cut NRT off with the page's own controls.
        page.check("#edge-NRT")
        page.click("#partition")
        expect(page.locator("#cut-off")).to_have_text("NRT cut off", timeout=TIMEOUT)

        assert httpx.put(server.url, content="hello", headers={"X-Workersim-Edge": "SFO"}).status_code == 200

        def cell(edge: str) -> Any:
            return page.locator(f'td[data-edge="{edge}"][data-key="greeting"]')

        expect(cell("SFO")).to_have_class("current", timeout=TIMEOUT)
        expect(cell("SFO")).to_contain_text('"hello"')
        for edge in ("LHR", "NRT"):
            expect(cell(edge)).to_have_class(re.compile("behind|held"), timeout=TIMEOUT)
            expect(cell(edge)).to_contain_text("nothing")
        expect(cell("NRT")).to_have_class("held")
        expect(cell("NRT")).to_contain_text("held by a partition")

        # Advancing past the delay delivers the write to LHR; NRT stays behind until the heal.
        page.fill("#seconds", str(DELAY + 1))
        page.click("#advance")
        expect(cell("LHR")).to_have_class("current", timeout=TIMEOUT)
        expect(cell("LHR")).to_contain_text('"hello"')
        expect(cell("NRT")).to_have_class("held")

        page.click("#heal")
        expect(page.locator("#cut-off")).to_have_text("no partition", timeout=TIMEOUT)
        expect(cell("NRT")).to_have_class("current", timeout=TIMEOUT)
        expect(cell("NRT")).to_contain_text('"hello"')

        # The space-time view of recent operations is drawn by the server, with the write and its arrivals.
        svg = page.evaluate("fetch('/__workersim/spacetime.svg').then((r) => r.text())")
        assert svg.startswith("<svg") and "SFO" in svg and 'class="arrival"' in svg

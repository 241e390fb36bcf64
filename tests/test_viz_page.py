"""The interactive page: one self-contained HTML file with the diagram, step-through controls, hover details
with the checkers' findings, and filters; checked as text and, through a real headless Chromium, as a page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import trio
from _browser import browser_page  # noqa: F401 - the fixture

import workersim
from workersim import scenarios
from workersim.cli import main
from workersim.viz import history_html


def edge_cache_run() -> workersim.Simulation:
    # The plan: price 10 at LHR at 0 read (cached) at SFO; 12 at LHR at 1 s; NRT reads at 2 s; SFO at 30, 59 and
    # 60 s, stale at 30 and 59 s (cacheTtl 60 s), so beyond the 10 s the consistency checkers allow.
    return workersim.run(scenarios.load("edge_cache").scenario, 7)


def page_of(sim: workersim.Simulation) -> str:
    return history_html(sim.history, sim.edges, sim.arrival, cache=sim.edge_cache, title="the edge cache")


def embedded(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="history-data">(.*?)</script>', html, flags=re.S)
    assert found is not None
    data: dict[str, Any] = json.loads(found[1])
    return data


def test_the_page_is_self_contained_and_embeds_every_operation() -> None:
    sim = edge_cache_run()
    html = page_of(sim)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched: no CDN, no network
    assert "<link" not in html and "@import" not in html
    data = embedded(html)
    assert [op["id"] for op in data["ops"]] == [row.id for row in sim.history]
    assert all(op["details"].startswith(f"{op['t']:.3f}s {op['edge']}: ") for op in data["ops"])
    assert data["edges"] == list(sim.edges) and data["keys"] == ["price"]
    stale = [op for op in data["ops"] if op["violations"]]
    assert {op["t"] for op in stale if op["kind"] == "read stale"} == {30.0, 59.0}
    assert all("bounded_staleness" in " ".join(op["violations"]) for op in stale if op["kind"] == "read stale")


async def test_a_value_cannot_end_the_script_early(tmp_path: Path, autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(edges=("A", "B"), kv_namespaces=("KV",))
    hostile = "</script><script>alert(1)</script><!--"
    async with sim:
        await sim.env("A").KV.put("k", hostile)
        await sim.env("B").KV.get("k")
    html = history_html(sim.history)
    assert html.count("</script>") == 2 and "<!--" not in html  # the page's own two scripts only
    assert hostile in json.dumps(embedded(html))  # intact once parsed
    sim.history.to_html(tmp_path / "page.html")
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == html


def test_workersim_timeline_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sim = edge_cache_run()
    sim.history.to_jsonl(tmp_path / "h.jsonl")
    page = tmp_path / "h.html"
    assert main(["timeline", str(tmp_path / "h.jsonl"), "--html", str(page)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"interactive page: {page}")
    assert [op["id"] for op in embedded(page.read_text(encoding="utf-8"))["ops"]] == [row.id for row in sim.history]


def test_the_page_in_a_browser(browser_page: Any, tmp_path: Path) -> None:  # noqa: F811 - the fixture
    sim = edge_cache_run()
    path = tmp_path / "page.html"
    path.write_text(page_of(sim), encoding="utf-8")
    page = browser_page
    page.goto(path.as_uri())
    rows = list(sim.history)
    assert page.locator("g.lane").count() == len(sim.edges)
    assert page.locator("g.op").count() == len(rows)

    # Hovering a stale read shows what it did and the checkers' sentence about it.
    stale = next(row for row in rows if row.invoke == 30.0)
    page.hover(f'g.op[data-id="{stale.id}"]')
    details = page.locator("#details").inner_text()
    assert "get 'price' -> '10'" in details and "stale" in details
    findings = page.locator("#details .violation").all_inner_texts()
    assert any(sentence.startswith("bounded_staleness: op #") for sentence in findings)

    # Step through: back to the start, then one operation a click, time following the history.
    def now() -> float:
        return float(page.locator("#now").get_attribute("data-time"))

    page.click("#start")
    assert now() == 0.0 and page.locator("g.op.future").count() == len(rows)
    times = []
    for _ in rows:
        page.click("#step")
        times.append(now())
    assert times == [row.invoke for row in rows]
    assert page.locator("g.op.future").count() == 0

    # The slider goes to any step.
    page.eval_on_selector("#time", "el => { el.value = 3; el.dispatchEvent(new Event('input')); }")
    assert now() == rows[2].invoke and page.locator("g.op.future").count() == len(rows) - 3

    # Filters: one edge, then one key.
    page.select_option("#edge-filter", "SFO")
    shown = page.locator("g.op:not(.filtered)")
    assert shown.count() == sum(row.edge == "SFO" for row in rows)
    page.select_option("#edge-filter", "")
    page.select_option("#key-filter", "price")
    assert page.locator("g.op:not(.filtered)").count() == len(rows)

    # Play advances on its own, and pause stops it.
    page.click("#start")
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('now').textContent.split(' ')[1].split('/')[0]) > 0")
    page.click("#pause")

    # A run with two keys: the key filter keeps one key's operations.
    two = workersim.run(scenarios.load("partition_heal").scenario, 7)
    other = tmp_path / "two.html"
    other.write_text(history_html(two.history, two.edges, two.arrival), encoding="utf-8")
    page.goto(other.as_uri())
    page.select_option("#key-filter", "status")
    kept = page.locator("g.op:not(.filtered)")
    assert kept.count() == sum(getattr(row, "key", None) == "status" for row in two.history)
    assert {kept.nth(i).get_attribute("data-key") for i in range(kept.count())} == {"status"}

    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and shot.stat().st_size > 1000

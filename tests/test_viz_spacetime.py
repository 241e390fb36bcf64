"""Space-time diagrams: well-formed SVG with a lane per edge, writes, arrivals and coloured reads."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import trio

import workersim
from workersim.core.rows import row_from_json
from workersim.viz import space_time_svg

SVG = "{http://www.w3.org/2000/svg}"


async def test_diagram_shows_writes_arrivals_and_stale_reads(autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(edges=("SFO", "LHR", "NRT"), kv_namespaces=("KV",), delays=workersim.FixedDelay(2))
    async with sim:
        await sim.env("SFO").KV.put("k", "<v&>")
        await sim.env("LHR").KV.get("k")
        await trio.sleep(2)
        await sim.env("LHR").KV.get("k")
    root = ET.fromstring(space_time_svg(sim.history, sim.edges, sim.arrival))
    assert root.tag == f"{SVG}svg"
    classes = [el.get("class") for el in root.iter() if el.get("class")]
    assert classes.count("op write") == 1
    assert classes.count("arrival") == 2  # to LHR and to NRT
    assert classes.count("op read stale") == 1 and classes.count("op read fresh") == 1
    texts = [el.text for el in root.iter(f"{SVG}text")]
    assert {"SFO", "LHR", "NRT"} <= set(texts)
    assert "#0 k='<v&>'" in texts  # escaped in the file, intact once parsed


def test_a_bare_history_still_draws() -> None:
    rows = [{"id": 0, "edge": "A", "op": "put", "key": "k", "value": "1", "invoke": 0.0, "version": 1}]
    root = ET.fromstring(space_time_svg([row_from_json(row) for row in rows]))
    assert root.tag == f"{SVG}svg"
    # Without edges or arrival times, the lanes come from the history and nothing is drawn arriving.
    classes = [el.get("class") for el in root.iter() if el.get("class")]
    assert [name for name in classes if name.startswith("op ")] == ["op write"] and "arrival" not in classes
    texts = [el.text for el in root.iter(f"{SVG}text")]
    assert "A" in texts and "#0 k='1'" in texts

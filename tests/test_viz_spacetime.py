"""Space-time diagrams: well-formed SVG with a lane per edge, writes, arrivals and coloured reads."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import trio

import workersim
from workersim import scenarios
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


def position(mark: ET.Element) -> tuple[float, float]:
    """Where a mark's glyph (the first child of its group) is drawn."""
    glyph = mark[0]
    if glyph.tag == f"{SVG}circle":
        return float(glyph.get("cx", "")), float(glyph.get("cy", ""))
    if glyph.tag == f"{SVG}rect":
        return float(glyph.get("x", "")), float(glyph.get("y", ""))
    x, y = glyph.get("d", "").removeprefix("M").split()[0].split(",")
    return float(x), float(y.split("l")[0])


def groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if (g.get("class") or "").split(" ")[0] == kind]


def draw(name: str, seed: int = 7) -> tuple[workersim.Simulation, str]:
    sim = workersim.run(scenarios.load(name).scenario, seed)
    lesson = [f"the lesson of {name}"]
    return sim, space_time_svg(sim.history, sim.edges, sim.arrival, cache=sim.edge_cache, title=name, lesson=lesson)


@pytest.mark.parametrize("name", scenarios.names())
def test_every_scenario_draws_a_diagram_that_explains_itself(name: str) -> None:
    sim, text = draw(name)
    root = ET.fromstring(text)
    assert [g.get("data-edge") for g in groups(root, "lane")] == list(sim.edges)  # one lane per edge
    marks = groups(root, "op")
    assert sorted(int(g.get("data-id", "")) for g in marks) == [row.id for row in sim.history]  # one per operation
    where = [position(g) for g in marks]
    assert len(set(where)) == len(where)  # none hides another
    [legend] = groups(root, "legend")
    assert len(groups(legend, "legend-item")) >= 4
    texts = {el.text for el in root.iter(f"{SVG}text")}
    assert name in texts and f"the lesson of {name}" in texts
    assert draw(name)[1] == text  # the same seed, the same bytes


@pytest.mark.parametrize("name", scenarios.names())
def test_operations_at_one_instant_stand_in_the_order_applied(name: str) -> None:
    sim, text = draw(name)
    x = {int(g.get("data-id", "")): position(g)[0] for g in groups(ET.fromstring(text), "op")}
    rows = list(sim.history)
    for i, first in enumerate(rows):
        for then in rows[i + 1 :]:
            # At one instant, an operation on the same edge, or on a key the earlier one wrote, comes after it.
            if then.invoke == first.invoke and (
                then.edge == first.edge or (first.op in ("put", "delete") and getattr(then, "key", None) == first.key)
            ):
                assert x[then.id] > x[first.id], (first, then)


def test_the_older_write_arriving_last_is_drawn_as_ignored() -> None:
    # The plan of last_writer_wins: red (#0, LHR, 0 s) reaches SFO at 5 s and NRT at 3 s, after blue (#1, made at
    # NRT at 0.5 s, at SFO from 1.5 s); blue reaches LHR at 2.5 s, after red, and replaces it.
    _, text = draw("last_writer_wins")
    lines = [el for el in ET.fromstring(text).iter(f"{SVG}line") if "arrival" in (el.get("class") or "")]
    ignored = {(el.get("data-write"), el.get("data-edge")) for el in lines if "ignored" in (el.get("class") or "")}
    assert ignored == {("0", "SFO"), ("0", "NRT")}
    assert {(el.get("data-write"), el.get("data-edge"), el.get("data-t")) for el in lines} >= {
        ("0", "SFO", "5"),
        ("1", "SFO", "1.5"),
        ("1", "LHR", "2.5"),
    }
    assert all(el.get("marker-end") for el in lines)  # arrowheads


def test_under_the_edge_cache_the_arrow_ends_where_the_cached_answer_expires() -> None:
    # The plan of edge_cache: SFO caches '10' at 0 (cacheTtl 60 s), LHR writes '12' (#2) at 1 s; NRT has nothing
    # cached and sees it at once; SFO's reads at 30 and 59 s are stale, from its cache.
    _, text = draw("edge_cache")
    root = ET.fromstring(text)
    arrows = [el for el in root.iter(f"{SVG}line") if "arrival" in (el.get("class") or "")]
    assert [(el.get("data-write"), el.get("data-edge"), el.get("data-t")) for el in arrows] == [("2", "SFO", "60")]
    assert len([el for el in root.iter(f"{SVG}rect") if el.get("class") == "cached"]) == 1
    assert len([el for el in root.iter(f"{SVG}line") if el.get("class") == "saw"]) == 2  # each stale read saw #0
    assert len(groups(root, "break")) == 2  # 2 s -> 30 s and 30 s -> 59 s are compressed; 59 s -> 60 s is not


def test_every_kind_of_row_gets_a_mark_of_its_own() -> None:
    rows = [
        {"id": 0, "edge": "A", "op": "scheduled", "request": "c1", "cron": "* * * * *", "invoke": 0.0},
        {"id": 1, "edge": "A", "op": "log", "request": "c1", "level": "warn", "message": "</title>", "invoke": 0.0},
        {"id": 2, "edge": "A", "op": "fetch", "request": "r1", "method": "GET", "url": "https://x.example/a?b"},
        {"id": 3, "edge": "A", "op": "put", "request": "r1", "key": "k", "value": "1", "invoke": 0.0, "version": 3},
        {"id": 4, "edge": "A", "op": "response", "request": "r1", "status": 200, "invoke": 0.0},
    ]
    root = ET.fromstring(space_time_svg([row_from_json(row) for row in rows]))
    marks = groups(root, "op")
    assert [g.get("class") for g in marks] == ["op request", "op log", "op request", "op write", "op request"]
    assert len({position(g) for g in marks}) == len(rows)  # one instant, one edge: side by side
    texts = {el.text for el in root.iter(f"{SVG}text")}
    assert {"cron * * * * *", "console.warn", "GET /a", "200"} <= texts


CHAR = 6.2
"""About how wide one character of an 11-pixel sans-serif label is (a generous estimate for the font used)."""


def boxes(root: ET.Element, *classes: str) -> list[tuple[float, float, float, str]]:
    """(left, right, baseline, text) of each text element of ``classes``, its width estimated from its length."""
    found = []
    for el in root.iter(f"{SVG}text"):
        if el.get("class") in classes:
            x, width = float(el.get("x", "")), CHAR * len(el.text or "")
            left = {"middle": x - width / 2, "end": x - width}.get(el.get("text-anchor", "start"), x)
            found.append((left, left + width, float(el.get("y", "")), el.text or ""))
    return found


def overlapping(found: list[tuple[float, float, float, str]]) -> list[tuple[str, str]]:
    return [
        (a[3], b[3])
        for i, a in enumerate(found)
        for b in found[i + 1 :]
        if abs(a[2] - b[2]) < 11 and a[0] < b[1] and b[0] < a[1]
    ]


@pytest.mark.parametrize("name", scenarios.names())
def test_labels_and_time_ticks_do_not_overlap(name: str) -> None:
    root = ET.fromstring(draw(name)[1])
    assert overlapping(boxes(root, "label", "arrival-note")) == []
    assert overlapping(boxes(root, "tick")) == []


def test_an_ignored_arrival_is_noted_clear_of_the_write_it_lost_to() -> None:
    # The plan of lost_update: SFO writes #5 and SIN #6 at 10 s, SIN's applied last; #5 reaches SIN after #6 was
    # made there, so it is noted as ignored right where #6's label stands.
    root = ET.fromstring(draw("lost_update")[1])
    [note] = [b for b in boxes(root, "arrival-note")]
    assert note[3] == "#5 older: ignored"
    assert overlapping([note, *boxes(root, "label")]) == []


@pytest.mark.parametrize(
    ("name", "times"),
    [
        # rate_limit: a write at 0 s; a refused write, a write and a read at 0.5 s; a write and a read at 1 s.
        ("rate_limit", [0, 0.5, 1]),
        # last_writer_wins: writes at 0 and 0.5 s, then every edge reads each second from 1.5 s to 6.5 s.
        ("last_writer_wins", [0, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]),
    ],
)
def test_every_instant_with_an_operation_is_labelled_on_the_time_axis(name: str, times: list[float]) -> None:
    root = ET.fromstring(draw(name)[1])
    ticks = [b[3] for b in boxes(root, "tick")]
    assert {f"{t:g}s" for t in times} <= set(ticks)
    assert ticks == sorted(ticks, key=lambda text: float(text.removesuffix("s")))  # in time order


def test_the_time_of_a_lone_operation_stands_over_it() -> None:
    # The plan of stale_read: SFO reads alone at 10 s.
    root = ET.fromstring(draw("stale_read")[1])
    [read] = [g for g in groups(root, "op") if g.get("data-t") == "10"]
    [tick] = [el for el in root.iter(f"{SVG}text") if el.get("class") == "tick" and el.text == "10s"]
    assert tick.get("text-anchor") == "middle" and float(tick.get("x", "")) == position(read)[0] + 4  # square's middle


def labels(root: ET.Element) -> dict[str, str]:
    """Each operation's label, by its group's data-id (a label follows its operation's group)."""
    found, last = {}, ""
    for el in root.iter():
        if el.tag == f"{SVG}g" and (el.get("class") or "").startswith("op "):
            last = el.get("data-id", "")
        elif el.tag == f"{SVG}text" and el.get("class") == "label":
            found[last] = el.text or ""
    return found


def test_a_stale_read_names_the_write_it_missed_and_a_read_of_an_expired_write_says_so() -> None:
    # The plan of delete_race: LHR puts #0 at 0 s, SFO puts '2 items' at 10 s, LHR deletes at 10.5 s (arriving at
    # SFO 2 s later): SFO's reads at 11 and 12 s saw SFO's put and missed the delete.
    sim, text = draw("delete_race")
    put, delete = [row for row in sim.history if isinstance(row, workersim.KVWrite)][1:]
    at = {row.invoke: row.id for row in sim.history if isinstance(row, workersim.KVRead) and row.edge == "SFO"}
    shown = labels(ET.fromstring(text))
    assert [shown[str(at[t])] for t in (11.0, 12.0)] == [f"'2 items' saw #{put.id} missed #{delete.id}"] * 2
    # The plan of expiry: '493 112' written with expirationTtl=60 at 0 s; the reads at 60 s find it expired.
    sim, text = draw("expiry")
    [write] = [row for row in sim.history if isinstance(row, workersim.KVWrite)]
    expired = [row.id for row in sim.history if isinstance(row, workersim.KVRead) and row.invoke >= 60]
    shown = labels(ET.fromstring(text))
    assert {shown[str(i)] for i in expired} == {f"(missing) saw #{write.id} (expired)"}

"""Properties of the replicated store over random operation sequences, edges and delays (hypothesis)."""

from __future__ import annotations

from typing import Any

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

import workersim
from workersim.checkers import bounded_staleness, convergence, monotonic_reads, no_phantom_reads, read_your_writes

EDGE_NAMES = ("SFO", "LHR", "NRT", "SIN")
KEYS = ("a", "b", "c")

Step = tuple[Any, ...]


def steps(edges: int) -> st.SearchStrategy[list[Step]]:
    edge = st.integers(0, edges - 1)
    key = st.sampled_from(KEYS)
    step = st.one_of(
        st.tuples(st.just("sleep"), st.integers(0, 4000)),
        st.tuples(st.just("put"), edge, key, st.integers(0, 9).map(str)),
        st.tuples(st.just("delete"), edge, key),
        st.tuples(st.just("get"), edge, key),
    )
    return st.lists(step, max_size=40)


@st.composite
def scenarios(draw: st.DrawFn, max_delay: float | None = None) -> tuple[workersim.Simulation, list[Step]]:
    edges = draw(st.integers(1, len(EDGE_NAMES)))
    if max_delay is None:
        max_delay = draw(st.sampled_from([0.5, 2.0, 10.0]))
    low = draw(st.integers(0, round(max_delay * 1000)))
    high = draw(st.integers(low, round(max_delay * 1000)))
    sim = workersim.Simulation(
        edges=EDGE_NAMES[:edges],
        kv_namespaces=("KV",),
        seed=draw(st.integers(0, 2**32)),
        max_delay=max_delay,
        delays=workersim.UniformDelay(low / 1000, high / 1000),
    )
    return sim, draw(steps(edges))


async def play(sim: workersim.Simulation, plan: list[Step], settle: bool) -> dict[tuple[str, str], Any]:
    """Run the plan; with ``settle``, wait ``max_delay`` and read every key at every edge."""
    final: dict[tuple[str, str], Any] = {}
    async with sim:
        for step in plan:
            if step[0] == "sleep":
                await trio.sleep(step[1] / 1000)
                continue
            kv = sim.env(sim.edges[step[1]]).KV
            if step[0] == "put":
                await kv.put(step[2], step[3])
            elif step[0] == "delete":
                await kv.delete(step[2])
            else:
                await kv.get(step[2])
        if settle:
            await trio.sleep(sim.max_delay)
            for edge in sim.edges:
                for key in KEYS:
                    final[edge, key] = await sim.env(edge).KV.get(key)
    return final


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_replicas_converge_after_max_delay_of_quiet(scenario: tuple[workersim.Simulation, list[Step]]) -> None:
    sim, plan = scenario
    final = workersim.run(play, sim, plan, True)
    last: dict[str, Any] = {}
    for step in plan:
        if step[0] in ("put", "delete"):
            last[step[2]] = step[3] if step[0] == "put" else None
    for (_edge, key), value in final.items():
        assert value == last.get(key)
    assert convergence(sim.history, sim.max_delay).ok


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_no_read_is_staler_than_max_delay(scenario: tuple[workersim.Simulation, list[Step]]) -> None:
    sim, plan = scenario
    workersim.run(play, sim, plan, False)
    report = bounded_staleness(sim.history, sim.max_delay)
    assert report.ok, str(report)
    assert no_phantom_reads(sim.history).ok
    assert monotonic_reads(sim.history).ok


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_reads_at_the_writing_edge_see_its_writes(scenario: tuple[workersim.Simulation, list[Step]]) -> None:
    sim, plan = scenario
    workersim.run(play, sim, plan, False)
    report = read_your_writes(sim.history)
    assert report.ok, str(report)


@settings(max_examples=150, deadline=None)
@given(scenarios(max_delay=0.0))
def test_with_no_delay_every_edge_behaves_like_one_replica(scenario: tuple[workersim.Simulation, list[Step]]) -> None:
    sim, plan = scenario
    workersim.run(play, sim, plan, False)
    model: dict[str, str] = {}
    for row in sim.history:
        if row.op == "put":
            model[row.key] = row.value
        elif row.op == "delete":
            model.pop(row.key, None)
        else:
            assert row.value == model.get(row.key), row

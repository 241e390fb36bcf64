"""The three demonstrations in ``examples/``: for each buggy worker, a property test lets hypothesis choose the
requests (their edges and the pauses between them) and every propagation delay. The test asserts that hypothesis
finds the bug, that it shrinks the failure to a handful of requests, and that the printed example replays it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import workersim
from workersim.checkers import check_anomalies, check_invariants, final_values
from workersim.testing import HypothesisDelay, virtual_time

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EDGES = ("SFO", "LHR", "NRT")
FAST = settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,  # a search that finds the bug on every run, not on most
    phases=[Phase.generate, Phase.target, Phase.shrink],
)

# A plan: requests, each at an edge and after a pause (virtual seconds), all made by one client.
plans = st.lists(st.tuples(st.sampled_from(EDGES), st.sampled_from([0.0, 0.5, 1.0, 3.0, 12.0])), min_size=1, max_size=8)


class Replayed:
    """A delay model that gives back, in order, the delays a failing run drew: that run, replayed exactly."""

    def __init__(self, chosen_ms: list[int]) -> None:
        self._chosen = list(chosen_ms)
        self._given: dict[int, int] = {}

    def bound(self) -> float | None:
        return 10.0

    def delay_ms(self, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        if draw not in self._given:
            self._given[draw] = self._chosen[len(self._given)]
        return self._given[draw]


async def play(worker: str, binding: str, plan: list[tuple[str, float]], delays: Any, url: Callable[[int], str],
               body: Callable[[int], str] = lambda i: "") -> workersim.Simulation:  # fmt: skip
    if not isinstance(delays, (HypothesisDelay, Replayed)):
        delays = HypothesisDelay(delays)
    LAST_DELAYS.append(delays)
    sim = workersim.Simulation(edges=EDGES, kv_namespaces=(binding,), worker=str(EXAMPLES / worker), delays=delays)
    async with sim:
        for i, (edge, pause) in enumerate(plan):
            await trio.sleep(pause)
            await sim.fetch(url(i), edge=edge, method="POST" if worker != "hit_counter/worker.py" else "GET",
                            body=body(i) or None)  # fmt: skip
        await trio.sleep(sim.max_delay)  # quiescence: every write everywhere
    return sim


def every_hit_counted(history: Any) -> str | None:
    counted = int(final_values(history).get(("HITS", "hits")) or 0)
    served = sum(1 for row in history if isinstance(row, workersim.ResponseRow) and row.status == 200)
    return None if counted == served else f"{served} visits were served but the count is {counted}"


def every_item_kept(history: Any) -> str | None:
    cart = json.loads(final_values(history).get(("CARTS", "cart:ada")) or b"[]")
    added = [row.url.rsplit("/", 1)[1] for row in history if isinstance(row, workersim.FetchRow)]
    lost = sorted(set(added) - set(cart))
    return f"items {lost} were added but are not in the final cart {cart}" if lost else None


def search(test: Callable[[], None]) -> tuple[list[tuple[str, float]], list[str]]:
    """Run a property expected to fail; the shrunk plan (the last one played) and hypothesis's notes."""
    with pytest.raises(AssertionError) as failed:
        test()
    return LAST_PLAN[-1], getattr(failed.value, "__notes__", [])


LAST_PLAN: list[list[tuple[str, float]]] = []
LAST_DELAYS: list[Any] = []


def replayed(worker: str, binding: str, url: Callable[[int], str], body: Callable[[int], str] = lambda i: "") -> Any:
    """The last (shrunk) failing run played again from its plan and the delays it drew, with no hypothesis."""
    plan, chosen = LAST_PLAN[-1], LAST_DELAYS[-1].chosen_ms
    return workersim.run(play, worker, binding, plan, Replayed(chosen), url, body).history


def test_the_hit_counter_loses_a_visit() -> None:
    @FAST
    @given(plan=plans, data=st.data())
    @virtual_time
    async def counts_every_visit(plan: list[tuple[str, float]], data: Any) -> None:
        LAST_PLAN.append(plan)
        sim = await play("hit_counter/worker.py", "HITS", plan, data, lambda i: "https://counter/")
        assert all(report.ok for report in check_invariants(sim.history, every_hit_counted))

    plan, notes = search(counts_every_visit)
    assert len(plan) == 2 and plan[0][0] != plan[1][0]  # two visits at two edges: the smallest loss
    assert any("delay (ms) of write #" in note for note in notes)  # the draws name the writes they delay
    assert any(note.startswith("Failing test case") and repr(plan) in note for note in notes)  # printed
    history = replayed("hit_counter/worker.py", "HITS", lambda i: "https://counter/")
    assert not check_invariants(history, every_hit_counted)[0].ok  # and the printed run fails again


def test_two_people_register_the_same_name() -> None:
    @FAST
    @given(plan=plans, data=st.data())
    @virtual_time
    async def names_are_unique(plan: list[tuple[str, float]], data: Any) -> None:
        LAST_PLAN.append(plan)
        sim = await play("registration/worker.py", "USERS", plan, data, lambda i: "https://users/register/ada",
                         body=lambda i: f"person {i}")  # fmt: skip
        assert check_anomalies(sim.history)[1].ok  # check_then_act

    plan, notes = search(names_are_unique)
    assert len(plan) == 2 and plan[0][0] != plan[1][0]
    assert any(note.startswith("Failing test case") and repr(plan) in note for note in notes)
    history = replayed("registration/worker.py", "USERS", lambda i: "https://users/register/ada", lambda i: f"p{i}")
    assert not check_anomalies(history)[1].ok


def test_the_cart_loses_an_item() -> None:
    @FAST
    @given(plan=plans, data=st.data())
    @virtual_time
    async def keeps_every_item(plan: list[tuple[str, float]], data: Any) -> None:
        LAST_PLAN.append(plan)
        sim = await play("cart/worker.py", "CARTS", plan, data, lambda i: f"https://shop/cart/ada/item{i}")
        assert all(report.ok for report in check_invariants(sim.history, every_item_kept))

    plan, notes = search(keeps_every_item)
    assert 2 <= len(plan) <= 6
    assert any(note.startswith("Failing test case") and repr(plan) in note for note in notes)
    history = replayed("cart/worker.py", "CARTS", lambda i: f"https://shop/cart/ada/item{i}")
    assert not check_invariants(history, every_item_kept)[0].ok

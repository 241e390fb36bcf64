"""hypothesis searches propagation schedules, finds the one that breaks a handler, and shrinks it."""

from __future__ import annotations

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

import workersim
from workersim.core._hash import splitmix64
from workersim.testing import HypothesisDelay, delay_models, seeds


async def count_twice(delays: workersim.DelayModel) -> str | None:
    """Two edges each increment a counter once, one second apart: a lost update if the first write is slow."""
    sim = workersim.Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",), delays=delays)
    async with sim:
        for edge in ("SFO", "LHR"):
            kv = sim.env(edge).KV
            await kv.put("n", str(int(await kv.get("n") or 0) + 1))
            await trio.sleep(1)
        await trio.sleep(sim.max_delay)
        return await sim.env("SFO").KV.get("n")


class LostUpdate(Exception):
    pass


def test_search_finds_and_shrinks_the_schedule_that_loses_an_update() -> None:
    schedules: list[list[int]] = []

    @settings(max_examples=200, database=None, derandomize=True)
    @given(st.data())
    def counter_is_two(data: st.DataObject) -> None:
        delays = HypothesisDelay(data)
        final = workersim.run(count_twice, delays)
        schedules.append(delays.chosen_ms)
        if final != "2":
            raise LostUpdate(final)

    with pytest.raises(LostUpdate):
        counter_is_two()
    # Shrunk to the edge of the bug: the SFO write reaches LHR 1 ms after LHR read the counter (at 1 s). It is
    # the only delay the run needed: the final read comes after max_delay, when every write has settled. The last
    # run is hypothesis replaying the shrunk example.
    assert schedules[-1] == [1001]


@settings(max_examples=30, deadline=None)
@given(delay_models(max_delay=5.0), seeds())
def test_built_in_models_keep_to_the_bound(model: workersim.DelayModel, seed: int) -> None:
    bound = model.bound()
    # Only the default model caps itself at max_delay (bound None); the others promise a bound of their own.
    assert (bound is None) == isinstance(model, workersim.DefaultDelay)
    assert bound is None or 0 <= bound <= 5.0
    most_ms = 5000 if bound is None else round(bound * 1000)
    assert all(0 <= model.delay_ms(splitmix64(seed ^ i), "A", "B", 5000) <= most_ms for i in range(200))

    async def write_then_read_everywhere() -> list[str | None]:
        sim = workersim.Simulation(edges=("A", "B", "C"), kv_namespaces=("KV",), max_delay=5.0, delays=model, seed=seed)
        async with sim:
            await sim.env("A").KV.put("k", "v")
            await trio.sleep(5.0)
            return [await sim.env(edge).KV.get("k") for edge in ("B", "C")]

    assert workersim.run(write_then_read_everywhere) == ["v", "v"]  # arrived within max_delay, whatever the draw


def test_hypothesis_delay_rejects_a_bad_bound() -> None:
    with pytest.raises(ValueError, match="max_delay"):
        HypothesisDelay(None, max_delay=-1)  # type: ignore[arg-type]


class Halt(BaseException):
    """What a delay model raises to stop the run (as hypothesis's ``StopTest`` does)."""


class Halting:
    """A delay model that stops the run the first time it is asked for a delay."""

    escapes = (Halt,)

    def bound(self) -> float | None:
        return 1.0

    def delay_ms(self, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        raise Halt


async def write_then_read_elsewhere(delays: workersim.DelayModel) -> workersim.Simulation:
    """A worker writes at SFO, then reads at LHR: the read needs the write's delay to LHR."""

    async def fetch(request: workersim.Request, env: object) -> workersim.Response:
        if request.method == "PUT":
            await env.KV.put("k", "v")  # type: ignore[attr-defined]
        return workersim.Response(await env.KV.get("k") or "")  # type: ignore[attr-defined]

    sim = workersim.Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",), delays=delays, worker=fetch)
    try:
        async with sim:
            await sim.fetch("https://w/", edge="SFO", method="PUT")
            await sim.fetch("https://w/", edge="LHR")
    finally:
        # Whatever ended the run, the worker is not to blame: nothing was taken for its failure.
        assert sim.worker_errors == []
    return sim


def test_a_delay_model_that_stops_the_run_is_not_a_worker_failure() -> None:
    with pytest.raises(Halt):
        workersim.run(write_then_read_elsewhere, Halting())


def test_hypothesis_ending_an_example_inside_a_worker_reaches_hypothesis() -> None:
    from hypothesis.errors import StopTest
    from hypothesis.internal.conjecture.data import ConjectureData
    from hypothesis.strategies._internal.core import DataObject

    # An example with no choices left: the first delay drawn ends it, as one that draws too much is ended.
    exhausted = DataObject(ConjectureData.for_choices([]))
    with pytest.raises(StopTest):
        workersim.run(write_then_read_elsewhere, HypothesisDelay(exhausted))

"""``WorkerMachine``: a tester writes only the requests; the machine adds time, partitions and the checkers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.database import InMemoryExampleDatabase
from hypothesis.errors import StopTest
from hypothesis.stateful import initialize, rule, run_state_machine_as_test

from workersim import FixedDelay
from workersim.testing import WorkerMachine
from workersim.testing.stateful import DelayBeforeDrawDelays

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# print_blob: hypothesis's CI profile (the CI variable set) adds a @reproduce_failure note to the steps compared here.
FAST = settings(
    max_examples=60, stateful_step_count=12, deadline=None, database=None, derandomize=True,
    phases=[Phase.generate, Phase.target, Phase.shrink], print_blob=False,
)  # fmt: skip

PER_VISIT = """
import secrets
from workers import Response

async def fetch(request, env, ctx):
    await env.HITS.put(f"hit:{secrets.token_hex(8)}", "1")     # one key per visit: nothing to lose
    return Response("ok")
"""


def worker_file(directory: Path, source: str) -> Path:
    (directory / "worker.py").write_text(source, encoding="utf-8")
    return directory / "worker.py"


class Counter(WorkerMachine):
    worker = EXAMPLES / "hit_counter" / "worker.py"
    kv_namespaces = ("HITS",)

    @rule(data=st.data())
    def visit(self, data: st.DataObject) -> None:
        assert self.fetch("https://counter/", edge=self.draw_edge(data)).status == 200


def test_the_machine_finds_the_lost_visit() -> None:
    # From a missing counter, the smallest loss is two first visits that both create it.
    with pytest.raises(AssertionError, match="check-then-act race on 'hits'") as failed:
        run_state_machine_as_test(Counter, settings=FAST)
    notes = "\n".join(getattr(failed.value, "__notes__", []))
    # Shrunk to the smallest story: two visits (at two edges), and nothing else.
    assert notes.count("state.visit(") == 2
    assert "state.time_passes" not in notes and "state.cut_off" not in notes


def test_a_correct_worker_passes(tmp_path: Path) -> None:
    class PerVisit(WorkerMachine):
        worker = worker_file(tmp_path, PER_VISIT)
        kv_namespaces = ("HITS",)

        @rule(data=st.data())
        def visit(self, data: st.DataObject) -> None:
            assert self.fetch("https://counter/", edge=self.draw_edge(data)).status == 200

    run_state_machine_as_test(PerVisit, settings=FAST)


WELCOME_ONCE = """
from workers import Response

async def fetch(request, env, ctx):
    if await env.SEEN.get("welcomed") is None:      # racing first visits both write the same marker: harmless
        await env.SEEN.put("welcomed", "yes")
    return Response("ok")
"""


def welcome_machine(tmp_path: Path, ignored: tuple[str, ...]) -> type[WorkerMachine]:
    class Welcome(WorkerMachine):
        worker = worker_file(tmp_path, WELCOME_ONCE)
        kv_namespaces = ("SEEN",)
        edges = ("SFO", "LHR")
        ignore = ignored

        @rule(data=st.data())
        def visit(self, data: st.DataObject) -> None:
            assert self.fetch("https://w/", edge=self.draw_edge(data)).status == 200

    return Welcome


def test_a_race_to_write_the_same_marker_fails_the_machine_by_default(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="check-then-act race on 'welcomed'"):
        run_state_machine_as_test(welcome_machine(tmp_path, ()), settings=FAST)


def test_ignored_checkers_do_not_fail_the_machine(tmp_path: Path) -> None:
    # The same races, which the tester judged harmless: the marker's creation is idempotent.
    run_state_machine_as_test(welcome_machine(tmp_path, ("check_then_act", "stale_write_backs")), settings=FAST)


def test_ignoring_an_unknown_checker_is_refused_with_the_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ignore names no built-in checker: 'check_than_act'; the machine runs "):
        welcome_machine(tmp_path, ("check_than_act",))


def test_a_machine_runs_without_the_explain_phase_unless_told() -> None:
    assert Phase.explain not in Counter.TestCase.settings.phases
    assert Phase.shrink in Counter.TestCase.settings.phases
    # Settings built on the machine's keep its phases and add the tester's own.
    tuned = settings(Counter.TestCase.settings, max_examples=7)
    assert (tuned.max_examples, Phase.explain in tuned.phases) == (7, False)


COUNT = """
from workers import Response

async def fetch(request, env, ctx):
    count = int(await env.COUNTS.get("count") or 0) + 1     # read, add one, write back: not atomic
    await env.COUNTS.put("count", str(count))
    return Response(str(count))
"""

PACE = 5.0
"""Seconds between one visit and the next: half of max_delay, so only a delay longer than that loses a visit."""


def paced_machine(tmp_path: Path, source: str, *, search: bool, **extra: Any) -> type[WorkerMachine]:
    class Paced(WorkerMachine):
        worker = worker_file(tmp_path, source)
        kv_namespaces = ("COUNTS",)
        edges = ("SFO", "LHR")
        search_delays = search
        options = extra
        # No partitions: a cut-off edge would lose a visit whatever the delays.
        cut_off = heal = None

        @rule(data=st.data())
        def visit_then_wait(self, data: st.DataObject) -> None:
            assert self.fetch("https://counter/", edge=self.draw_edge(data)).status == 200
            self.call(trio.sleep, PACE)

    return Paced


def failure(machine: type[WorkerMachine], tuned: settings) -> tuple[str, list[str]]:
    with pytest.raises(AssertionError) as failed:
        run_state_machine_as_test(machine, settings=tuned)
    return str(failed.value), list(getattr(failed.value, "__notes__", []))


def test_searching_delays_finds_the_visit_a_long_delay_loses(tmp_path: Path) -> None:
    message, notes = failure(paced_machine(tmp_path, COUNT, search=True), FAST)
    # Two visits PACE apart, at two edges, both read the count as missing: the first visit's write took longer
    # than PACE to reach the second edge, and shrinking makes it the shortest delay that does, PACE + 1 ms.
    assert "check-then-act race on 'count'" in message
    first_write = re.search(r"created it at 0\.000s \(write #(\d+)\)", message)
    assert first_write is not None
    label = f"delay (ms) of write #{first_write[1]} (put 'count' at SFO) to LHR"
    # Each step's draws are printed above it (hypothesis prints a step once it has run).
    assert [note for note in notes if not note.startswith(("Failing test case", "state.the_checkers_hold"))] == [
        "state = Paced()",
        "state.draw_delays(data=data(...))",
        "Draw 1 (edge): 'SFO'",
        "state.visit_then_wait(data=data(...))",
        "Draw 2 (edge): 'LHR'",
        f"Draw 3 ({label}): {round(PACE * 1000) + 1}",
        "state.visit_then_wait(data=data(...))",
        "state.teardown()",
    ]


def test_without_delay_search_the_machine_keeps_its_delay_model(tmp_path: Path) -> None:
    # The same rules, the delays left to the model: every write lands 1 s after it was made, before the next visit.
    run_state_machine_as_test(paced_machine(tmp_path, COUNT, search=False, delays=FixedDelay(1.0)), settings=FAST)


def test_searching_delays_passes_a_correct_worker(tmp_path: Path) -> None:
    run_state_machine_as_test(paced_machine(tmp_path, PER_VISIT.replace("HITS", "COUNTS"), search=True), settings=FAST)


def test_a_machine_that_does_not_search_delays_has_no_draw_delays_step() -> None:
    with pytest.raises(AssertionError) as failed:
        run_state_machine_as_test(Counter, settings=FAST)
    notes = "\n".join(getattr(failed.value, "__notes__", []))
    assert "state.visit(" in notes and "draw_delays" not in notes and "delay (ms)" not in notes


def test_the_failing_delays_replay_from_the_database(tmp_path: Path) -> None:
    machine = seed(7)(paced_machine(tmp_path, COUNT, search=True))
    database = InMemoryExampleDatabase()
    searched = settings(FAST, derandomize=False, database=database)
    found = failure(machine, searched)
    # Only the saved example runs now: the same steps, delays and failure.
    assert failure(machine, settings(searched, phases=[Phase.reuse])) == found
    assert f"): {round(PACE * 1000) + 1}" in "\n".join(found[1])


def test_searching_delays_with_a_delay_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Paced searches delays .search_delays = True.: its options cannot set delays"):
        paced_machine(tmp_path, COUNT, search=True, delays=FixedDelay(1.0))


def test_a_delay_needed_by_an_initialize_rule_run_first_is_named(tmp_path: Path) -> None:
    base = paced_machine(tmp_path, PER_VISIT.replace("HITS", "COUNTS"), search=True)

    class Seeded(base):  # type: ignore[valid-type,misc]
        @initialize()
        def a_write_then_a_read_elsewhere(self) -> None:
            self.call(self.sim.env("SFO").COUNTS.put, "count", "0")
            self.call(self.sim.env("LHR").COUNTS.get, "count")  # needs the delay of SFO's write to LHR

    # Hypothesis runs the two initialize rules in either order: with this one first, there is no data to draw from.
    with pytest.raises(
        DelayBeforeDrawDelays,
        match=r"Seeded.search_delays: the simulation needed delay \(ms\) of write #0 \(put 'count' at SFO\) to LHR",
    ):
        run_state_machine_as_test(Seeded, settings=FAST)


class EndsTheExample:
    """Stands in for ``st.data()`` when hypothesis ends an example at a draw (it has drawn all it allows)."""

    def draw(self, strategy: object, label: str) -> int:
        raise StopTest(0)


def test_hypothesis_ending_the_example_at_a_delay_draw_reaches_it_through_the_step(tmp_path: Path) -> None:
    machine = paced_machine(tmp_path, COUNT, search=True)()
    try:
        machine.draw_delays(EndsTheExample())  # type: ignore[arg-type]
        assert machine.fetch("https://counter/", edge="SFO").status == 200  # its own write: no delay needed
        with pytest.raises(StopTest):  # not a 500: LHR's read needs SFO's write's delay
            machine.fetch("https://counter/", edge="LHR")
    finally:
        machine.teardown()  # and the run still stops

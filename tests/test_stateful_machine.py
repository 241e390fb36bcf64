"""``WorkerMachine``: a tester writes only the requests; the machine adds time, partitions and the checkers."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule, run_state_machine_as_test

from workersim.testing import WorkerMachine

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FAST = settings(
    max_examples=60, stateful_step_count=12, deadline=None, database=None, derandomize=True,
    phases=[Phase.generate, Phase.target, Phase.shrink],
)  # fmt: skip

PER_VISIT = """
import secrets
from workers import Response

async def fetch(request, env, ctx):
    await env.HITS.put(f"hit:{secrets.token_hex(8)}", "1")     # one key per visit: nothing to lose
    return Response("ok")
"""


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
    (tmp_path / "worker.py").write_text(PER_VISIT, encoding="utf-8")

    class PerVisit(WorkerMachine):
        worker = tmp_path / "worker.py"
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
    (tmp_path / "worker.py").write_text(WELCOME_ONCE, encoding="utf-8")

    class Welcome(WorkerMachine):
        worker = tmp_path / "worker.py"
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

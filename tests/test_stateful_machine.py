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

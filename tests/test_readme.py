"""The README's code examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_property_test_example_finds_the_lost_update() -> None:
    [block] = [block for block in python_blocks() if "def test_counter_counts" in block]
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    # As the README says: hypothesis finds a schedule under which an increment is lost, and shrinks it to the
    # smallest one: LHR reads the counter at 1 s, so SFO's write must take 1001 ms to arrive there.
    with pytest.raises(AssertionError) as failed:
        namespace["test_counter_counts"]()  # type: ignore[operator]
    # The draw names the write it delays: SFO's put, the run's second operation (after SFO's get).
    assert "Draw 1 (delay (ms) of write #1 (put 'count' at SFO) to LHR): 1001" in getattr(failed.value, "__notes__", [])


pytest_plugins = ["pytester"]


def test_the_plugin_example_passes(pytester: pytest.Pytester) -> None:
    [block] = [block for block in python_blocks() if "workersim_worker(" in block]
    root = README.parent
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    pytester.makepyfile(test_example=block.replace('"examples/', f'"{root}/examples/'))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)

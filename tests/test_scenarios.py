"""The teaching scenarios run and show what they promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def run(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(SCENARIOS / name), *args], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def test_stale_read_shows_a_stale_then_a_fresh_read() -> None:
    out = run("stale_read.py")
    assert "SFO      get 'greeting' -> (missing)  <- stale: missed write #0, which reaches SFO at" in out
    assert out.rstrip().endswith("SFO      get 'greeting' -> 'hello'  (sees write #0)")


def test_last_writer_wins_converges_on_the_later_write() -> None:
    last = run("last_writer_wins.py").splitlines()[-3:]
    assert all(line.endswith("get 'theme' -> 'blue'  (sees write #1)") for line in last)


def test_lost_update_loses_one_increment() -> None:
    assert run("lost_update.py").rstrip().endswith("Two increments, final count 1: one update was lost.")


@pytest.mark.parametrize("name", ["stale_read.py", "last_writer_wins.py", "lost_update.py"])
def test_scenarios_replay_exactly_from_a_seed(name: str) -> None:
    assert run(name, "--seed", "3") == run(name, "--seed", "3")


def test_scenarios_draw_a_space_time_diagram(tmp_path: Path) -> None:
    svg = tmp_path / "run.svg"
    out = run("last_writer_wins.py", "--svg", str(svg))
    assert out.rstrip().endswith(f"space-time diagram: {svg}")
    assert svg.read_text(encoding="utf-8").startswith("<svg")

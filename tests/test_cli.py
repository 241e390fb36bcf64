"""The ``workersim`` command line: run, check and timeline (dev and api have tests of their own)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workersim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


ROWS = [
    {
        "id": 0,
        "edge": "SFO",
        "ns": "KV",
        "op": "put",
        "key": "k",
        "value": "1",
        "invoke": 0.0,
        "complete": 0.0,
        "version": 1,
    },
    {
        "id": 1,
        "edge": "LHR",
        "ns": "KV",
        "op": "get",
        "key": "k",
        "value": None,
        "invoke": 0.5,
        "complete": 0.5,
        "version": None,
    },
]


def test_check_passes_a_consistent_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(write(tmp_path / "h.jsonl", ROWS))]) == 0
    out = capsys.readouterr().out
    assert "bounded_staleness: ok (1 checked)" in out


def test_check_fails_a_stale_history_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = [ROWS[0], {**ROWS[1], "invoke": 12.0, "complete": 12.0}]
    assert main(["check", str(write(tmp_path / "h.jsonl", stale)), "--max-delay", "10"]) == 1
    assert "is stale: op #0" in capsys.readouterr().out


def test_timeline_prints_and_draws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    svg = tmp_path / "h.svg"
    assert main(["timeline", str(write(tmp_path / "h.jsonl", ROWS)), "--svg", str(svg)]) == 0
    assert "get 'k' -> (missing)  <- stale: missed write #0" in capsys.readouterr().out
    assert svg.read_text(encoding="utf-8").startswith("<svg")


def test_a_missing_or_bad_history_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="cannot read the history .*nope.jsonl"):
        main(["check", str(tmp_path / "nope.jsonl")])
    (tmp_path / "bad.jsonl").write_text("[1]\n")
    with pytest.raises(SystemExit, match="line 1 is not a JSON object"):
        main(["timeline", str(tmp_path / "bad.jsonl")])


def test_run_runs_a_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(ROOT / "scenarios" / "stale_read.py"), "--seed", "3"]) == 0
    assert "SFO      get 'greeting' -> 'hello'  (sees write #0)" in capsys.readouterr().out

"""The ``workersim`` command line: run, check and timeline (dev and api have tests of their own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

import pytest
from _timeline import parse

from workersim.checkers import (
    bounded_staleness,
    check_then_act,
    convergence,
    lost_updates,
    monotonic_reads,
    no_phantom_reads,
    read_your_writes,
    stale_write_backs,
)
from workersim.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHECKERS = (
    bounded_staleness,
    convergence,
    monotonic_reads,
    no_phantom_reads,
    read_your_writes,
    lost_updates,
    check_then_act,
    stale_write_backs,
)
"""What ``workersim check`` runs: every checker of ``workersim.checkers``."""


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
    *heads, stats = [line for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert sorted(line.split(":")[0] for line in heads) == sorted(checker.__name__ for checker in CHECKERS)
    assert all(": ok (" in line or line.endswith(": nothing to check (no operation it looks at)") for line in heads)
    assert "bounded_staleness: ok (1 checked)" in heads  # the history's one read
    # Neither operation belongs to a request, so the application checkers had nothing to look at: not an "ok".
    for name in ("lost_updates", "check_then_act", "stale_write_backs"):
        assert f"{name}: nothing to check (no operation it looks at)" in heads
    # Consistent, but its one read (LHR at 0.5 s) missed the write made at 0 s: stale, within max_delay.
    assert stats == (
        "staleness: 1 of 1 reads stale; behind by p50 0.500s, p99 0.500s, max 0.500s (stale/reads by edge: LHR 1/1)"
    )


def test_check_fails_a_stale_history_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The read at LHR comes 12 s after the put, 2 s past max_delay, and still misses it.
    stale = [ROWS[0], {**ROWS[1], "invoke": 12.0, "complete": 12.0}]
    assert main(["check", str(write(tmp_path / "h.jsonl", stale)), "--max-delay", "10"]) == 1
    out = capsys.readouterr().out
    assert "bounded_staleness: 1 violation(s)" in out
    [message] = [line for line in out.splitlines() if "is stale" in line]
    read, missed = message.split(" is stale: ")
    assert read.startswith("  - op #1 (") and "LHR @12.000s" in read
    assert missed.startswith("op #0 (") and "SFO @0.000s" in missed and "more than 10" in missed


def test_timeline_prints_and_draws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    svg = tmp_path / "h.svg"
    assert main(["timeline", str(write(tmp_path / "h.jsonl", ROWS)), "--svg", str(svg)]) == 0
    put, read = parse(capsys.readouterr().out)
    assert (put.edge, put.write) == ("SFO", 0)
    # A history file has no arrival times: the stale read names the write it missed, not when it arrives.
    assert (read.time, read.edge, read.result, read.missed) == (0.5, "LHR", "(missing)", (0, None))
    drawn = ET.fromstring(svg.read_text(encoding="utf-8"))
    classes = [el.get("class") for el in drawn.iter() if el.get("class")]
    assert classes.count("op write") == 1 and classes.count("op read stale") == 1  # the put and its stale read


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "No such file"),
        ("[1]\n", "line 1: expected a JSON object, got list"),
        (
            '{"id": 0, "op": "put", "key": "k", "value": "v", "invoke": 0.0}\n{"id": 1, "op": "get", "ke',
            "line 2: not JSON",
        ),
        ('{"id": 0, "op": "put", "key": "k", "value": "v"}\n{"id": 1, "size": 3}\n', "line 2: a row needs an 'op'"),
        ("\udcff", "cannot read the history"),
    ],
    ids=["missing", "not-an-object", "truncated-line", "json-but-not-an-operation", "not-utf8"],
)
@pytest.mark.parametrize("command", ["check", "timeline"])
def test_an_unreadable_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, text: str | None, problem: str
) -> None:
    path = tmp_path / "history.jsonl"
    if text == "\udcff":
        path.write_bytes(b"\xff\xfe{}\n")
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main([command, str(path)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and problem in err and str(path) in err
    assert "Traceback" not in err


def test_check_exits_1_on_a_violation_and_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path / "h.jsonl",
        [
            {"id": 0, "edge": "SFO", "ns": "KV", "op": "put", "key": "k", "value": "real", "invoke": 0.0},
            {"id": 1, "edge": "LHR", "ns": "KV", "op": "get", "key": "k", "value": "ghost", "invoke": 1.0},
        ],
    )
    assert main(["check", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    phantom = next(r for r in report["reports"] if r["name"] == "no_phantom_reads")
    assert phantom["violations"][0]["ops"] == [1]


def test_run_runs_a_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(ROOT / "scenarios" / "stale_read.py"), "--seed", "3"]) == 0
    put, *_, last = parse(capsys.readouterr().out)
    assert (put.edge, put.op, put.write) == ("LHR", "put", 0)
    # The scenario reads at SFO again after max_delay (10 s), when the write has arrived.
    assert (last.time, last.edge, last.result, last.sees) == (10.0, "SFO", "'hello'", put.write)


def test_version_prints_the_installed_package_version() -> None:
    done = subprocess.run([sys.executable, "-m", "workersim.cli", "--version"], capture_output=True, text=True)
    # The version the packaging metadata records (pyproject.toml's, as installed), not one written in the CLI.
    assert (done.returncode, done.stdout, done.stderr) == (0, f"workersim {version('workersim')}\n", "")


def test_check_imports_neither_the_servers_nor_the_simulation(tmp_path: Path) -> None:
    # A command loads only its own modules: `check` is the checkers over a file, so it starts without hypercorn,
    # httpx, trio or the runtime (about a third of a second on this machine).
    history = write(tmp_path / "h.jsonl", [ROWS[0], {**ROWS[1], "invoke": 12.0, "complete": 12.0}])
    probe = (
        "import sys; from workersim.cli import main; status = main(['check', sys.argv[1]]); "
        "heavy = ('trio', 'hypercorn', 'httpx', 'workersim.sim', 'workersim.runtime', 'workersim.server'); "
        "print(status, [name for name in heavy if name in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(history)], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "1 []"  # a read 12 s stale: the checkers did run


@pytest.mark.parametrize("words", [["--help"], ["dev", "--help"], ["sweep", "--help"], ["import", "--help"]])
def test_help_lists_every_command_and_defines_the_chosen_ones_arguments(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(words)
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    if words[0] == "--help":
        for command in ("run", "check", "timeline", "api", "dev", "sweep", "staleness", "ctl", "export", "import"):
            assert f"\n    {command}" in out
    else:
        assert out.startswith(f"usage: workersim {words[0]} ")
        assert {"dev": "--max-body", "sweep": "--seeds", "import": "--namespace"}[words[0]] in out


def test_every_command_defines_its_arguments_and_a_handler() -> None:
    from workersim.cli import build_parser

    parser = build_parser()
    samples = {
        "run": ["run", "--list"],
        "check": ["check", "h.jsonl"],
        "timeline": ["timeline", "h.jsonl"],
        "api": ["api", "--port", "0"],
        "dev": ["dev", "w.py"],
        "sweep": ["sweep", "stale_read", "--seeds", "0-3"],
        "staleness": ["staleness"],
        "ctl": ["ctl", "status"],
        "export": ["export", "--persist", "s.sqlite3"],
        "import": ["import", "dump.json"],
    }
    handlers = {name: parser.parse_args(words).handler for name, words in samples.items()}
    assert len(set(handlers.values())) == len(samples)  # ten commands, ten handlers


SET_ORDER = """
import os, workersim

async def worker(request, env, ctx):
    for tag in {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}:  # a set of strings: order from the hash
        await env.KV.put(tag, "x")
    return workersim.Response("ok")

async def main():
    sim = workersim.Simulation(edges=("SFO",), kv_namespaces=("KV",), worker=worker)
    async with sim:
        await sim.fetch("https://x.example/", edge="SFO")
    print(os.environ.get("PYTHONHASHSEED"), [row.key for row in sim.history.rows if row.op == "put"])

workersim.run(main)
"""


@pytest.mark.parametrize("hash_seed", [None, "5"])
def test_run_replays_a_worker_that_iterates_a_set_in_every_process(tmp_path: Path, hash_seed: str | None) -> None:
    script = tmp_path / "sets.py"
    script.write_text(SET_ORDER, encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if name != "PYTHONHASHSEED"}
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = hash_seed
    command = [sys.executable, "-m", "workersim.cli", "run", str(script)]
    outputs = {subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout for _ in range(4)}
    # Four processes, one order: unset, the command fixes the salt to 0; set, the user's value is kept.
    [output] = outputs
    assert output.startswith("0 [" if hash_seed is None else "5 [")
    # Without the command, four salts give more than one order of the six tags: the fix is what makes them one.
    bare = {
        subprocess.run([sys.executable, str(script)], env={**env, "PYTHONHASHSEED": str(salt)}, capture_output=True,
                       text=True, check=True).stdout.split(" ", 1)[1]
        for salt in (1, 2, 3, 4)
    }  # fmt: skip
    assert len(bare) > 1

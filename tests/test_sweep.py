"""``workersim sweep`` on a local process pool: 200 seeds of a property whose failing seeds the test plans, the
replay command of a failing seed, resuming from the results file, a target that raises, ``--verify`` against a
target that is not deterministic, and the refusals."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from _sweep_targets import CYCLE, PROPAGATION, read_after_write

from workersim.sweep import (
    ResultsFormatError,
    SeedResult,
    first_difference,
    parse_results,
    parse_seeds,
    spread,
    summarize,
    sweep,
)

TESTS = Path(__file__).resolve().parent
SEEDS = range(200)
TARGET = "_sweep_targets:read_after_write"


def planned(seed: int) -> str:
    """What ``read_after_write`` must give for ``seed``, from its plan: it raises on the last seed of each cycle,
    and its read comes ``(seed % CYCLE) / 10`` s after the write, which takes ``PROPAGATION`` s to arrive."""
    if seed % CYCLE == CYCLE - 1:
        return "error"
    return "ok" if (seed % CYCLE) / 10 >= PROPAGATION else "stale"


def workersim_cli(*args: str, cwd: Path = TESTS, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``workersim ARGS`` in a fresh interpreter, with this worktree's package and ``tests/`` importable."""
    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = os.pathsep.join([str(TESTS.parent), str(TESTS), environment.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "workersim.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def results_of(path: Path) -> dict[int, dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    by_seed = {record["seed"]: record for record in records}
    assert len(by_seed) == len(records), "a seed appears twice in the results file"
    return by_seed


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("local") / "results.jsonl"
    done = workersim_cli("sweep", TARGET, "--seeds", "0-199", "--jobs", "2", "--out", str(out), "--verify", "3")
    return done, out


def test_a_local_sweep_counts_every_seed_and_finds_the_planned_failures(
    local_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, out = local_run
    assert done.returncode == 1, done.stderr
    records = results_of(out)
    assert sorted(records) == list(SEEDS)
    assert {seed: record["outcome"] for seed, record in records.items()} == {seed: planned(seed) for seed in SEEDS}
    expected = Counter(planned(seed) for seed in SEEDS)
    assert sum(expected.values()) == len(SEEDS)
    counted = [" ".join(line.split()) for line in done.stdout.splitlines()]
    for outcome, count in expected.items():
        assert f"{count} {json.dumps(outcome)}" in counted
    failing = [seed for seed in SEEDS if planned(seed) != "ok"]
    shown = [line for line in done.stdout.splitlines() if line.startswith("  seed ")]
    assert [int(line.split()[1].rstrip(":")) for line in shown] == failing
    assert f"failing: {len(failing)} seeds" in done.stdout
    # Every run with a history has its hash; the one that raised says what, and where, without stopping the others.
    for seed, record in records.items():
        if planned(seed) == "error":
            assert record["history_sha256"] is None
            assert record["error"].startswith(f"ValueError: seed {seed} is one this target refuses")
        else:
            assert len(record["history_sha256"]) == 64 and record["seconds"] >= 0
    # --verify reran three seeds on a worker and in the command's process: the same hashes.
    assert "verified: 3 seeds rerun on a worker and here gave the same history hashes" in done.stdout


@pytest.mark.parametrize("seed", [1, 49])  # a stale read, and a seed whose target raises
def test_the_replay_command_of_a_failing_seed_reproduces_it(
    local_run: tuple[subprocess.CompletedProcess[str], Path], seed: int, tmp_path: Path
) -> None:
    done, out = local_run
    [line] = [line for line in done.stdout.splitlines() if line.startswith(f"  seed {seed}:")]
    command = shlex.split(line.split("replay: ")[1])
    assert command[:2] == ["workersim", "sweep"]
    again = tmp_path / "again.jsonl"
    replay = workersim_cli(*command[1:], "--out", str(again))
    assert replay.returncode == 1, replay.stderr
    assert line in replay.stdout.splitlines()
    [record] = results_of(again).values()
    original = results_of(out)[seed]
    assert (record["outcome"], record["history_sha256"]) == (original["outcome"], original["history_sha256"])


def test_a_restarted_sweep_skips_the_seeds_already_in_its_results(
    local_run: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    _, out = local_run
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    resumed = tmp_path / "resumed.jsonl"
    # As if stopped mid-write: 150 whole lines and the start of the next.
    resumed.write_text("".join(lines[:150]) + lines[150][:20], encoding="utf-8")
    done = workersim_cli("sweep", TARGET, "--seeds", "0-199", "--jobs", "2", "--out", str(resumed))
    assert done.returncode == 1, done.stderr
    assert f"200 seeds (50 run now, 150 from {resumed})" in done.stdout
    after = resumed.read_text(encoding="utf-8").splitlines(keepends=True)
    assert after[:150] == lines[:150] and len(after) == 200
    assert {seed: r["history_sha256"] for seed, r in results_of(resumed).items()} == {
        seed: r["history_sha256"] for seed, r in results_of(out).items()
    }
    # Nothing left to run: the summary comes from the file alone.
    again = workersim_cli("sweep", TARGET, "--seeds", "0-199", "--out", str(resumed))
    assert f"200 seeds (0 run now, 200 from {resumed})" in again.stdout


def test_verify_catches_a_target_that_is_not_deterministic() -> None:
    done = workersim_cli("sweep", "_sweep_targets:nondeterministic", "--seeds", "0-19", "--jobs", "2", "--verify", "2")
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr.count("is not deterministic: history sha256") == 2
    lines = done.stderr.splitlines()
    index = lines.index("  first differing history line, line 1:")
    one, two = lines[index + 1], lines[index + 2]
    assert '"op":"put"' in one and '"op":"put"' in two and one.split(": ", 1)[1] != two.split(": ", 1)[1]


def test_a_scenario_file_is_a_target_judged_by_the_checkers() -> None:
    scenario = str(TESTS.parent / "scenarios" / "stale_read.py")
    done = workersim_cli("sweep", scenario, "--seeds", "0-3", "--jobs", "1", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["counts"] == {'"ok"': 4}
    # Each run reads once before the write arrives at SFO (and twice elsewhere): one stale read in three.
    assert summary["staleness"]["reads"] == 12 and summary["staleness"]["stale_reads"] == 4


def test_a_scenario_is_found_by_its_name() -> None:
    done = workersim_cli("sweep", "stale_read", "--seeds", "0-1", "--jobs", "1", "--json", cwd=TESTS.parent)
    assert done.returncode in (0, 1), done.stderr  # the checkers' verdict is the scenario's business, not this test's
    assert json.loads(done.stdout.splitlines()[0])["seeds"] == 2


REFUSALS = [
    (["sweep", "no_such_module:f", "--seeds", "0-1"], "cannot import 'no_such_module'"),
    (["sweep", "_sweep_targets:missing", "--seeds", "0-1"], "has no function missing(seed)"),
    (["sweep", "no/such/file.py", "--seeds", "0-1"], "no such file: no/such/file.py"),
    (["sweep", "no_such_scenario", "--seeds", "0-1"], "no scenario named 'no_such_scenario'"),
    (["sweep", TARGET, "--seeds", "5-1"], "seeds A-B need 0 <= A <= B"),
    (["sweep", TARGET, "--seeds", "x"], "seeds are A-B"),
    (["sweep", TARGET, "--seeds", "0-1", "--executor", "ray://x"], "--executor is local or dask://HOST:PORT"),
    (["sweep", TARGET, "--seeds", "0-1", "--out", "{folder}/bad.jsonl"], "cannot resume from"),
    (["sweep", TARGET, "--seeds", "0-1", "--out", "{folder}/no/such/folder.jsonl"], "cannot write the results to"),
    (["staleness", "--edges", "3"], "give --max-delay"),
    (["staleness", "--max-delay", "2", "--delays", "uniform:1:5"], "can exceed max_delay=2.0"),
    (["staleness", "--max-delay", "2", "--delays", "bogus:1"], "a delay model is default, default:MEAN"),
    (["staleness", "--max-delay", "2", "--edges", "1"], "edges"),
]


@pytest.mark.parametrize(("args", "words"), REFUSALS, ids=[" ".join(case[0]) for case in REFUSALS])
def test_bad_usage_is_one_line_and_exit_status_2(tmp_path: Path, args: list[str], words: str) -> None:
    (tmp_path / "bad.jsonl").write_text('{"seed": 1, "outcome": "ok"}\nnot json\n', encoding="utf-8")
    done = workersim_cli(*[arg.format(folder=tmp_path) for arg in args], cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr and words in lines[-1], done.stderr
    assert len(lines) == 1 or lines[0].startswith("usage:")


def test_the_python_api_takes_any_executor() -> None:
    with ThreadPoolExecutor(2) as executor:
        results = list(sweep(read_after_write, range(60), executor, chunk_size=7, in_flight=3))
    assert sorted(result.seed for result in results) == list(range(60))
    summary = summarize(results)
    assert summary.counts == {'"ok"': 53, '"stale"': 6, '"error"': 1}
    assert [result.seed for result in summary.failing] == [0, 1, 2, 49, 50, 51, 52]


def test_a_results_file_cut_mid_line_resumes_from_its_last_whole_line() -> None:
    whole = SeedResult(seed=3, outcome=["lost_updates"], history_sha256="ab", seconds=0.5, worker="h:1").to_line()
    results, kept = parse_results(whole + '{"seed": 4, "outc')
    assert results == [SeedResult.from_json(json.loads(whole))] and kept == len(whole)
    assert results[0].failed and results[0].outcome == ["lost_updates"]
    with pytest.raises(ResultsFormatError, match="line 2"):
        parse_results(whole + "[]\n" + whole)


def test_seed_ranges_spread_and_first_difference() -> None:
    assert parse_seeds("3-5") == range(3, 6) and parse_seeds("7") == range(7, 8)
    assert spread(range(100), 3) == [0, 50, 99] and spread([5, 1], 4) == [1, 5]
    assert first_difference("a\nb\nc\n", "a\nb\n") == (3, "c", "")
    assert first_difference("a\n", "a\n") is None


def test_the_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (TESTS.parent / "README.md").read_text(encoding="utf-8")
    [block] = [block for block in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "summarize(sweep(" in block]
    monkeypatch.chdir(TESTS.parent)
    exec(compile(block, "README.md", "exec"), {})
    # stale_read holds every checker on every seed.
    assert capsys.readouterr().out == "{'\"ok\"': 1000} []\n"


def test_on_a_terminal_a_progress_bar_shows_the_rate_and_the_time_left() -> None:
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal 120 columns wide
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS.parent), str(TESTS)]))
    command = [sys.executable, "-m", "workersim.cli", "sweep", TARGET, "--seeds", "0-99", "--jobs", "1", "--chunk", "5"]
    with subprocess.Popen(command, cwd=TESTS, env=environment, stdout=subprocess.DEVNULL, stderr=follower) as child:
        os.close(follower)
        shown = b""
        while True:  # read as it is written, so the child never blocks on a full terminal
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child has exited and everything it wrote has been read
                break
            if not chunk:
                break
            shown += chunk
        os.close(leader)
        assert child.wait(timeout=120) == 1
    last = shown.decode().replace("\r", "\n").strip().splitlines()[-1]
    # tqdm's bar: "100%|...| 100/100 [00:00<00:00, 180.5seed/s]": done of total, elapsed<left, rate.
    assert "100/100" in last and "<00:00" in last and "seed/s" in last, last

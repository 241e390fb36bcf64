"""The teaching scenarios run and show what they promise, with the timings each one sets up.

Each test's oracle is the scenario's plan (who writes and reads what, when, and the delays it fixes), not the
output of a run: a stale read must name the write it missed and the moment that write reaches the reader.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _timeline import Line, parse

import workersim
from workersim import scenarios
from workersim.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]
MAX_DELAY = 10.0
"""The scenarios' simulations keep the default max_delay."""


def run(name: str, *args: str) -> str:
    """What ``python scenarios/NAME.py ARGS`` prints, run in this process (``main()`` with that command line)."""
    out = io.StringIO()
    argv = sys.argv
    sys.argv = [f"{name}.py", *args]
    try:
        with contextlib.redirect_stdout(out):
            scenarios.load(name).main()
    finally:
        sys.argv = argv
    return out.getvalue()


def lessons(out: str) -> list[str]:
    return [line.removeprefix("lesson: ") for line in out.splitlines() if line.startswith("lesson: ")]


def reads_at(lines: list[Line], edge: str) -> list[tuple[float, str | None]]:
    return [(line.time, line.result) for line in lines if line.edge == edge and line.op in ("get", "list")]


def test_there_are_at_least_ten_scenarios_each_saying_what_you_will_see_why_and_what_to_change() -> None:
    names = scenarios.names()
    assert len(names) >= 10 and names == sorted(names) and not any(name.startswith("_") for name in names)
    for name in names:
        # `python scenarios/NAME.py` puts the scenarios' folder first on the path: no name may hide a module.
        assert importlib.util.find_spec(name) is None, f"{name} would shadow an importable module"
        module = scenarios.load(name)
        doc = module.__doc__ or ""
        assert "What you will see" in doc and "Why:" in doc and "Change" in doc, name
        assert callable(module.scenario) and callable(module.main)


def test_run_list_prints_each_scenario_with_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["run", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == scenarios.names()
    for line, name in zip(lines, scenarios.names(), strict=True):
        summary = (scenarios.load(name).__doc__ or "").strip().splitlines()[0]
        assert line.split(maxsplit=1)[1] == summary


def test_an_unknown_scenario_is_named_with_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(scenarios.UnknownScenarioError, match="stale_read"):
        scenarios.load("stale_reads")
    assert cli(["run", "stale_reads"]) == 2
    assert "no scenario or file 'stale_reads'" in capsys.readouterr().err
    assert cli(["run"]) == 2
    assert "give a scenario's name or a script's path" in capsys.readouterr().err


def test_load_takes_a_path_to_a_file_with_a_scenario(tmp_path: Path) -> None:
    script = tmp_path / "mine.py"
    script.write_text(
        "import workersim\n\n"
        "async def scenario(seed):\n"
        "    sim = workersim.Simulation(edges=('A', 'B'), kv_namespaces=('KV',), seed=seed)\n"
        "    async with sim:\n"
        "        await sim.env('A').KV.put('k', 'v')\n"
        "    return sim\n",
        encoding="utf-8",
    )
    sim = workersim.run(scenarios.load(str(script)).scenario, 1)
    assert [row.op for row in sim.history] == ["put"]
    (tmp_path / "empty.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(scenarios.UnknownScenarioError, match="defines no scenario"):
        scenarios.load(str(tmp_path / "empty.py"))


def test_python_scenarios_name_py_and_workersim_run_name_still_work() -> None:
    script = subprocess.run(
        [sys.executable, "scenarios/stale_read.py", "--seed", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    by_name = subprocess.run(
        [sys.executable, "-m", "workersim.cli", "run", "stale_read", "--seed", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert script.stdout == by_name.stdout == run("stale_read", "--seed", "3")


def test_a_scenario_writes_its_diagram_and_its_page(tmp_path: Path) -> None:
    svg, html = tmp_path / "run.svg", tmp_path / "run.html"
    out = run("stale_read", "--svg", str(svg), "--html", str(html))
    assert out.rstrip().endswith(f"space-time diagram: {svg}\n\ninteractive page: {html}")
    assert svg.read_text(encoding="utf-8").startswith("<svg ")
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("seed", ["7", "3"])
def test_stale_read_shows_a_stale_then_a_fresh_read(seed: str) -> None:
    # The plan: put at LHR, read at LHR, read at SFO, all at 0; delays uniform in [1, 4] s; read at SFO again
    # after max_delay.
    out = run("stale_read", "--seed", seed)
    put, own, stale, fresh = parse(out)
    assert (put.time, put.edge, put.op, put.write) == (0.0, "LHR", "put", 0)
    assert (own.edge, own.result, own.sees) == ("LHR", "'hello'", put.write)
    assert (stale.time, stale.edge, stale.result) == (0.0, "SFO", "(missing)")
    missed, arrives = stale.missed or (None, None)
    assert missed == put.write and isinstance(arrives, float) and 1.0 <= arrives <= 4.0
    assert (fresh.time, fresh.edge, fresh.result, fresh.sees) == (MAX_DELAY, "SFO", "'hello'", put.write)
    assert lessons(out) == [
        "SFO read (missing) at 0.000s although LHR had written 'hello': a stale read",
        f"write #0 reached SFO at {arrives:.3f}s; SFO read 'hello' at 10.000s",
    ]


def test_read_your_writes_holds_at_the_writer_only() -> None:
    # The plan: LHR writes at 0; every edge reads at 0, 1 and 2 s; every delay is exactly 2 s.
    out = run("read_your_writes")
    lines = parse(out)
    assert reads_at(lines, "LHR") == [(0.0, "'Ada'"), (1.0, "'Ada'"), (2.0, "'Ada'")]
    for edge in ("SFO", "NRT"):
        assert reads_at(lines, edge) == [(0.0, "(missing)"), (1.0, "(missing)"), (2.0, "'Ada'")]
        assert [line.missed for line in lines if line.edge == edge][:2] == [(0, 2.0), (0, 2.0)]
    assert "SFO read (missing) at 0s, (missing) at 1s, 'Ada' at 2s" in lessons(out)


def test_last_writer_wins_even_where_the_older_write_arrives_last() -> None:
    # The plan: LHR writes red at 0, NRT blue at 0.5; NRT->SFO takes 1 s, LHR->SFO 5 s, NRT->LHR 2 s, other
    # routes 3 s; every edge reads each second from 1.5 s to 6.5 s.
    out = run("last_writer_wins")
    red, blue, *reads = parse(out)
    assert (red.time, red.edge, red.write, blue.time, blue.edge, blue.write) == (0.0, "LHR", 0, 0.5, "NRT", 1)
    assert reads_at(reads, "SFO") == [(1.5 + second, "'blue'") for second in range(6)]  # blue lands at 1.5 s
    assert reads_at(reads, "LHR") == [(1.5, "'red'")] + [(2.5 + second, "'blue'") for second in range(5)]
    assert [line.missed for line in reads if line.edge == "LHR"][0] == (blue.write, 2.5)
    assert lessons(out) == [
        "write #1 ('blue', made at 0.5s) reached SFO at 1.500s",
        "write #0 ('red', made at 0s) reached SFO last, at 5.000s, and lost: it is the older write",
        "once both had arrived, SFO read 'blue' (at 5.5s, 6.5s): last writer wins",  # reads after 5 s
    ]


def test_lost_update_loses_one_increment() -> None:
    # The plan: the counter is 5 everywhere; requests at SFO and SIN each read it and write it plus one, at the
    # same instant (10 s); both edges read it again after max_delay.
    out = run("lost_update")
    kv = [line for line in parse(out) if line.op in ("get", "put")]
    first, reads, writes, final_reads = kv[0], kv[1:3], kv[3:5], kv[5:]
    assert (first.time, first.op, first.write) == (0.0, "put", 0)
    assert [(line.time, line.edge, line.result, line.sees) for line in reads] == [
        (MAX_DELAY, edge, "'5'", first.write) for edge in ("SFO", "SIN")
    ]
    assert [(line.time, line.edge, line.text.startswith("put 'visits' = '6' ")) for line in writes] == [
        (MAX_DELAY, edge, True) for edge in ("SFO", "SIN")
    ]
    last_write = writes[-1].write  # same instant: the one applied last wins everywhere
    assert [(line.time, line.edge, line.result, line.sees) for line in final_reads] == [
        (2 * MAX_DELAY, edge, "'6'", last_write) for edge in ("SFO", "SIN")
    ]
    found = lessons(out)
    assert found[0] == "two increments from '5', final count '6': one update was lost"
    [checker] = found[1:]
    assert checker.startswith("checker: lost update of 'visits': ")
    assert f"write #{last_write} ('6' at 10.000s) replaced write #{writes[0].write}" in checker


def test_a_later_delete_wins_over_the_put_it_raced() -> None:
    # The plan: the cart is written at 0; SFO puts at 10 s, LHR deletes at 10.5 s; delays 2 s; both read at 11,
    # 12, 13 and 14 s.
    out = run("delete_race")
    lines = parse(out)
    delete = next(line for line in lines if line.op == "delete")
    assert reads_at(lines, "SFO") == [
        (11.0, "'2 items'"),
        (12.0, "'2 items'"),
        (13.0, "(missing)"),
        (14.0, "(missing)"),
    ]
    assert [line.missed for line in lines if line.edge == "SFO" and line.op == "get"][:2] == [(delete.write, 12.5)] * 2
    assert reads_at(lines, "LHR") == [(at, "(missing)") for at in (11.0, 12.0, 13.0, 14.0)]
    assert lessons(out)[-1] == f"the delete (write #{delete.write}) is the later write: it wins everywhere"


def test_list_differs_between_edges_until_the_writes_arrive() -> None:
    # The plan: LHR writes user:1 and user:2, SFO user:3, at 0; delays 3 s; both list at 1 s and at 3 s.
    out = run("list_differs")
    assert lessons(out) == [
        "LHR listed user:1, user:2 at 1s",
        "SFO listed user:3 at 1s",
        "LHR listed user:1, user:2, user:3 at 3s",
        "SFO listed user:1, user:2, user:3 at 3s",
        "at 1s the edges disagree",
        "at 3s the edges agree",
    ]


def test_a_key_expires_everywhere_at_its_ttl() -> None:
    # The plan: written at 0 with expirationTtl 60; SFO and LHR read at 30, 59, 60 and 61 s.
    out = run("expiry")
    lines = parse(out)
    for edge in ("SFO", "LHR"):
        assert reads_at(lines, edge) == [
            (30.0, "'493 112'"),
            (59.0, "'493 112'"),
            (60.0, "(missing)"),
            (61.0, "(missing)"),
        ]
    assert all(line.missed is None and line.sees == 0 for line in lines if line.op == "get")  # no write was missed
    assert "sees write #0, which has expired" in out


def test_a_partition_holds_writes_back_both_ways_until_the_heal() -> None:
    # The plan: SYD cut off at 0; LHR and SYD write at 1 s; delays 1 s; reads at 2 and 15 s; heal at 20 s.
    out = run("partition_heal")
    lines = parse(out)
    assert reads_at(lines, "SFO") == [(2.0, "'sale today'"), (15.0, "'sale today'")]
    assert reads_at(lines, "SYD") == [(2.0, "(missing)"), (15.0, "(missing)"), (20.0, "'sale today'")]
    assert reads_at(lines, "LHR") == [(2.0, "(missing)"), (15.0, "(missing)"), (20.0, "'SYD ok'")]
    # Explained after the run, the held writes arrive at the heal.
    assert {line.missed for line in lines if line.missed} == {(0, 20.0), (1, 20.0)}
    assert lessons(out)[-2:] == [
        "write #0 (at LHR) reached SYD at 20s, when the partition healed",
        "write #1 (at SYD) reached LHR at 20s: held back both ways",
    ]


def test_the_edge_cache_explains_a_stale_read_by_the_cached_answer() -> None:
    # The plan (cacheTtl 60 s): price 10 written at 0 and read (cached) at SFO; 12 written at LHR at 1 s; NRT
    # reads at 2 s; SFO at 30, 59 and 60 s.
    out = run("edge_cache")
    lines = parse(out)
    second = next(line for line in lines if line.op == "put" and line.time == 1.0)
    assert reads_at(lines, "SFO") == [(0.0, "'10'"), (30.0, "'10'"), (59.0, "'10'"), (60.0, "'12'")]
    assert [line.missed for line in lines if line.edge == "SFO" and line.missed] == [(second.write, 60.0)] * 2
    assert "SFO's cached answer is older; it expires at 60.000s (cacheTtl)" in out
    assert "which reaches SFO" not in out  # the write is in the central store: nothing is travelling
    assert reads_at(lines, "NRT") == [(2.0, "'12'")]
    assert (
        lessons(out)[-1]
        == "SFO's cache answered '10' until 60s, though write #2 ('12') was in the central store from 1s"
    )


def test_negative_caching_keeps_a_new_key_missing_where_it_was_looked_for() -> None:
    # The plan (cacheTtl 60 s): SFO looks at 0; LHR writes at 1 s; NRT and SFO read at 2, 59 and 60 s.
    out = run("negative_cache")
    lines = parse(out)
    assert reads_at(lines, "NRT") == [(2.0, "'Ada'"), (59.0, "'Ada'"), (60.0, "'Ada'")]
    assert reads_at(lines, "SFO") == [(0.0, "(missing)"), (2.0, "(missing)"), (59.0, "(missing)"), (60.0, "'Ada'")]
    assert [line.missed for line in lines if line.edge == "SFO" and line.missed] == [(1, 60.0)] * 2
    assert lessons(out)[-1] == (
        "SFO's cache answered (missing) until 60s, though write #1 ('Ada') was in the central store from 1s"
    )


def test_a_flag_rollout_reaches_each_edge_after_its_route_delay() -> None:
    # The plan: "old" at 0, "new" at 10 s from LHR; LHR->SFO 1 s, ->NRT 3 s, ->SYD 8 s; reads each second.
    out = run("flag_rollout")
    lines = parse(out)
    for edge, delay in (("LHR", 0), ("SFO", 1), ("NRT", 3), ("SYD", 8)):
        assert reads_at(lines, edge) == [(10.0 + s, "'new'" if s >= delay else "'old'") for s in range(10)]
        assert f"{edge} served the new checkout from {10 + delay}s ({delay} s after the switch)" in lessons(out)


def test_a_stale_write_back_brings_a_session_back_to_life() -> None:
    # The plan: session written at 0; a logout request at LHR deletes it at 10.5 s; a request at SFO at 11 s
    # reads it and writes it back; delays 2 s; both edges read at 15 s.
    out = run("session_resurrected")
    kv = [line for line in parse(out) if line.op in ("get", "put", "delete")]
    delete = next(line for line in kv if line.op == "delete")
    check = next(line for line in kv if line.edge == "SFO" and line.op == "get")
    back = next(line for line in kv if line.edge == "SFO" and line.op == "put")
    assert (delete.time, delete.edge, check.time, back.time) == (10.5, "LHR", 11.0, 11.0)
    assert check.missed == (delete.write, 12.5)  # the session check was stale
    assert [(line.edge, line.result, line.sees) for line in kv[-2:]] == [
        (edge, "'alice, seen again'", back.write) for edge in ("LHR", "SFO")
    ]
    found = lessons(out)
    assert "alice is logged in again at every edge" in found
    assert found[-1].startswith("checker: write based on a stale read of 'session:alice': ")
    assert f"write #{delete.write} at LHR had already deleted it at 10.500s" in found[-1]


def test_the_write_rate_limit_refuses_a_second_write_within_a_second() -> None:
    # The plan: score at 0, again at 0.5 (refused), level at 0.5, score at 1 s; reads at 0.5 and 1 s.
    lines = parse(out := run("rate_limit"))
    assert [
        (line.time, line.op, line.text.endswith("429 Too Many Requests")) for line in lines if line.op == "put"
    ] == [
        (0.0, "put", False),
        (0.5, "put", True),
        (0.5, "put", False),
        (1.0, "put", False),
    ]
    assert [line.result for line in lines if line.op == "get"] == ["'10'", "'12'"]
    assert "put 'score' at 0.5s refused: KVError: KV PUT failed: 429 Too Many Requests" in lessons(out)


@pytest.mark.parametrize("name", scenarios.names())
def test_scenarios_replay_exactly_from_a_seed(name: str) -> None:
    assert run(name, "--seed", "3") == run(name, "--seed", "3")


TUTORIAL = ROOT / "docs" / "tutorial.md"


def test_the_tutorial_shows_every_scenario_with_its_picture() -> None:
    text = TUTORIAL.read_text(encoding="utf-8")
    for name in scenarios.names():
        assert f"![{name}](pictures/{name}.svg)" in text and f"`{name}`" in text
    assert text.count("<summary>Answer</summary>") >= len(scenarios.names())  # an exercise, with its answer, each


@pytest.mark.parametrize("name", scenarios.names())
def test_the_checked_in_pictures_are_what_svg_draws(name: str, tmp_path: Path) -> None:
    run(name, "--svg", str(tmp_path / "drawn.svg"))
    checked_in = ROOT / "docs" / "pictures" / f"{name}.svg"
    assert (tmp_path / "drawn.svg").read_bytes() == checked_in.read_bytes(), (
        "regenerate docs/pictures as docs/tutorial.md says"
    )


def test_the_tutorials_own_scenario_runs_as_it_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [block] = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), flags=re.S)
    script = tmp_path / "mine.py"
    script.write_text(block, encoding="utf-8")
    sim = workersim.run(scenarios.load(str(script)).scenario, 7)
    # Both writes at 0 s, LHR's applied last; SFO reads after the 1 s delay, when LHR's has arrived.
    assert [row.value for row in sim.history if isinstance(row, workersim.KVRead)] == [b"from LHR"]
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["run", str(script)]) == 0
    assert [line.result for line in parse(out.getvalue())] == [None, None, "'from LHR'"]
    assert (tmp_path / "mine.svg").stat().st_size > 0 and (tmp_path / "mine.html").stat().st_size > 0


BARE = '''"""A user sees the new price at LHR, then the old one at SFO."""

import trio

import workersim


async def scenario(seed: int) -> workersim.Simulation:
    sim = workersim.Simulation(edges=("LHR", "SFO"), kv_namespaces=("KV",), seed=seed, delays=workersim.FixedDelay(3))
    async with sim:
        await sim.env("LHR").KV.put("price", "12")
        await trio.sleep(1)
        await sim.env("LHR").KV.get("price")
        await sim.env("SFO").KV.get("price")
    return sim
'''


@pytest.mark.parametrize("lesson", ["", "\n\ndef lessons(sim):\n    return ['SFO went back in time']\n"])
def test_run_runs_a_file_that_only_defines_a_scenario_as_it_runs_a_scenario(
    lesson: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "monotonic.py"
    script.write_text(BARE + lesson, encoding="utf-8")
    svg = tmp_path / "run.svg"
    assert cli(["run", str(script), "--seed", "3", "--svg", str(svg)]) == 0
    out = capsys.readouterr().out
    # The plan: LHR writes at 0 s; at 1 s LHR reads it, SFO misses it (it arrives at 3 s).
    assert [(line.time, line.edge, line.result) for line in parse(out)] == [
        (0.0, "LHR", None),
        (1.0, "LHR", "'12'"),
        (1.0, "SFO", "(missing)"),
    ]
    assert lessons(out) == (["SFO went back in time"] if lesson else [])
    assert "A user sees the new price at LHR, then the old one at SFO." in svg.read_text(encoding="utf-8")

"""The teaching scenarios run and show what they promise, with the timings each one sets up."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from _timeline import parse

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
MAX_DELAY = 10.0
"""The scenarios' simulations keep the default max_delay."""


def run(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(SCENARIOS / name), *args], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


@pytest.mark.parametrize("seed", ["7", "3"])
def test_stale_read_shows_a_stale_then_a_fresh_read(seed: str) -> None:
    # The scenario: put at LHR, read at LHR, read at SFO, all at 0; delays uniform in [1, 4] s; read at SFO again
    # after max_delay.
    put, own, stale, fresh = parse(run("stale_read.py", "--seed", seed))
    assert (put.time, put.edge, put.op, put.write) == (0.0, "LHR", "put", 0)
    assert (own.edge, own.result, own.sees) == ("LHR", "'hello'", put.write)
    assert (stale.time, stale.edge, stale.result) == (0.0, "SFO", "(missing)")
    missed, arrives = stale.missed or (None, None)
    assert missed == put.write and isinstance(arrives, float) and 1.0 <= arrives <= 4.0
    assert (fresh.time, fresh.edge, fresh.result, fresh.sees) == (MAX_DELAY, "SFO", "'hello'", put.write)


def test_last_writer_wins_converges_on_the_later_write() -> None:
    # The scenario: LHR writes red at 0, NRT blue at 0.5; delays uniform in [0.5, 6] s; LHR, NRT and SFO read
    # each second from 0.5 to 6.5, by when both writes have arrived everywhere.
    red, blue, *reads = parse(run("last_writer_wins.py"))
    assert (red.time, red.edge, red.write, blue.time, blue.edge, blue.write) == (0.0, "LHR", 0, 0.5, "NRT", 1)
    assert [(line.time, line.edge) for line in reads] == [
        (0.5 + second, edge) for second in range(7) for edge in ("LHR", "NRT", "SFO")
    ]
    for read in reads:
        if read.edge == "NRT":  # its own write is the newest: it reads it from the start
            assert (read.result, read.sees) == ("'blue'", blue.write)
        elif read.sees == blue.write:
            assert read.result == "'blue'"
        else:  # blue has not arrived yet: that is the write the read missed, and it is on its way
            missed, arrives = read.missed or (None, None)
            assert missed == blue.write and isinstance(arrives, float) and read.time < arrives <= blue.time + 6.0
            assert read.result in ("(missing)", "'red'")
    assert [(read.edge, read.result, read.sees) for read in reads[-3:]] == [
        (edge, "'blue'", blue.write) for edge in ("LHR", "NRT", "SFO")
    ]


def test_lost_update_loses_one_increment() -> None:
    # The scenario: SFO and SIN each read the counter and write it plus one, at the same instant; both read it
    # again after max_delay.
    out = run("lost_update.py")
    lines = parse(out)
    reads, writes, final_reads = lines[:2], lines[2:4], lines[4:]
    assert [(line.time, line.edge, line.op, line.result) for line in reads] == [
        (0.0, edge, "get", "(missing)") for edge in ("SFO", "SIN")
    ]
    assert [(line.time, line.edge, line.text.startswith("put 'visits' = '1' ")) for line in writes] == [
        (0.0, edge, True) for edge in ("SFO", "SIN")
    ]
    last_write = writes[-1].write  # same instant: the one applied last wins everywhere
    assert [(line.time, line.edge, line.result, line.sees) for line in final_reads] == [
        (MAX_DELAY, edge, "'1'", last_write) for edge in ("SFO", "SIN")
    ]
    assert out.rstrip().endswith("Two increments, final count 1: one update was lost.")


@pytest.mark.parametrize("name", ["stale_read.py", "last_writer_wins.py", "lost_update.py"])
def test_scenarios_replay_exactly_from_a_seed(name: str) -> None:
    assert run(name, "--seed", "3") == run(name, "--seed", "3")


def test_scenarios_draw_a_space_time_diagram(tmp_path: Path) -> None:
    svg = tmp_path / "run.svg"
    out = run("last_writer_wins.py", "--svg", str(svg))
    assert out.rstrip().endswith(f"space-time diagram: {svg}")
    root = ET.fromstring(svg.read_text(encoding="utf-8"))
    texts = [el.text for el in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"SFO", "LHR", "NRT"} <= set(texts)  # a lane per edge of the scenario
    classes = [el.get("class") for el in root.iter() if el.get("class")]
    assert classes.count("write") == 2 and classes.count("arrival") == 4  # each write reaches the two other edges

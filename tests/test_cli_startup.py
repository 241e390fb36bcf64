"""Every way to start a server wrongly ends with one line naming the problem, no traceback, and exit status 2 (1
when the server cannot listen where it was asked to)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def taken_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


@pytest.fixture
def workers(tmp_path: Path) -> Path:
    (tmp_path / "broken.py").write_text("async def fetch(request:\n", encoding="utf-8")
    (tmp_path / "empty.py").write_text("X = 1\n", encoding="utf-8")
    (tmp_path / "bad.toml").write_text("main = \n", encoding="utf-8")
    return tmp_path


CASES = [
    (["api", "--port", "-1"], 2, "a port is a whole number from 0 to 65535"),
    (["api", "--port", "http"], 2, "a port is a whole number"),
    (["api", "--max-namespaces", "0"], 2, "must be at least 1, got 0"),
    (["api", "--host", "no.such.host.invalid", "--port", "0"], 1, "cannot listen on no.such.host.invalid:0"),
    (["api", "--port", "{taken}"], 1, "Address already in use"),
    (["dev", "{folder}/broken.py", "--port", "0"], 2, "the worker does not load: "),
    (["dev", "{folder}/empty.py", "--port", "0"], 2, "defines no worker"),
    (["dev", "{folder}/missing.py", "--port", "0"], 2, "worker file not found"),
    (["dev", "{folder}/bad.toml", "--port", "0"], 2, "invalid TOML"),
    (["dev", "{folder}/empty.py", "--edges", ",", "--port", "0"], 2, "give at least one edge"),
    (["dev", "{folder}/empty.py", "--time-scale", "0"], 2, "must be a positive number"),
    (["dev", "{folder}/empty.py", "--port", "{taken}"], 2, "defines no worker"),
    (["api", "--port", "0", "--history", "/no/such/folder/h.jsonl"], 2, "--history /no/such/folder/h.jsonl cannot be"),
    (["api", "--port", "0", "--history", "{folder}"], 2, "is a folder; give a file name"),
    (["api", "--port", "0", "--persist", "{folder}"], 2, "is a folder; give a file name"),
]


@pytest.mark.parametrize(("args", "status", "words"), CASES, ids=[" ".join(case[0]) for case in CASES])
def test_a_bad_start_is_one_line(workers: Path, taken_port: int, args: list[str], status: int, words: str) -> None:
    argv = [arg.format(folder=workers, taken=taken_port) for arg in args]
    done = subprocess.run([sys.executable, "-m", "workersim.cli", *argv], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (status, "")
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert words in lines[-1], done.stderr
    # argparse prints its usage first; every other refusal is the one line.
    assert len(lines) == 1 or lines[0].startswith("usage:")


def test_an_interrupted_shutdown_leaves_the_previous_history_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workersim.server._history import keep_history, save_history
    from workersim.sim import History, Simulation

    path = tmp_path / "history.jsonl"
    path.write_text("the previous run\n", encoding="utf-8")
    sim = Simulation(edges=("SFO",))
    keep_history(sim, path)  # rows now stream to history.jsonl.partial; the previous file is left alone

    def interrupted(self: History) -> None:
        raise KeyboardInterrupt  # a second Ctrl-C while the last rows are written

    monkeypatch.setattr(History, "close", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_history(sim, path)
    assert path.read_text(encoding="utf-8") == "the previous run\n"


async def test_a_server_history_streams_every_row_and_holds_few(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, autojump_clock: object
) -> None:
    from workersim.server import _history
    from workersim.sim import History, Simulation

    monkeypatch.setattr(_history, "UNSAVED_LIMIT", 10)
    path = tmp_path / "history.jsonl"
    sim = Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",))
    _history.keep_history(sim, path)
    async with sim:
        for index in range(100):
            await sim.env("SFO").KV.put(f"k{index}", "x" * 1000)
        assert len(sim.history) <= 11  # memory holds the newest rows only
    _history.save_history(sim, path)
    saved = History.from_jsonl(path)
    assert [row.id for row in saved] == list(range(100))
    assert not (tmp_path / "history.jsonl.partial").exists()

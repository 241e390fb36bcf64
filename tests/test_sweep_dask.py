"""The sweep of ``test_sweep`` on a real Dask cluster: a scheduler and two worker processes started with the ``dask``
command line on loopback. The aggregate and every seed's outcome and history hash must equal the local run's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_sweep import TARGET, TESTS, results_of, workersim_cli

pytest.importorskip("distributed", reason="the Dask test needs Dask: pip install 'workersim[dask]' (in the test extra)")

STARTUP = 90.0
"""Seconds allowed for the scheduler to write its address and for both workers to join (generous: CI is shared)."""


def _dask() -> str:
    found = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    if found is None:
        pytest.skip("the `dask` command line is not installed beside this Python (pip install 'workersim[dask]')")
    return found


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[int]]]:
    """``(address, worker pids)`` of a scheduler and two single-threaded workers, each its own process group."""
    from distributed import Client

    dask = _dask()
    folder = tmp_path_factory.mktemp("dask")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS.parent), str(TESTS), env.get("PYTHONPATH", "")])
    scheduler_file = folder / "scheduler.json"
    common = {"cwd": folder, "env": env, "start_new_session": True}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with (folder / "scheduler.log").open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
                    + ["--scheduler-file", str(scheduler_file)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    **common,  # type: ignore[arg-type]
                )
            )
        deadline = time.monotonic() + STARTUP
        while not scheduler_file.exists() and time.monotonic() < deadline and processes[0].poll() is None:
            time.sleep(0.1)  # a real process starting: polled, with a generous deadline
        if not scheduler_file.exists():
            pytest.fail("the Dask scheduler did not start:\n" + (folder / "scheduler.log").read_text())
        address = json.loads(scheduler_file.read_text())["address"]
        for name in ("one", "two"):
            with (folder / f"worker-{name}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", name]
                        + ["--local-directory", str(folder / name)],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        **common,  # type: ignore[arg-type]
                    )
                )
        with Client(address, timeout=STARTUP) as client:
            client.wait_for_workers(2, timeout=STARTUP)
        yield address.removeprefix("tcp://"), [process.pid for process in processes[1:]]
    finally:
        for process in reversed(processes):
            _stop(process)


def test_a_dask_cluster_gives_the_local_runs_aggregate_and_hashes(
    cluster: tuple[str, list[int]], tmp_path: Path
) -> None:
    address, worker_pids = cluster
    common = ["sweep", TARGET, "--seeds", "0-199", "--json"]
    local = workersim_cli(*common, "--jobs", "2", "--out", str(tmp_path / "local.jsonl"))
    remote = workersim_cli(*common, "--executor", f"dask://{address}", "--out", str(tmp_path / "dask.jsonl"))
    assert remote.returncode == local.returncode == 1, remote.stderr
    aggregate = [json.loads(done.stdout) for done in (local, remote)]
    for summary in aggregate:
        del summary["seconds"]  # wall-clock time, the one thing allowed to differ
    # Counts, staleness, and every failing seed with its outcome and replay command.
    assert aggregate[0] == aggregate[1]
    assert aggregate[0]["seeds"] == 200 and len(aggregate[0]["failing"]) == 16
    here, there = results_of(tmp_path / "local.jsonl"), results_of(tmp_path / "dask.jsonl")
    assert sorted(there) == list(range(200))
    assert {seed: (r["outcome"], r["history_sha256"]) for seed, r in there.items()} == {
        seed: (r["outcome"], r["history_sha256"]) for seed, r in here.items()
    }
    # Run by the cluster's worker processes, not by the command that submitted them.
    assert {int(r["worker"].rsplit(":", 1)[1]) for r in there.values()} <= set(worker_pids)


def test_verify_on_dask_reruns_seeds_outside_the_cluster(cluster: tuple[str, list[int]]) -> None:
    address, _ = cluster
    done = workersim_cli(
        "sweep", "_sweep_targets:nondeterministic", "--seeds", "0-9", "--executor", f"dask://{address}", "--verify", "1"
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "first differing history line, line 1:" in done.stderr

"""workersim's pytest plugin (registered through the ``pytest11`` entry point, so installing workersim enables it).

Fixtures:

- ``workersim_simulation``: a factory, ``workersim_simulation(**options)`` -> ``workersim.Simulation``;
- ``workersim_worker``: a factory, ``workersim_worker(path, **options)`` -> a ``Simulation`` of the worker file
  or wrangler configuration at ``path``.

When a test fails, the report gets a section "workersim: the last run" with that run's timeline (for a property
test, the shrunk failing example hypothesis ran last), the checkers' violations, the seed, the delays hypothesis
chose, and how to replay it.

A test that used either fails, with the worker's traceback, when a handler or its ``waitUntil`` work raised (a
500 to the client and a ``worker_errors`` entry would otherwise pass unnoticed); set the ini option
``workersim_worker_errors = allow`` (or mark a test ``@pytest.mark.workersim_allow_worker_errors``) for tests that
expect them.

``workersim.testing.virtual_time`` turns an ``async def`` test body into a plain function that runs it on virtual
time with ``workersim.run``: the form ``@given`` needs (hypothesis refuses pytest-trio's function-scoped
``autojump_clock`` fixture).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..checkers import check_all, check_anomalies
from ..runtime import CONFIG_NAMES, Simulation
from ..sim import observe_simulations
from ..sim.simulation import Simulation as StoreSimulation
from ..viz import timeline

Factory = Callable[..., Simulation]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini option."""
    parser.addini(
        "workersim_worker_errors",
        "fail (default) or allow: whether a test fails when a worker it simulated raised",
        default="fail",
    )


HASH_SEED_NOTE = (
    "workersim: PYTHONHASHSEED is not set, so each process orders sets of strings its own way: a worker that "
    "iterates one replays a failure exactly only with PYTHONHASHSEED set (e.g. PYTHONHASHSEED=0 pytest)"
)


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say once, at the top of the run, when the process's string hashes are salted at random (see ``workersim
    run``, which fixes them itself)."""
    return HASH_SEED_NOTE if "PYTHONHASHSEED" not in os.environ else None


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker."""
    config.addinivalue_line("markers", "workersim_allow_worker_errors: a worker raising in this test does not fail it")


class _Made:
    """The simulations a test made, checked for worker errors when it ends."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.request = request
        self.simulations: list[Simulation] = []

    def check(self) -> None:
        if self.request.node.get_closest_marker("workersim_allow_worker_errors") is not None:
            return
        if self.request.config.getini("workersim_worker_errors") == "allow":
            return
        failures = [failure for sim in self.simulations for failure in sim.worker_errors]
        if failures:
            details = "\n".join(f"{failure}\n{failure.traceback}" for failure in failures)
            pytest.fail(f"the worker raised {len(failures)} time(s) in this test:\n{details}", pytrace=False)


@pytest.fixture
def workersim_simulation(request: pytest.FixtureRequest) -> Iterator[Factory]:
    """``workersim_simulation(**options)``: a ``workersim.Simulation`` with those options."""
    made = _Made(request)

    def make(*args: Any, **options: Any) -> Simulation:
        sim = Simulation(*args, **options)
        made.simulations.append(sim)
        return sim

    yield make
    made.check()


@pytest.fixture
def workersim_worker(request: pytest.FixtureRequest) -> Iterator[Factory]:
    """``workersim_worker(path, **options)``: a simulation of the worker file (``.py``) or wrangler configuration
    (or folder holding one) at ``path``."""
    made = _Made(request)

    def make(path: str | os.PathLike[str], **options: Any) -> Simulation:
        target = Path(path)
        if target.is_dir():
            found = [target / name for name in CONFIG_NAMES if (target / name).is_file()]
            if not found:
                raise FileNotFoundError(f"no {', '.join(CONFIG_NAMES)} in {target}")
            target = found[0]
        sim = (
            Simulation(worker=target, **options)
            if target.suffix == ".py"
            else Simulation.from_config(target, **options)
        )
        made.simulations.append(sim)
        return sim

    yield make
    made.check()


_RUNS = pytest.StashKey[list[StoreSimulation]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Keep every simulation the test makes, to explain a failure."""
    made: list[StoreSimulation] = []
    item.stash[_RUNS] = made
    stop = observe_simulations(made.append)
    try:
        return (yield)
    finally:
        stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add the last simulation's story to the report of a failed test."""
    report: pytest.TestReport = yield
    made = item.stash.get(_RUNS, [])
    if report.failed and call.when == "call" and made and made[-1].history.rows:
        report.sections.append(("workersim: the last run", explain(made[-1], item.nodeid)))
    return report


def explain(sim: StoreSimulation, nodeid: str) -> str:
    """A failed run told: its timeline, what the checkers found, its seed and schedule, and how to replay it."""
    rows = sim.history.rows
    violations = [
        f"  {report.name}: {violation.message}"
        for report in check_all(rows, sim.max_delay) + check_anomalies(rows)
        for violation in report.violations
    ]
    schedule = getattr(sim.delays, "chosen_ms", None)
    lines = [
        timeline(rows),
        "",
        "violations found by the checkers:" if violations else "the checkers found no violation of their own",
        *violations,
        f"seed: {sim.seed}; delays: {sim.delays!r}" + (f"; delays chosen (ms): {schedule}" if schedule else ""),
        f"replay: pytest '{nodeid}' (hypothesis replays a failing example from its database)",
    ]
    return "\n".join(lines)

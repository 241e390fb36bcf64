"""What a sweep runs on each seed: the ``TARGET`` of ``workersim sweep``, resolved to a picklable ``Target`` that
any worker (a local process, a Dask worker) turns back into a function, and ``run_seed``, which runs it once and
judges what it returned.

A target function takes the seed and returns one of:

- a ``workersim.Simulation`` (a scenario's ``scenario(seed)`` does): the outcome is ``"ok"`` when the
  checkers (``check_all`` and ``check_anomalies``) find nothing, else the sorted names of those that did;
- a ``SweepOutcome``: its ``outcome``, and the history behind it (for the hash and the staleness statistics);
- anything else JSON-able: the outcome itself, with no history.

It may be ``async`` (it then runs under ``workersim.run``). A seed fails when its outcome is not ``"ok"``,
``True`` or ``None``, or when the function raises.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import json
import os
import runpy
import shlex
import socket
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from ..checkers import check_all, check_anomalies, staleness
from ..core.errors import WorkersimError
from ..core.history import History
from ..scenarios import load as load_scenario
from ..scenarios import names as scenario_names
from ..sim.simulation import Simulation, run
from .results import ERROR, SeedResult


class TargetError(WorkersimError, ValueError):
    """A sweep ``TARGET`` that names nothing runnable: no such module, function, file or scenario."""


@attrs.frozen(kw_only=True)
class SweepOutcome:
    """What a target function may return to have its history hashed (and its reads' staleness counted) along
    with its outcome."""

    outcome: Any
    """The JSON-able outcome (``"ok"``, ``True`` or ``None`` pass)."""
    history: History | None = None
    """The run's history (``sim.history``)."""


@attrs.frozen
class Target:
    """A sweep target that pickles as its description and is loaded again, once per process, where it runs."""

    kind: str
    """``"function"`` (``location`` is ``module:function``), ``"file"`` (an absolute path of a Python file with
    ``scenario(seed)``) or ``"scenario"`` (a name for ``workersim.scenarios.load``)."""
    location: str
    spec: str
    """The target as the user wrote it, for the replay command."""

    def function(self) -> Callable[[int], Any]:
        """The function this target names (raises ``TargetError`` when there is none)."""
        return _load(self.kind, self.location)

    def __call__(self, seed: int) -> Any:
        """Run the target on ``seed`` and return what it returned."""
        function = self.function()
        if inspect.iscoroutinefunction(function):
            return run(function, seed)
        return function(seed)

    def replay(self, seed: int) -> str:
        """The one-line command that runs this target on ``seed`` alone and prints its outcome."""
        return f"workersim sweep {shlex.quote(self.spec)} --seeds {seed} --jobs 1"


def _scenario_target(name: str, spec: str) -> Target:
    if name not in scenario_names():
        raise TargetError(
            f"no scenario named {name!r} (the scenarios are {', '.join(scenario_names())}); a TARGET is a "
            "scenario name, a .py file or module:function"
        )
    return Target("scenario", name, spec)


def resolve_target(spec: str) -> Target:
    """The target ``spec`` names: ``module:function``, a path to a Python file with ``scenario(seed)``, or a
    scenario's name. It is loaded once here, so that a target that does not load fails before the sweep starts
    (``TargetError``)."""
    if spec.endswith(".py") or os.sep in spec or Path(spec).is_file():
        path = Path(spec)
        if not path.is_file():
            raise TargetError(f"no such file: {spec}")
        target = Target("file", str(path.resolve()), spec)
    elif ":" in spec:
        module, _, name = spec.partition(":")
        if not module or not name.isidentifier():
            raise TargetError(f"a function target is module:function, got {spec!r}")
        target = Target("function", spec, spec)
    else:
        target = _scenario_target(spec, spec)
    target.function()
    return target


@functools.cache
def _load(kind: str, location: str) -> Callable[[int], Any]:
    if kind == "function":
        module_name, _, name = location.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise TargetError(f"cannot import {module_name!r} for the target {location}: {error}") from None
        found = getattr(module, name, None)
        where = f"module {module_name!r}"
    elif kind == "file":
        # As `python FILE` would: the file's folder first on the path, so that it can import its neighbours.
        sys.path.insert(0, str(Path(location).parent))
        try:
            found = runpy.run_path(location, run_name="__workersim_target__").get("scenario")
        finally:
            sys.path.pop(0)
        where = location
    else:
        found = getattr(load_scenario(location), "scenario", None)
        where = f"scenario {location!r}"
    if not callable(found):
        wanted = location.partition(":")[2] if kind == "function" else "scenario"
        raise TargetError(f"{where} has no function {wanted}(seed)")
    return found  # type: ignore[no-any-return]


def judge(value: Any) -> tuple[Any, History | None]:
    """The outcome of what a target returned, and the history behind it (``None``: it recorded none)."""
    if isinstance(value, Simulation):
        reports = check_all(value.history, value.max_delay) + check_anomalies(value.history)
        violated = sorted(report.name for report in reports if not report.ok)
        return ("ok" if not violated else violated), value.history
    if isinstance(value, SweepOutcome):
        return value.outcome, value.history
    return value, None


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_seed(target: Callable[[int], Any], seed: int, *, keep_history: bool = False) -> SeedResult:
    """Run ``target`` on ``seed`` and record what happened; an exception it raises becomes the seed's
    ``"error"`` outcome, so one seed never stops a sweep. ``keep_history`` keeps the history's text."""
    start = time.perf_counter()
    try:
        outcome, history = judge(target(seed))
        json.dumps(outcome)  # refuses an outcome that cannot go in the results file
    except Exception as error:  # noqa: BLE001 - any failure of the user's target is that seed's result
        frame = traceback.extract_tb(error.__traceback__)[-1]
        where = f" (at {Path(frame.filename).name}:{frame.lineno})"
        return SeedResult(
            seed=seed,
            outcome=ERROR,
            error=f"{type(error).__name__}: {error}{where}",
            seconds=time.perf_counter() - start,
            worker=worker_name(),
        )
    text = None if history is None else history.to_jsonl_text()
    stats = None if history is None else staleness(history)
    return SeedResult(
        seed=seed,
        outcome=outcome,
        history_sha256=None if text is None else hashlib.sha256(text.encode()).hexdigest(),
        seconds=time.perf_counter() - start,
        staleness=None if stats is None else {"reads": stats.reads, "stale_reads": stats.stale_reads, "max": stats.max},
        worker=worker_name(),
        history=text if keep_history else None,
    )

"""The core is sans-I/O: importing it (and using it) never imports trio."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

CODE = """
import sys
import workersim.core as core
from workersim.core import validation
cluster = core.Cluster(edges=("A", "B"), seed=1, delays=core.FixedDelay(1), max_ms=10_000, epoch_ms=0)
space = cluster.namespace("NS")
space.write("k", b"v", origin=0, now=0)
assert space.read("k", 1, 999) is None and space.read("k", 1, 1000).value == b"v"
assert "trio" not in sys.modules, sorted(m for m in sys.modules if m.startswith("trio"))
print("ok")
"""


def test_importing_and_using_the_core_does_not_import_trio() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# Where each public name is defined: ``workersim`` re-exports the core's at import, the rest on first use.
HOMES = {
    "workersim.core": ["BodyUsedError", "ConfigError", "DefaultDelay", "DelayModel", "EdgeCache", "Faults"]
    + ["FetchRow", "FixedDelay", "HistoryFormatError", "KVBulkRead", "KVError", "KVList", "KVRead", "KVRejected"]
    + ["KVWrite", "Limits", "LogRow", "ResponseRow", "ScheduledRow", "UniformDelay", "WorkersimError"],
    "workersim.sim": ["Env", "History", "run"],
    "workersim.kv": ["KVNamespace", "ReadableStream"],
    "workersim.runtime": ["ExecutionContext", "Headers", "Request", "Response", "Simulation", "WorkerEntrypoint"]
    + ["WorkerFailure", "load_config", "load_worker", "BindingNotSimulated", "FetchNotRouted", "LogLine"]
    + ["ScheduledController", "UnsimulatedBindingWarning"],
}

LAZY_CODE = """
import sys
import workersim
assert "trio" not in sys.modules
from workersim.runtime import Simulation
assert workersim.Simulation is Simulation and "trio" in sys.modules
print("ok")
"""


def test_the_top_level_package_still_exposes_everything() -> None:
    import workersim

    assert sorted(workersim.__all__) == sorted([*(name for names in HOMES.values() for name in names), "__version__"])
    for module, names in HOMES.items():
        home = importlib.import_module(module)
        for name in names:
            assert getattr(workersim, name) is getattr(home, name), f"workersim.{name} is not {module}.{name}"
    with pytest.raises(AttributeError, match="no attribute 'Simulaton'"):
        workersim.Simulaton  # noqa: B018  # a typo must fail, not load something


def test_a_lazy_name_loads_its_layer_on_first_use() -> None:
    done = subprocess.run([sys.executable, "-c", LAZY_CODE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"

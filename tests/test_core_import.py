"""The core is sans-I/O: importing it (and using it) never imports trio."""

from __future__ import annotations

import subprocess
import sys

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


def test_the_top_level_package_still_exposes_everything() -> None:
    import workersim

    for name in workersim.__all__:
        assert getattr(workersim, name) is not None

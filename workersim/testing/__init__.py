"""Tools for testers: hypothesis strategies that search propagation schedules for the one that breaks a handler,
``virtual_time`` for async property tests, and the pytest plugin (``workersim.testing.plugin``).

The strategies need hypothesis (``pip install workersim[test]``); they are loaded on first use, so that the pytest
plugin, which pytest loads in every project where workersim is installed, never needs it.
"""

from __future__ import annotations

import typing as _typing

from ..core._lazy import lazy_getattr as _lazy_getattr
from ._virtual import virtual_time

if _typing.TYPE_CHECKING:
    from .schedules import HypothesisDelay, delay_models, seeds
    from .stateful import WorkerMachine

_LAZY = {
    "HypothesisDelay": "workersim.testing.schedules",
    "delay_models": "workersim.testing.schedules",
    "seeds": "workersim.testing.schedules",
    "WorkerMachine": "workersim.testing.stateful",
}


__getattr__ = _lazy_getattr("workersim.testing", globals(), _LAZY)


__all__ = ["HypothesisDelay", "WorkerMachine", "delay_models", "seeds", "virtual_time"]

"""workersim: a deterministic simulator of edge Workers and their eventually consistent Workers KV.

See ``Simulation`` for the entry point and ``run`` for running a coroutine on virtual time.

The sans-I/O model (``workersim.core``) never imports trio, so names from the layers above are loaded on first
use: ``import workersim.core`` stays free of trio, while ``workersim.Simulation`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .core import DefaultDelay, DelayModel, FixedDelay, History, KVError, Limits, UniformDelay

if TYPE_CHECKING:
    from .kv import KVNamespace, ReadableStream
    from .sim import Env, Simulation, run

__version__ = "0.1.0"

# Public names that live above the core, and the module each is loaded from on first use.
_LAZY = {
    "Env": "workersim.sim",
    "Simulation": "workersim.sim",
    "run": "workersim.sim",
    "KVNamespace": "workersim.kv",
    "ReadableStream": "workersim.kv",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workersim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DefaultDelay",
    "DelayModel",
    "Env",
    "FixedDelay",
    "History",
    "KVError",
    "KVNamespace",
    "Limits",
    "ReadableStream",
    "Simulation",
    "UniformDelay",
    "__version__",
    "run",
]

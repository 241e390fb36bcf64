"""workersim: a deterministic simulator of edge Workers and their eventually consistent Workers KV.

See ``Simulation`` for the entry point and ``run`` for running a coroutine on virtual time.
"""

from .core import (
    DefaultDelay,
    DelayModel,
    FixedDelay,
    History,
    KVError,
    Limits,
    UniformDelay,
)
from .kv import KVNamespace, ReadableStream
from .sim import Env, Simulation, run

__version__ = "0.1.0"

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

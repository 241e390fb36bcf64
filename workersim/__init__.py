"""workersim: a deterministic simulator of edge Workers and their eventually consistent Workers KV.

See ``Simulation`` for the entry point and ``run`` for running a coroutine on virtual time.

The sans-I/O model (``workersim.core``) never imports trio, so names from the layers above are loaded on first
use: ``import workersim.core`` stays free of trio, while ``workersim.Simulation`` works as usual.
"""

from __future__ import annotations

import typing as _typing
from importlib import metadata as _metadata

from .core import (
    BodyUsedError,
    ConfigError,
    DefaultDelay,
    DelayModel,
    EdgeCache,
    Faults,
    FetchRow,
    FixedDelay,
    HistoryFormatError,
    KVBulkRead,
    KVError,
    KVList,
    KVRead,
    KVRejected,
    KVWrite,
    Limits,
    LogRow,
    ResponseRow,
    ScheduledRow,
    UniformDelay,
    WorkersimError,
)
from .core._lazy import lazy_getattr as _lazy_getattr

if _typing.TYPE_CHECKING:
    from .kv import KVNamespace, ReadableStream
    from .runtime import (
        BindingNotSimulated,
        ExecutionContext,
        FetchNotRouted,
        Headers,
        LogLine,
        Request,
        Response,
        ScheduledController,
        Simulation,
        UnsimulatedBindingWarning,
        WorkerEntrypoint,
        WorkerFailure,
        load_config,
        load_worker,
    )
    from .sim import Env, History, run

try:
    __version__ = _metadata.version("workersim")
except _metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

# Public names that live above the core, and the module each is loaded from on first use.
_LAZY = {
    "Env": "workersim.sim",
    "History": "workersim.sim",
    "run": "workersim.sim",
    "KVNamespace": "workersim.kv",
    "ReadableStream": "workersim.kv",
    "BindingNotSimulated": "workersim.runtime",
    "ExecutionContext": "workersim.runtime",
    "FetchNotRouted": "workersim.runtime",
    "LogLine": "workersim.runtime",
    "ScheduledController": "workersim.runtime",
    "UnsimulatedBindingWarning": "workersim.runtime",
    "Headers": "workersim.runtime",
    "Request": "workersim.runtime",
    "Response": "workersim.runtime",
    "Simulation": "workersim.runtime",
    "WorkerEntrypoint": "workersim.runtime",
    "WorkerFailure": "workersim.runtime",
    "load_config": "workersim.runtime",
    "load_worker": "workersim.runtime",
}


__getattr__ = _lazy_getattr("workersim", globals(), _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    "BindingNotSimulated",
    "BodyUsedError",
    "ConfigError",
    "DefaultDelay",
    "DelayModel",
    "EdgeCache",
    "Env",
    "ExecutionContext",
    "Faults",
    "FetchNotRouted",
    "FetchRow",
    "FixedDelay",
    "Headers",
    "History",
    "HistoryFormatError",
    "KVBulkRead",
    "KVError",
    "KVList",
    "KVNamespace",
    "KVRead",
    "KVRejected",
    "KVWrite",
    "Limits",
    "LogLine",
    "LogRow",
    "ReadableStream",
    "Request",
    "Response",
    "ResponseRow",
    "ScheduledController",
    "ScheduledRow",
    "Simulation",
    "UniformDelay",
    "UnsimulatedBindingWarning",
    "WorkerEntrypoint",
    "WorkerFailure",
    "WorkersimError",
    "load_config",
    "load_worker",
    "run",
]

"""The Worker runtime: Fetch API objects, worker loading, ``ctx``, Python Workers compatibility and configuration.

Handlers are Python coroutines run on the simulated edges by ``Simulation.fetch`` (and over HTTP by
``workersim dev``). See ``load_worker`` for the forms a worker can take.
"""

from ..core.errors import BodyUsedError, ConfigError
from ._config import CONFIG_NAMES, Assets, WorkerConfig, find_config, load_config, strip_jsonc
from ._context import ExecutionContext
from ._cron import ScheduledController
from ._dispatch import Dispatcher, WorkerFailure
from ._entrypoint import WorkerEntrypoint
from ._headers import Headers
from ._loading import Worker, load_worker, load_worker_file
from ._outbound import FetchNotRouted
from ._request import JsRequest, Request
from ._response import Response
from .simulation import BindingNotSimulated, LogLine, Simulation, UnsimulatedBindingWarning

__all__ = [
    "Assets",
    "BindingNotSimulated",
    "BodyUsedError",
    "CONFIG_NAMES",
    "ConfigError",
    "Dispatcher",
    "ExecutionContext",
    "FetchNotRouted",
    "Headers",
    "JsRequest",
    "LogLine",
    "Request",
    "Response",
    "ScheduledController",
    "Simulation",
    "UnsimulatedBindingWarning",
    "Worker",
    "WorkerConfig",
    "WorkerEntrypoint",
    "WorkerFailure",
    "find_config",
    "load_config",
    "load_worker",
    "load_worker_file",
    "strip_jsonc",
]

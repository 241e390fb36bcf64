"""The sans-I/O model of replicated Workers KV: no trio, no clock, no I/O; time is an argument.

Times are integer milliseconds of virtual time. ``Store`` is the one path every operation takes; everything with
a clock or a socket lives in the layers above.
"""

from .cache import EdgeCache
from .delays import DefaultDelay, DelayModel, FixedDelay, UniformDelay
from .errors import BodyUsedError, ConfigError, HistoryFormatError, KVError, WorkersimError
from .faults import Faults
from .history import History
from .limits import Limits
from .partitions import Partitions
from .replicas import Cluster, Keyspace
from .rows import (
    UNKNOWN,
    AnyRow,
    FetchRow,
    KVBulkRead,
    KVList,
    KVRead,
    KVRejected,
    KVWrite,
    LogRow,
    ResponseRow,
    Row,
    ScheduledRow,
    row_from_json,
)
from .store import PutItem, Store
from .versions import CENTRAL, Version

__all__ = [
    "CENTRAL",
    "UNKNOWN",
    "AnyRow",
    "BodyUsedError",
    "Cluster",
    "ConfigError",
    "DefaultDelay",
    "DelayModel",
    "EdgeCache",
    "Faults",
    "FetchRow",
    "FixedDelay",
    "History",
    "HistoryFormatError",
    "KVBulkRead",
    "KVError",
    "KVList",
    "KVRead",
    "KVRejected",
    "KVWrite",
    "Keyspace",
    "Limits",
    "Partitions",
    "PutItem",
    "LogRow",
    "ResponseRow",
    "ScheduledRow",
    "Row",
    "Store",
    "UniformDelay",
    "Version",
    "WorkersimError",
    "row_from_json",
]

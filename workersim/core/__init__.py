"""The sans-I/O model of replicated Workers KV: no trio, no clock, no I/O; time is an argument.

Times are integer milliseconds of virtual time. Everything with a clock or a socket lives in the layers above.
"""

from .cache import EdgeCache
from .delays import DefaultDelay, DelayModel, FixedDelay, UniformDelay
from .errors import KVError
from .faults import Faults
from .history import History, encode_value
from .limits import Limits
from .partitions import Partitions
from .replicas import Cluster, Keyspace
from .versions import CENTRAL, Version

__all__ = [
    "CENTRAL",
    "Cluster",
    "DefaultDelay",
    "DelayModel",
    "EdgeCache",
    "Faults",
    "FixedDelay",
    "History",
    "KVError",
    "Keyspace",
    "Limits",
    "Partitions",
    "UniformDelay",
    "Version",
    "encode_value",
]

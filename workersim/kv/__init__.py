"""The JS-style ``KVNamespace`` binding and the stream type it reads and writes."""

from .binding import KVHost, KVNamespace
from .streams import ReadableStream

__all__ = ["KVHost", "KVNamespace", "ReadableStream"]

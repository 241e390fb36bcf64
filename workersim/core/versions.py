"""Versions: what one write (or delete) of one key made.

The replica model holds each version as a plain tuple of its fields (``Stored``), in ``Version``'s field order,
and reads those with the index constants below. A tuple of numbers, strings, bytes and ``None`` is one the
garbage collector stops looking at after its first pass, while any class instance is looked at by every full
collection for as long as it lives: a namespace holds one version a key, for the whole run. The store's hot
paths (get, put, delete, list) hand the stored tuple on as it is; ``Version``, a tuple of the same fields with
names, is made from it in one C call (``tuple.__new__(Version, stored)``) where a caller wants the names
(``Keyspace.read``, ``Keyspace.versions``, the write observer).
"""

from __future__ import annotations

from typing import Final, NamedTuple

CENTRAL = -1
"""The origin of writes that enter at the central store (the REST API) rather than at an edge."""

# Where each field of a version is in its tuple (a ``Stored`` or a ``Version``); Final, so that the type checker
# knows each field's type.
SEQ: Final = 0
TIME: Final = 1
ORIGIN: Final = 2
VALUE: Final = 3
METADATA: Final = 4
EXPIRATION: Final = 5

Stored = tuple[int, int, int, bytes | None, str | None, int | None]
"""A version as the replica model holds it: ``(seq, time, origin, value, metadata, expiration)``."""


class Version(NamedTuple):
    """One write of one key: a named tuple ``(seq, time, origin, value, metadata, expiration)``.

    ``seq`` numbers writes across the whole cluster in the order the simulation applied them. Writes are applied
    in virtual-time order, so ordering by ``seq`` is ordering by the last-writer-wins stamp ``(time, seq)``: the
    later write wins, and writes at the same millisecond are won by the one applied last. That rule is the same
    at every edge, so concurrent writes converge on one winner everywhere. ``seq`` is also the version's id in
    histories.

    Being a tuple, a version equals the plain tuple of its fields, and ``_replace`` makes a changed copy.
    """

    seq: int
    time: int
    """Virtual milliseconds at which the write was made."""
    origin: int
    """Index of the writing edge, or ``CENTRAL``."""
    value: bytes | None
    """The stored bytes; ``None`` marks a delete (a tombstone)."""
    metadata: str | None = None
    """Compact JSON text of the metadata, or ``None`` when none was set."""
    expiration: int | None = None
    """Absolute expiry in UNIX seconds, or ``None``."""

    def live_at(self, unix_ms: int) -> bool:
        """Whether the version holds a value at ``unix_ms``: not a delete and not yet expired."""
        return live_at(self, unix_ms)


def live_at(version: Stored, unix_ms: int) -> bool:
    """Whether ``version`` (stored, or a ``Version``) holds a value at ``unix_ms``: not a delete and not yet
    expired."""
    expiration = version[EXPIRATION]
    return version[VALUE] is not None and (expiration is None or expiration * 1000 > unix_ms)


def stored(version: Stored) -> Stored:
    """``version`` as the replica model holds it: a plain tuple (a ``Version`` is a tuple of a class of its own,
    which the garbage collector keeps looking at)."""
    return version[:]  # a whole slice of a tuple subclass is a plain tuple

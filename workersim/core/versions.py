"""Versions: what one write (or delete) of one key made."""

from __future__ import annotations

import attrs

from ._fastinit import maker

CENTRAL = -1
"""The origin of writes that enter at the central store (the REST API) rather than at an edge."""


@attrs.frozen(slots=True)
class Version:
    """One write of one key.

    ``seq`` numbers writes across the whole cluster in the order the simulation applied them. Writes are applied
    in virtual-time order, so ordering by ``seq`` is ordering by the last-writer-wins stamp ``(time, seq)``: the
    later write wins, and writes at the same millisecond are won by the one applied last. That rule is the same
    at every edge, so concurrent writes converge on one winner everywhere. ``seq`` is also the version's id in
    histories.
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
        return self.value is not None and (self.expiration is None or self.expiration * 1000 > unix_ms)


make_version = maker(Version, positional=True)
"""``Version(seq, time, origin, value, metadata, expiration)``, made at about half the cost (every write makes
one)."""

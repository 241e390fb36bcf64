"""The edge-cache consistency model of today's Workers KV (opt-in; push propagation is the default).

``EdgeCache`` holds the model's settings; ``EdgeCaches`` is the model itself for one namespace: what each edge
has cached, and how a read or a write goes through the caches to the central store.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING

import attrs

from .errors import KVError
from .versions import CENTRAL, ORIGIN, SEQ, TIME, Stored

if TYPE_CHECKING:
    from .partitions import Partitions


def _ttl(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"EdgeCache.{attribute.name} must be a positive number of seconds, got {value!r}")


@attrs.frozen
class EdgeCache:
    """A central store plus a cache at every edge, as Workers KV works today.

    A write goes to the central store and to the writing edge's cache at once. A read at an edge answers from
    that edge's cache while the cached entry is younger than the read's ``cacheTtl`` (``default_ttl`` seconds
    when not given); otherwise it fetches from the central store and caches the answer, a missing key included
    (negative caching). So another edge sees a write only once its cached entry has aged past ``cacheTtl``.
    While the central store is down, or the edge is cut off from it by a partition, a read that must fetch and
    every write at that edge fail with a 503.
    """

    default_ttl: int = attrs.field(default=60, validator=_ttl)


@attrs.define
class EdgeCaches:
    """The caches of one namespace under the edge-cache model: what each edge last fetched (or wrote) and when.
    The central store is the namespace's newest version of each key, which the keyspace keeps."""

    settings: EdgeCache
    _cached: dict[tuple[int, str], tuple[Stored | None, int]] = attrs.field(factory=dict)
    """Each edge's cached answer for each key (a version as the keyspace holds it, or ``None``: a miss), and when
    it was cached."""
    # Every entry each edge has cached, as flat pairs (when, write number held or -1 for a miss), to explain
    # stale reads after the run: 16 bytes per fetch, and cacheTtl allows at most one fetch per key and edge a ttl.
    _entries: dict[tuple[int, str], array[int]] = attrs.field(factory=dict)

    def wrote(self, key: str, version: Stored) -> None:
        """A write (``version``, as the keyspace holds it) at an edge lands in that edge's cache as well as
        centrally."""
        origin = version[ORIGIN]
        if origin != CENTRAL:
            self._cache(origin, key, version, version[TIME])

    def _cache(self, edge: int, key: str, version: Stored | None, now: int) -> None:
        self._cached[edge, key] = (version, now)
        self._entries.setdefault((edge, key), array("q")).extend((now, -1 if version is None else version[SEQ]))

    def visible_at(self, key: str, edge: int, seq: int, time: int) -> int:
        """When ``edge`` first answers write number ``seq`` of ``key`` (made at ``time``), or a newer one: when
        it next fetched after the write, or when the older answer it had cached at ``time`` ages past the
        default ``cacheTtl`` (a read with a shorter ``cacheTtl`` fetches sooner), or at once when it had none."""
        ttl_ms = self.settings.default_ttl * 1000
        expires: int | None = None  # when the older answer cached at the write's time ages out
        entries = self._entries.get((edge, key), array("q"))
        for at, held in zip(entries[::2], entries[1::2], strict=True):
            if held >= seq:
                return time if expires is None else min(max(at, time), expires)
            if at <= time:
                expires = at + ttl_ms if at + ttl_ms > time else None
        return time if expires is None else expires

    def read(
        self,
        key: str,
        edge: int,
        now: int,
        cache_ttl: int | None,
        central: Stored | None,
        *,
        outage: bool,
        partitions: Partitions,
        method: str,
    ) -> Stored | None:
        """What ``edge`` answers for ``key`` at ``now``: its cached answer while younger than ``cache_ttl``
        seconds, else ``central`` (the central store's version, as the keyspace holds it), cached from then on. A
        fetch during an ``outage``, or from an edge cut off by a partition, raises the backend's 503 for
        ``method``."""
        ttl_ms = (self.settings.default_ttl if cache_ttl is None else cache_ttl) * 1000
        entry = self._cached.get((edge, key))
        if entry is not None and now - entry[1] < ttl_ms:
            return entry[0]
        if outage or partitions.is_cut(edge, now):
            raise KVError(method, 503, "Service Unavailable")
        self._cache(edge, key, central, now)
        return central

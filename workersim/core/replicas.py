"""The replicated key-value model: every namespace's versions and what each edge sees of them.

Propagation is lazy. A write stores one ``Version``; whether it has reached edge X by ``now`` is computed when
X reads, from the delay model (a pure function of seed, version and edge) and the partition log. So a write
costs the same at 3 edges as at 300, and memory does not grow with the number of edges. Versions that every edge
has received, and that a newer such version hides, are dropped.
"""

from __future__ import annotations

import bisect
import heapq

import attrs

from ._hash import mix, name_key, splitmix64
from .cache import EdgeCache
from .delays import DelayModel
from .errors import KVError
from .faults import Faults
from .partitions import Partitions
from .versions import CENTRAL, Version


@attrs.define
class Cluster:
    """The edges, the propagation rules and every namespace's data; all times are virtual milliseconds."""

    edges: tuple[str, ...]
    seed: int
    delays: DelayModel
    max_ms: int
    epoch_ms: int
    """UNIX milliseconds at virtual time 0 (expirations are UNIX seconds)."""
    partitions: Partitions = attrs.field(factory=Partitions)
    faults: Faults = attrs.field(factory=Faults)
    cache: EdgeCache | None = None
    """The edge-cache model, or ``None`` for push propagation (the default)."""
    namespaces: dict[str, Keyspace] = attrs.field(factory=dict)
    _seed_key: int = attrs.field(init=False)
    _edge_keys: tuple[int, ...] = attrs.field(init=False)
    _index: dict[str, int] = attrs.field(init=False)
    _next_seq: int = attrs.field(init=False, default=1)
    _collect_at: list[tuple[int, int, str, str]] = attrs.field(init=False, factory=list)

    def __attrs_post_init__(self) -> None:
        self._seed_key = mix(self.seed)
        self._edge_keys = tuple(name_key(edge) for edge in self.edges)
        self._index = {edge: i for i, edge in enumerate(self.edges)}

    def edge_index(self, name: str) -> int:
        """The position of edge ``name``; ``KeyError`` if there is no such edge."""
        return self._index[name]

    def namespace(self, name: str) -> Keyspace:
        """The keyspace of namespace ``name``, created empty on first use."""
        space = self.namespaces.get(name)
        if space is None:
            space = self.namespaces[name] = Keyspace(self, name)
        return space

    def new_seq(self) -> int:
        """Allocate the next write number."""
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def arrival(self, version: Version, edge: int) -> int | None:
        """When ``version`` reaches ``edge``; ``None`` while a partition still holds it back."""
        return self.arrival_of(version.seq, version.time, version.origin, edge)

    def arrival_of(self, seq: int, time: int, origin: int, edge: int) -> int | None:
        """When write number ``seq``, made at ``time`` at ``origin``, reaches ``edge`` (``None``: held back by a
        partition that has not healed yet). Needs no stored version, so it also explains collected writes."""
        if origin == edge:
            return time
        origin_name = None if origin == CENTRAL else self.edges[origin]
        draw = splitmix64(splitmix64(self._seed_key ^ seq) ^ self._edge_keys[edge])  # = mix(seed, seq, edge key)
        delay = self.delays.delay_ms(draw, origin_name, self.edges[edge], self.max_ms)
        nominal = time + min(max(delay, 0), self.max_ms)
        if not self.partitions.ever:
            return nominal
        return self.partitions.connected_from(origin, edge, nominal)

    def admit_write(self, method: str, namespace: str, key: str, origin: int, now: int) -> None:
        """Raise the ``KVError`` that keeps a validated write from happening, if any: a switched-on fault, or
        (with edge caches) an edge cut off from the central store."""
        if self.cache is not None and origin != CENTRAL and self.partitions.is_cut(origin, now):
            raise KVError(method, 503, "Service Unavailable")
        self.faults.admit_write(method, namespace, key, now)

    def everywhere_by(self, version: Version, now: int) -> bool:
        """Whether every edge has received ``version`` by ``now``."""
        if not self.partitions.ever:
            return version.time + self.max_ms <= now
        for edge in range(len(self.edges)):
            at = self.arrival(version, edge)
            if at is None or at > now:
                return False
        return True

    def schedule_collection(self, at: int, namespace: str, key: str) -> None:
        """Look at ``key`` again at ``at``, when something about it may have become garbage."""
        heapq.heappush(self._collect_at, (at, self._next_seq, namespace, key))

    def collect(self, now: int) -> None:
        """Drop the versions that became garbage by ``now``."""
        queue = self._collect_at
        while queue and queue[0][0] <= now:
            _, _, namespace, key = heapq.heappop(queue)
            if not self.namespaces[namespace].compact(key, now):
                self.schedule_collection(now + max(self.max_ms, 1), namespace, key)


@attrs.define
class Keyspace:
    """One namespace: every key's live versions, oldest first."""

    cluster: Cluster
    name: str
    _versions: dict[str, list[Version]] = attrs.field(factory=dict)
    _sorted: list[str] | None = None
    _cached: dict[tuple[int, str], tuple[Version | None, int]] = attrs.field(factory=dict)
    """With edge caches: (edge, key) -> (what the edge cached, when)."""

    def __len__(self) -> int:
        return len(self._versions)

    def version_count(self) -> int:
        """How many versions are held (for tests of garbage collection)."""
        return sum(len(versions) for versions in self._versions.values())

    def write(
        self,
        key: str,
        value: bytes | None,
        *,
        origin: int,
        now: int,
        metadata: str | None = None,
        expiration: int | None = None,
    ) -> Version:
        """Store a new version of ``key`` made at ``origin`` at ``now`` (``value=None`` deletes)."""
        cluster = self.cluster
        version = Version(cluster.new_seq(), now, origin, value, metadata, expiration)
        if cluster.cache is not None:
            return self._write_central(key, version)
        versions = self._versions.get(key)
        if versions is None:
            # Even a delete of a key this namespace never held is kept: a read can then name what it saw.
            self._versions[key] = [version]
            self._sorted = None
            return version
        versions.append(version)
        # Once this version has reached every edge, the ones before it are garbage.
        cluster.schedule_collection(now + cluster.max_ms, self.name, key)
        return version

    def _write_central(self, key: str, version: Version) -> Version:
        # With edge caches the central store keeps only the newest version; each cache holds what it fetched.
        if key not in self._versions:
            self._sorted = None
        self._versions[key] = [version]
        if version.origin != CENTRAL:
            self._cached[version.origin, key] = (version, version.time)
        return version

    def read(
        self, key: str, edge: int | None, now: int, *, cache_ttl: int | None = None, method: str = "GET"
    ) -> Version | None:
        """The newest version of ``key`` that has reached ``edge`` by ``now`` (``edge=None``: the central store,
        which holds every write at once). The version may be a tombstone or expired; ``None`` if nothing has
        arrived. With edge caches, ``cache_ttl`` (seconds) is how old a cached answer may be; a fetch the
        central store cannot answer raises a 503 ``KVError`` for ``method``."""
        if edge is not None and self.cluster.cache is not None:
            return self._read_cached(key, edge, now, cache_ttl, method)
        versions = self._versions.get(key)
        if not versions:
            return None
        if edge is None:
            return versions[-1]
        cluster = self.cluster
        settled = now - cluster.max_ms
        simple = not cluster.partitions.ever
        for version in reversed(versions):
            if version.origin == edge or (simple and version.time <= settled):
                return version
            at = cluster.arrival(version, edge)
            if at is not None and at <= now:
                return version
        return None

    def _read_cached(self, key: str, edge: int, now: int, cache_ttl: int | None, method: str) -> Version | None:
        cluster = self.cluster
        assert cluster.cache is not None
        ttl_ms = (cluster.cache.default_ttl if cache_ttl is None else cache_ttl) * 1000
        entry = self._cached.get((edge, key))
        if entry is not None and now - entry[1] < ttl_ms:
            return entry[0]
        if cluster.faults.central_outage or cluster.partitions.is_cut(edge, now):
            raise KVError(method, 503, "Service Unavailable")
        versions = self._versions.get(key)
        version = versions[-1] if versions else None
        self._cached[edge, key] = (version, now)
        return version

    def list(
        self, edge: int | None, now: int, *, prefix: str, after: str | None, limit: int
    ) -> tuple[list[tuple[str, Version]], bool]:
        """Up to ``limit`` live keys with ``prefix`` after key ``after``, in UTF-8 byte order, as ``edge`` sees
        them at ``now``; and whether that was the last of them."""
        keys = self._sorted
        if keys is None:
            # str order is code-point order, which is the UTF-8 byte order Workers KV lists in.
            keys = self._sorted = sorted(self._versions)
        start = bisect.bisect_left(keys, prefix)
        if after is not None:
            start = max(start, bisect.bisect_right(keys, after))
        unix_ms = self.cluster.epoch_ms + now
        if self.cluster.cache is not None:
            edge = None  # with edge caches, list answers from the central store (only gets are cached)
        found: list[tuple[str, Version]] = []
        for i in range(start, len(keys)):
            key = keys[i]
            if not key.startswith(prefix):
                break
            version = self.read(key, edge, now)
            if version is None or not version.live_at(unix_ms):
                continue
            if len(found) == limit:
                return found, False
            found.append((key, version))
        return found, True

    def compact(self, key: str, now: int) -> bool:
        """Drop the versions no edge can read any more: those older than the newest version every edge has.

        That version stays even when it is a delete or has expired, so a later read can still name the write it
        saw. ``False`` if a partition keeps every version of the key from settling.
        """
        versions = self._versions.get(key)
        if not versions:
            return True
        cluster = self.cluster
        for i in range(len(versions) - 1, -1, -1):
            if cluster.everywhere_by(versions[i], now):
                if i:
                    self._versions[key] = versions[i:]
                return True
        return False

"""The replicated key-value model: every namespace's versions and what each edge sees of them.

Propagation is lazy. A write stores one version (a plain ``Stored`` tuple); whether it has reached edge X by
``now`` is computed when X reads, from the delay model (a pure function of seed, version and edge) and the
partition log. So a write costs the same at 3 edges as at 300, and memory does not grow with the number of edges.
Versions that every edge has received, and that a newer such version hides, are dropped.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import attrs

from ._hash import mix, name_key
from .cache import EdgeCache, EdgeCaches
from .delays import DelayModel
from .faults import Faults
from .partitions import Partitions
from .versions import CENTRAL, ORIGIN, SEQ, TIME, VALUE, Stored, Version, live_at, stored

TIMED_WRITES = 1024
"""How many writes' first hash ``Cluster.arrival_of`` keeps (emptied when full: recent writes are the ones read)."""


class WriteObserver(Protocol):
    """What is told of every change to the stored data, right after it is applied (a server's ``--persist``
    file keeps itself up to date this way; the core does no I/O itself)."""

    def wrote(self, space: Keyspace, key: str, version: Version) -> None:
        """``version`` of ``key`` was just stored in ``space``."""

    def dropped(self, namespace: str) -> None:
        """Namespace ``namespace`` and all its data were just forgotten."""


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
    observer: WriteObserver | None = None
    """Told of every stored version and dropped namespace (``None``: nobody listens)."""
    _seed_key: int = attrs.field(init=False)
    _edge_keys: tuple[int, ...] = attrs.field(init=False)
    _origins: tuple[str | None, ...] = attrs.field(init=False)
    """The names delay models get for origins: every edge's, by index, then ``None`` (at ``CENTRAL``, -1)."""
    _index: dict[str, int] = attrs.field(init=False)
    _timed: dict[int, int] = attrs.field(init=False, factory=dict, eq=False, repr=False)
    """``mix(seed, seq)`` of the writes timed lately, by ``seq`` (at most ``TIMED_WRITES``)."""
    _next_seq: int = attrs.field(init=False, default=1)
    _delay_for: Callable[[int, int, str | None, str, int], int] | None = attrs.field(init=False, default=None)
    _collect_at: list[tuple[int, int, str, str]] = attrs.field(init=False, factory=list)
    _awaiting: set[tuple[str, str]] = attrs.field(init=False, factory=set)
    """The keys with a collection in ``_collect_at``: each key waits there at most once."""

    def __attrs_post_init__(self) -> None:
        # A model may want to know which write it is timing (to name it): then it has `delay_for(seq, ...)`.
        self._delay_for: Callable[[int, int, str | None, str, int], int] | None = getattr(
            self.delays, "delay_for", None
        )
        self._seed_key = mix(self.seed)
        self._edge_keys = tuple(name_key(edge) for edge in self.edges)
        self._origins = (*self.edges, None)
        self._index = {edge: i for i, edge in enumerate(self.edges)}

    def edge_index(self, name: str) -> int:
        """The position of edge ``name``; ``KeyError`` if there is no such edge."""
        return self._index[name]

    def unix_ms(self, now: int) -> int:
        """The simulated UNIX time in milliseconds at virtual time ``now``."""
        return self.epoch_ms + now

    def namespace(self, name: str) -> Keyspace:
        """The keyspace of namespace ``name``, created empty on first use."""
        space = self.namespaces.get(name)
        if space is None:
            caches = None if self.cache is None else EdgeCaches(self.cache)
            space = self.namespaces[name] = Keyspace(self, name, caches=caches)
        return space

    def drop_namespace(self, name: str) -> None:
        """Forget namespace ``name`` and all its data (its pending collections are skipped)."""
        self.namespaces.pop(name, None)
        if self.observer is not None:
            self.observer.dropped(name)

    @property
    def next_seq(self) -> int:
        """The number the next write will get."""
        return self._next_seq

    def restore(self, next_seq: int, held: Iterable[tuple[str, str, Sequence[Stored]]]) -> None:
        """Take back the data an earlier run kept (a restarted server's): each ``(namespace, key, versions)``
        with the versions oldest first, and the next write's number. Before any write of this run; the versions
        become garbage, and arrive at the edges, exactly as they would have in the earlier run."""
        if next_seq < self._next_seq:
            raise ValueError(f"next_seq must be at least {self._next_seq}, got {next_seq}")
        self._next_seq = next_seq
        for namespace, key, versions in held:
            if versions:
                self.namespace(namespace).restore(key, versions)

    def new_seq(self) -> int:
        """Allocate the next write number."""
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def arrival(self, version: Stored, edge: int) -> int | None:
        """When ``version`` (stored, or a ``Version``) reaches ``edge``; ``None`` while a partition still holds it
        back."""
        return self.arrival_of(version[SEQ], version[TIME], version[ORIGIN], edge)

    def arrival_of(self, seq: int, time: int, origin: int, edge: int) -> int | None:
        """When write number ``seq``, made at ``time`` at ``origin``, reaches ``edge`` (``None``: held back by a
        partition that has not healed yet). Needs no stored version, so it also explains collected writes."""
        if origin == edge:
            return time
        # The draw is mix(seed, seq, edge key): its first part, the same at every edge, is kept for the next edge
        # that times this write (a write on its way is timed by every edge that reads its key meanwhile).
        timed = self._timed
        first = timed.get(seq)
        if first is None:
            if len(timed) >= TIMED_WRITES:
                timed.clear()
            first = timed[seq] = mix(self._seed_key ^ seq)
        draw = mix(first ^ self._edge_keys[edge])
        max_ms = self.max_ms
        if self._delay_for is not None:
            delay = self._delay_for(seq, draw, self._origins[origin], self.edges[edge], max_ms)
        else:
            delay = self.delays.delay_ms(draw, self._origins[origin], self.edges[edge], max_ms)
        if delay < 0:
            delay = 0
        elif delay > max_ms:
            delay = max_ms
        partitions = self.partitions
        if partitions.split_since is None and time >= partitions.whole_since:
            return time + delay  # Partitions.arrival's first answer, without its call: no partition since the write
        return partitions.arrival(origin, edge, time, time + delay)

    def cut_off(self, origin: int, now: int) -> bool:
        """Whether a write at ``origin`` cannot reach the central store at ``now`` (only the edge-cache model
        writes through the central store; under push propagation a cut-off edge writes locally)."""
        return self.cache is not None and origin != CENTRAL and self.partitions.is_cut(origin, now)

    def everywhere_before(self, version: Stored, now: int) -> bool | None:
        """Whether every edge had received ``version`` before ``now``; ``None`` while a partition is open and the
        answer would take a look at every edge (collection waits for the heal rather than pay that).

        Strictly before: only an arrival in the past is final, since a partition started at ``now`` holds back
        what would arrive at ``now``."""
        if version[TIME] <= self.partitions.settled_by(now - 1, self.max_ms):
            return True
        if self.partitions.split_since is not None:
            return None
        return False

    def schedule_collection(self, at: int, namespace: str, key: str) -> None:
        """Look at ``key`` at ``at``, when something about it may have become garbage (unless it is already
        waiting to be looked at: it is then looked at until nothing is left to collect)."""
        slot = (namespace, key)
        if slot not in self._awaiting:
            self._awaiting.add(slot)
            heapq.heappush(self._collect_at, (at, self._next_seq, namespace, key))

    def collect(self, now: int) -> int:
        """Drop the versions that became garbage by ``now``; return how many keys were looked at (the work)."""
        queue = self._collect_at
        work = 0
        while queue and queue[0][0] <= now:
            _, _, namespace, key = heapq.heappop(queue)
            space = self.namespaces.get(namespace)
            work += 1
            again = None if space is None else space.compact(key, now)
            if again is None:
                self._awaiting.discard((namespace, key))
            else:
                heapq.heappush(queue, (again, self._next_seq, namespace, key))
        return work


@attrs.define
class Keyspace:
    """One namespace: every key's live versions, oldest first (under the edge-cache model: the central store's
    newest version of each key, and the edges' caches). It holds them as ``Stored`` tuples, which ``find``,
    ``list`` and ``write`` hand on as they are (the store's hot paths); ``read`` and ``versions`` hand out
    ``Version`` objects, and the write observer is told of one."""

    cluster: Cluster
    name: str
    caches: EdgeCaches | None = attrs.field(default=None, kw_only=True)
    _versions: dict[str, Stored | list[Stored]] = attrs.field(factory=dict)
    """Each key's versions, oldest first; a key with one version (most keys, most of the time) holds it alone,
    without a list, which saves a list's memory per key."""
    _sorted: list[str] | None = None
    """The keys of ``_versions`` in order, for ``list``: built at the first list, then kept up to date."""
    _retired: dict[str, Stored] = attrs.field(factory=dict)
    """Keys whose last version is a delete that every edge has: out of ``_versions`` and the list index, so that
    listing never walks past them, and kept only so that a read can still name the delete it saw."""

    def __len__(self) -> int:
        return len(self._versions)

    def keys(self) -> list[str]:
        """The keys with versions held, in no particular order (a delete every edge has is not among them)."""
        return list(self._versions)

    def versions(self, key: str) -> list[Version]:
        """The versions of ``key`` held, oldest (last-writer-wins order) first."""
        return [tuple.__new__(Version, version) for version in self.held(key)]

    def held(self, key: str) -> Sequence[Stored]:
        """``versions`` as the keyspace holds them (``Stored`` tuples), without a ``Version`` made for each: for a
        caller that looks at every read's versions (``run_load``)."""
        entry = self._versions.get(key)
        if entry is None:
            retired = self._retired.get(key)
            return () if retired is None else (retired,)
        return entry if isinstance(entry, list) else (entry,)

    def version_count(self) -> int:
        """How many versions are held (for tests of garbage collection)."""
        held = sum(len(entry) if isinstance(entry, list) else 1 for entry in self._versions.values())
        return held + len(self._retired)

    def write(
        self,
        key: str,
        value: bytes | None,
        origin: int,
        now: int,
        metadata: str | None = None,
        expiration: int | None = None,
    ) -> Stored:
        """Store a new version of ``key`` made at ``origin`` at ``now`` (``value=None`` deletes); return it as
        held (a ``Version`` is made only for an observer)."""
        cluster = self.cluster
        seq = cluster._next_seq  # new_seq(), without a call on every write
        cluster._next_seq = seq + 1
        version: Stored = (seq, now, origin, value, metadata, expiration)
        held = self._versions
        entry = held.get(key)
        if entry is None and key in self._retired:
            entry = held[key] = self._retired.pop(key)  # back in the index, with its settled delete
            self._index_add(key)
        if entry is None:
            # Even a delete of a key this namespace never held is kept: a read can then name what it saw.
            held[key] = version
            if self._sorted is not None:
                self._index_add(key)
            if value is None and self.caches is None:
                cluster.schedule_collection(now + cluster.max_ms + 1, self.name, key)  # to retire it
        elif self.caches is not None:
            held[key] = version  # the central store keeps the newest version only; caches hold the rest
        else:
            if isinstance(entry, list):
                entry.append(version)
            else:
                held[key] = [entry, version]
            # Once this version has reached every edge, the ones before it are garbage.
            cluster.schedule_collection(now + cluster.max_ms + 1, self.name, key)
        if self.caches is not None:
            self.caches.wrote(key, version)
        if cluster.observer is not None:
            cluster.observer.wrote(self, key, tuple.__new__(Version, version))
        return version

    def restore(self, key: str, versions: Sequence[Stored]) -> None:
        """Hold ``versions`` (oldest first, ``Version`` objects or stored tuples) of ``key``, kept by an earlier
        run, and look at them for collection when the newest has reached every edge."""
        cluster = self.cluster
        newest = stored(versions[-1])
        self._versions[key] = (
            newest if len(versions) == 1 or self.caches is not None else [stored(version) for version in versions]
        )
        self._index_add(key)
        if len(versions) > 1 or (newest[VALUE] is None and self.caches is None):
            cluster.schedule_collection(newest[TIME] + cluster.max_ms + 1, self.name, key)

    def read(
        self, key: str, edge: int | None, now: int, cache_ttl: int | None = None, method: str = "GET"
    ) -> Version | None:
        """The newest version of ``key`` that has reached ``edge`` by ``now`` (``edge=None``: the central store,
        which holds every write at once). The version may be a tombstone or expired; ``None`` if nothing has
        arrived. With edge caches, ``cache_ttl`` (seconds) is how old a cached answer may be; a fetch the
        central store cannot answer raises a 503 ``KVError`` for ``method``."""
        found = self.find(key, edge, now, cache_ttl, method)
        return None if found is None else tuple.__new__(Version, found)

    def find(
        self, key: str, edge: int | None, now: int, cache_ttl: int | None = None, method: str = "GET"
    ) -> Stored | None:
        """``read``'s answer as the keyspace holds it: a ``Stored`` tuple, for callers that look at its fields and
        hand out a ``Version`` only when they return it (the store)."""
        entry = self._versions.get(key)
        if self.caches is not None and edge is not None:
            cluster = self.cluster
            central = entry[-1] if isinstance(entry, list) else entry
            return self.caches.read(
                key,
                edge,
                now,
                cache_ttl,
                central,
                outage=cluster.faults.central_outage,
                partitions=cluster.partitions,
                method=method,
            )
        if entry is None:
            return self._retired.get(key)  # a settled delete has reached every edge, or nothing was written
        if isinstance(entry, list):
            if edge is None:
                return entry[-1]
            held: Iterable[Stored] = reversed(entry)
        elif edge is None or entry[ORIGIN] == edge:
            return entry  # a key's only version, read where it was made (or centrally): there at once
        else:
            held = (entry,)
        cluster = self.cluster
        settled = cluster.partitions.settled_by(now, cluster.max_ms)
        for version in held:
            if version[ORIGIN] == edge or version[TIME] <= settled:
                return version
            at = cluster.arrival_of(version[SEQ], version[TIME], version[ORIGIN], edge)
            if at is not None and at <= now:
                return version
        return None

    def list(
        self, edge: int | None, now: int, *, prefix: str, after: str | None, limit: int
    ) -> tuple[list[tuple[str, Stored]], bool]:
        """Up to ``limit`` live keys with ``prefix`` after key ``after``, in UTF-8 byte order, as ``edge`` sees
        them at ``now``, each with its version as held; and whether that was the last of them."""
        keys = self._sorted
        if keys is None:
            # str order is code-point order, which is the UTF-8 byte order Workers KV lists in.
            keys = self._sorted = sorted(self._versions)
        start = bisect.bisect_left(keys, prefix)
        if after is not None:
            start = max(start, bisect.bisect_right(keys, after))
        unix_ms = self.cluster.unix_ms(now)
        if self.caches is not None:
            edge = None  # with edge caches, list answers from the central store (only gets are cached)
        found: list[tuple[str, Stored]] = []
        for i in range(start, len(keys)):
            key = keys[i]
            if not key.startswith(prefix):
                break
            version = self.find(key, edge, now)
            if version is None or not live_at(version, unix_ms):
                continue
            if len(found) == limit:
                return found, False
            found.append((key, version))
        return found, True

    def compact(self, key: str, now: int) -> int | None:
        """Drop the versions no edge can read any more: those older than the newest version every edge has.

        That version stays even when it is a delete or has expired, so a later read can still name the write it
        saw; a delete every edge has is retired from the list index. Returns when to look at the key again (its
        newest version is still on its way, or a partition is open), or ``None`` when nothing is left to do.
        """
        entry = self._versions.get(key)
        if entry is None or (not isinstance(entry, list) and entry[VALUE] is not None):
            return None
        versions = entry if isinstance(entry, list) else [entry]
        cluster = self.cluster
        newest = versions[-1]
        retry = max(now, newest[TIME] + cluster.max_ms) + 1
        for i in range(len(versions) - 1, -1, -1):
            settled = cluster.everywhere_before(versions[i], now)
            if settled is None:
                return now + cluster.max_ms + 1  # a partition is open: look again later, not at every edge now
            if settled:
                if i == len(versions) - 1 and newest[VALUE] is None and self.caches is None:
                    self._retire(key, newest)
                elif i:
                    self._versions[key] = versions[i] if i == len(versions) - 1 else versions[i:]
                return None if i == len(versions) - 1 else retry
        return retry

    def _retire(self, key: str, tombstone: Stored) -> None:
        del self._versions[key]
        self._retired[key] = tombstone
        keys = self._sorted
        if keys is not None:
            del keys[bisect.bisect_left(keys, key)]

    def _index_add(self, key: str) -> None:
        if self._sorted is not None:
            bisect.insort(self._sorted, key)

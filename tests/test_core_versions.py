"""Versions: held by the replica model as plain tuples the garbage collector lets go of, handed out as ``Version``
named tuples."""

from __future__ import annotations

import gc

import pytest

from workersim.core import EdgeCache
from workersim.core.delays import FixedDelay
from workersim.core.replicas import Cluster, Keyspace
from workersim.core.versions import CENTRAL, EXPIRATION, METADATA, ORIGIN, SEQ, TIME, VALUE, Version, stored

KEYS = 1_000


@pytest.mark.parametrize("cache", [False, True], ids=["push", "edge-cache"])
def test_stored_versions_are_not_tracked_by_the_garbage_collector(cache: bool) -> None:
    # What holding tuples is for: every object the collector tracks is walked by every full collection for as long
    # as it lives, and a namespace keeps one version a key for the whole run.
    cluster = Cluster(
        edges=("A", "B", "C"),
        seed=1,
        delays=FixedDelay(0.5),
        max_ms=1_000,
        epoch_ms=0,
        cache=EdgeCache() if cache else None,
    )
    space = cluster.namespace("NS")
    for i in range(KEYS):
        space.write(f"k{i}", b"v", origin=i % 3, now=1)
        space.write(f"k{i}", b"w", origin=CENTRAL, now=2, metadata='{"a":1}', expiration=10**10)
        if i % 10 == 0:
            space.write(f"k{i}", None, origin=1, now=3)
    cluster.collect(10_000)  # older versions dropped, deletes retired
    for i in range(0, KEYS, 2):
        space.write(f"k{i}", b"x", origin=0, now=10_001)  # two versions again
        space.read(f"k{i}", 2, 10_001)  # under the edge-cache model, edge 2 caches what it fetched
    held = _held(space)
    assert len(held) >= KEYS
    gc.collect()
    assert not [version for version in held if gc.is_tracked(version)]


def _held(space: Keyspace) -> list[object]:
    """Every version ``space`` holds, read from its private fields: what it holds is what this is about."""
    held: list[object] = []
    for entry in [*space._versions.values(), *space._retired.values()]:
        held.extend(entry if isinstance(entry, list) else [entry])
    if space.caches is not None:
        held.extend(version for version, _ in space.caches._cached.values() if version is not None)
    return held


def test_a_version_is_a_named_tuple_of_its_fields() -> None:
    version = Version(7, 1_500, 2, b"v", '{"a":1}', 10)
    fields = (version[SEQ], version[TIME], version[ORIGIN], version[VALUE], version[METADATA], version[EXPIRATION])
    assert fields == (version.seq, version.time, version.origin, version.value, version.metadata, version.expiration)
    assert version._replace(value=None) == (7, 1_500, 2, None, '{"a":1}', 10)
    assert type(stored(version)) is tuple and stored(version) == version
    assert version.live_at(9_999) and not version.live_at(10_000)
    assert not version._replace(value=None).live_at(0)
    assert version._replace(expiration=None).live_at(10**15)
    assert Version(1, 0, CENTRAL, None) == (1, 0, CENTRAL, None, None, None)
    assert version == (7, 1_500, 2, b"v", '{"a":1}', 10)  # last: mypy takes the comparison as a narrowing


def test_the_model_hands_out_versions() -> None:
    cluster = Cluster(edges=("A", "B"), seed=1, delays=FixedDelay(0.5), max_ms=1_000, epoch_ms=0)
    space = cluster.namespace("NS")
    written = space.write("k", b"v", origin=0, now=5, metadata="1")
    # A write returns the tuple it stored (the store's put hands it on): no Version made for it.
    assert type(written) is tuple and written == (1, 5, 0, b"v", "1", None)
    read = space.read("k", 0, 5)
    assert type(read) is Version and read == written
    assert space.read("k", 1, 5) is None  # not there yet
    assert type(space.find("k", 0, 5)) is tuple and space.find("k", 0, 5) == written
    [(name, listed)] = space.list(0, 5, prefix="", after=None, limit=10)[0]
    assert name == "k" and type(listed) is tuple and listed == written  # a list page's versions as held
    assert [type(version) for version in space.versions("k")] == [Version]

"""The core's seam for ``--persist``: the write observer sees every stored version and dropped namespace, and a
cluster restored from what an earlier cluster held answers every read, at every edge and every later instant,
as the earlier one would have, and keeps numbering writes after it."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from workersim.core import History, Limits, Store
from workersim.core.delays import UniformDelay
from workersim.core.replicas import Cluster, Keyspace
from workersim.core.versions import CENTRAL, SEQ, Version

EDGES = ("SFO", "LHR", "NRT")
MAX_MS = 2_000


def store() -> Store:
    cluster = Cluster(edges=EDGES, seed=11, delays=UniformDelay(0.1, 2.0), max_ms=MAX_MS, epoch_ms=0)
    return Store(cluster, Limits(), History())


writes = st.lists(
    st.tuples(
        st.integers(0, 300),  # milliseconds since the previous write
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from([CENTRAL, 0, 1, 2]),
        st.one_of(st.none(), st.binary(max_size=3)),  # None: a delete
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(writes)
def test_a_restored_cluster_reads_as_the_original_would_have(planned: list[tuple[int, str, int, bytes | None]]) -> None:
    original, told = store(), []

    class Observer:
        def wrote(self, space: Keyspace, key: str, version: Version) -> None:
            told.append((space.name, key, version.seq))

        def dropped(self, namespace: str) -> None:
            told.append((namespace, "", -1))

    original.cluster.observer = Observer()
    now = 0
    for gap, key, origin, value in planned:
        now += gap
        original.cluster.collect(now)
        if value is None:
            original.delete(now, "NS", key, origin)
        else:
            original.put(now, "NS", key, value, origin)
    # The observer heard of every write, in order, with the numbers the history gives them.
    assert told == [("NS", row.key, row.version) for row in original.history.rows]

    space = original.cluster.namespaces.get("NS")
    # What the earlier cluster held of every key written, a retired delete included (``keys()`` leaves those out;
    # the state file keeps them, as it keeps every version until a newer one has reached every edge).
    held = [] if space is None else [("NS", key, space.versions(key)) for key in ("a", "b", "c")]
    restored = store()
    restored.cluster.restore(original.cluster.next_seq, held)
    for later in range(now, now + MAX_MS + 500, 50):
        original.cluster.collect(later)
        restored.cluster.collect(later)
        for key in ("a", "b", "c"):
            for edge in (None, 0, 1, 2):
                expected = None if space is None else space.read(key, edge, later)
                got = restored.cluster.namespace("NS").read(key, edge, later)
                assert got == expected, (key, edge, later)
    # Writes after the restore go on numbering from where the original stopped.
    assert restored.put(now + 5_000, "NS", "d", b"x", 0)[SEQ] == original.cluster.next_seq


def test_the_observer_hears_of_a_dropped_namespace() -> None:
    kv = store()
    heard: list[str] = []

    class Observer:
        def wrote(self, space: Keyspace, key: str, version: Version) -> None:
            heard.append(f"wrote {space.name}/{key}")

        def dropped(self, namespace: str) -> None:
            heard.append(f"dropped {namespace}")

    kv.cluster.observer = Observer()
    kv.put(0, "NS", "k", b"v", CENTRAL)
    kv.cluster.drop_namespace("NS")
    assert heard == ["wrote NS/k", "dropped NS"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 500), st.booleans(), st.lists(st.sampled_from([0, 1, 2]), min_size=1, max_size=2)),
        max_size=8,
    ),
    st.integers(0, 3_000),
)
def test_partitions_restored_from_a_snapshot_give_the_same_arrivals(
    events: list[tuple[int, bool, list[int]]], probe: int
) -> None:
    original = store().cluster
    now = 0
    for gap, heal, edges in events:
        now += gap
        if heal:
            original.partitions.heal(edges, now)
        else:
            original.partitions.partition(edges, now)
    snapshot = original.partitions.snapshot()
    restored = store().cluster
    restored.partitions = type(original.partitions).from_snapshot(json.loads(json.dumps(snapshot)))
    # The snapshot is a copy: changing the partitions afterwards does not change it.
    original.partitions.partition([0], now + 1)
    original.partitions.heal([0], now + 1)
    assert restored.partitions.snapshot() == snapshot
    restored.partitions.partition([0], now + 1)
    restored.partitions.heal([0], now + 1)
    for seq, time in ((1, probe), (2, now), (3, max(0, now - 100))):
        for origin in (CENTRAL, 0, 1, 2):
            for edge in (0, 1, 2):
                assert restored.arrival_of(seq, time, origin, edge) == original.arrival_of(seq, time, origin, edge)
    for edge in (0, 1, 2):
        assert restored.partitions.is_cut(edge, now + 2) == original.partitions.is_cut(edge, now + 2)

"""Work after a healed partition stays flat in the number of edges: counted in calls, not timed.

Before the fix, any partition (even one long healed) made every later collection look at every edge and every
read of settled data compute an arrival; at 300 edges overwrites ran at a few percent of their speed at 3 edges.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from workersim.core import History, Limits, Store
from workersim.core.delays import FixedDelay
from workersim.core.partitions import Partitions
from workersim.core.replicas import Cluster

MAX_MS = 1_000


def store(edges: int) -> Store:
    names = tuple(f"E{i:03d}" for i in range(edges))
    cluster = Cluster(edges=names, seed=5, delays=FixedDelay(0.5), max_ms=MAX_MS, epoch_ms=0)
    return Store(cluster, Limits(), History())


def counting(monkeypatch: pytest.MonkeyPatch, counts: Counter[str], owner: type, name: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts[name] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)


def workload(kv: Store, *, partition: bool) -> tuple[Counter[str], int]:
    """Overwrites of a few keys and reads at a far edge, for 20 virtual seconds after an (optional) healed
    partition of edge 1; returns the work counted and the versions still held at the end."""
    far = len(kv.cluster.edges) - 1
    if partition:
        kv.cluster.partitions.partition([1], 0)
        kv.put(100, "NS", "held", b"x", origin=1)  # held back until the heal
        kv.cluster.partitions.heal([1], 2_000)
    counts: Counter[str] = Counter()
    for step in range(400):
        now = 3_000 + step * 50
        counts["collected"] += kv.cluster.collect(now)
        kv.put(now, "NS", f"k{step % 4}", b"v%d" % step, origin=0)
        kv.get(now, "NS", f"k{(step + 1) % 4}", edge=far)
    kv.cluster.collect(3_000 + 400 * 50 + MAX_MS)
    return counts, kv.cluster.namespace("NS").version_count()


@pytest.mark.parametrize("partition", [False, True], ids=["never-partitioned", "after-a-heal"])
def test_work_after_a_heal_does_not_grow_with_edges(monkeypatch: pytest.MonkeyPatch, partition: bool) -> None:
    results = {}
    for edges in (3, 300):
        counts: Counter[str] = Counter()
        for owner, name in ((Cluster, "arrival_of"), (Partitions, "connected_from"), (Partitions, "is_cut")):
            counting(monkeypatch, counts, owner, name)
        work, held = workload(store(edges), partition=partition)
        monkeypatch.undo()
        results[edges] = (counts + work, held)
    assert results[3] == results[300]
    counts, held = results[300]
    # A key is overwritten every 200 ms and a write takes 500 ms to arrive: a read works out the arrival of the
    # key's two writes still in flight and of the newest one that has arrived; anything older is not looked at.
    assert counts["arrival_of"] <= 3 * 400
    assert counts["connected_from"] == 0  # no partition is open and none of this data is older than the heal
    assert counts["collected"] <= 400
    assert held == 4 + partition  # each key's newest version (and the held write), the rest collected


def test_while_a_partition_is_open_collection_waits_instead_of_scanning_edges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counts: Counter[str] = Counter()
    counting(monkeypatch, counts, Cluster, "arrival_of")
    kv = store(300)
    kv.cluster.partitions.partition([1], 0)
    for step in range(50):
        now = 10 + step * MAX_MS
        kv.cluster.collect(now)
        kv.put(now, "NS", "k", b"%d" % step, origin=0)
    assert counts["arrival_of"] == 0  # nothing read, and collection never asked every edge
    kv.cluster.partitions.heal([1], 60_000)
    kv.cluster.collect(60_000 + MAX_MS)
    assert kv.cluster.namespace("NS").version_count() == 1
    assert kv.get(61_000, "NS", "k", edge=1) is not None  # the held write landed at the heal


def test_a_list_past_many_settled_deletes_looks_at_live_keys_only(monkeypatch: pytest.MonkeyPatch) -> None:
    kv = store(3)
    for i in range(20_000):
        kv.put(0, "NS", f"gone-{i:05d}", b"x", origin=0)
    for i in range(20_000):
        kv.delete(10, "NS", f"gone-{i:05d}", origin=1)
    kv.put(10, "NS", "kept", b"y", origin=0)
    kv.cluster.collect(10 + MAX_MS + 1)  # every delete has reached every edge: the deleted keys retire
    space = kv.cluster.namespace("NS")
    counts: Counter[str] = Counter()
    counting(monkeypatch, counts, type(space), "find")
    found, complete = space.list(2, 5_000, prefix="", after=None, limit=1)
    assert ([name for name, _ in found], complete) == (["kept"], True)
    assert counts["find"] == 1  # not 20,001
    # A retired key still reads as its delete (a read can name what it saw), and a new write brings it back.
    assert kv.get(6_000, "NS", "gone-00007", edge=2) is None
    assert space.versions("gone-00007")[0].value is None
    kv.put(6_000, "NS", "gone-00007", b"back", origin=0)
    assert [name for name, _ in space.list(0, 6_000, prefix="gone-", after=None, limit=10)[0]] == ["gone-00007"]

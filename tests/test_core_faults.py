"""Faults switched on and off while a store runs: every write after the switch meets them, and none before.

The store leaves admission out while no fault is on (``Faults.engaged``), so these check that the switches keep
that flag true however they are set.
"""

from __future__ import annotations

import pytest

from workersim.core import FixedDelay, History, KVError, KVRejected, Limits, Store
from workersim.core.faults import SWITCHES, Faults
from workersim.core.replicas import Cluster


def store() -> Store:
    cluster = Cluster(edges=("A", "B"), seed=1, delays=FixedDelay(0.5), max_ms=1_000, epoch_ms=0)
    return Store(cluster, Limits(), History())


@pytest.mark.parametrize("on", [(), ("write_rate_limit",), ("central_outage",), SWITCHES])
def test_engaged_says_whether_any_switch_is_on_however_they_were_set(on: tuple[str, ...]) -> None:
    made = Faults(**dict.fromkeys(on, True))
    assert made.engaged == bool(on)
    switched = Faults()
    for name in on:
        setattr(switched, name, True)
    assert switched.engaged == bool(on)
    for name in on:
        setattr(switched, name, False)
    assert not switched.engaged


def test_an_outage_switched_on_mid_run_refuses_the_next_write_and_off_lets_the_one_after_through() -> None:
    kv = store()
    kv.put(0, "NS", "k", b"1", 0)
    kv.cluster.faults.central_outage = True
    with pytest.raises(KVError, match="KV PUT failed: 503 Service Unavailable"):
        kv.put(10, "NS", "k", b"2", 0)
    refused = kv.history[-1]
    assert isinstance(refused, KVRejected) and refused.target == "k"
    kv.cluster.faults.central_outage = False
    kv.put(20, "NS", "k", b"3", 0)
    assert [version.value for version in kv.cluster.namespace("NS").versions("k")] == [b"1", b"3"]


def test_the_rate_limit_counts_only_writes_made_while_it_is_on() -> None:
    kv = store()
    kv.put(0, "NS", "k", b"1", 0)  # made with the limit off: not counted
    kv.cluster.faults.write_rate_limit = True
    kv.put(10, "NS", "k", b"2", 0)
    with pytest.raises(KVError, match="429 Too Many Requests"):
        kv.put(20, "NS", "k", b"3", 1)
    kv.cluster.faults.write_rate_limit = False
    kv.put(30, "NS", "k", b"4", 1)

"""The partition log: who can reach whom, and when held writes land."""

from __future__ import annotations

from workersim.core import CENTRAL, Partitions


def test_no_partition_means_always_connected() -> None:
    log = Partitions()
    assert not log.ever
    assert log.connected_from(0, 1, 500) == 500


def test_a_cut_edge_is_reached_again_at_the_heal() -> None:
    log = Partitions()
    log.partition([1], 1000)
    assert log.ever and log.is_cut(1, 1000) and not log.is_cut(1, 999)
    assert log.connected_from(0, 1, 999) == 999
    assert log.connected_from(0, 1, 1500) is None  # still apart as far as the log knows
    assert log.connected_from(1, CENTRAL, 1500) is None
    log.heal([1], 4000)
    assert log.connected_from(0, 1, 1500) == 4000
    assert log.connected_from(1, 0, 4000) == 4000


def test_edges_cut_off_together_reach_each_other() -> None:
    log = Partitions()
    log.partition([1, 2], 0)
    assert log.connected_from(1, 2, 10) == 10
    assert log.connected_from(0, 2, 10) is None


def test_repartitioning_at_the_same_instant_replaces_the_change() -> None:
    log = Partitions()
    log.partition([1], 100)
    log.heal([1], 100)
    assert not log.is_cut(1, 100)

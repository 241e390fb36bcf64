"""The partition log: who can reach whom, and when held writes land."""

from __future__ import annotations

from workersim.core import CENTRAL, Partitions


def test_no_partition_means_always_connected() -> None:
    log = Partitions()
    assert log.split_since is None and log.whole_since == 0
    assert log.connected_from(0, 1, 500) == 500
    assert log.settled_by(5000, 1000) == 4000


def test_a_cut_edge_is_reached_again_at_the_heal() -> None:
    log = Partitions()
    log.partition([1], 1000)
    assert log.split_since == 1000 and log.is_cut(1, 1000) and not log.is_cut(1, 999)
    assert log.settled_by(3000, 100) == 899  # while split, only what arrived everywhere before the split
    assert log.connected_from(0, 1, 999) == 999
    assert log.connected_from(0, 1, 1500) is None  # still apart as far as the log knows
    assert log.connected_from(1, CENTRAL, 1500) is None
    log.heal([1], 4000)
    assert log.split_since is None and log.whole_since == 4000
    assert log.settled_by(4500, 100) == 4400  # what was held landed at the heal
    assert log.arrival(0, 1, 1200, 1300) == 4000  # made while split: held until the heal
    assert log.arrival(0, 1, 4100, 4200) == 4200  # made after the heal: as if no partition ever happened
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


def test_a_heal_and_a_partition_at_one_instant_leave_the_split_going_on() -> None:
    # The log keeps only the partition at that instant, so the cluster was never whole: nothing settles across.
    log = Partitions()
    log.partition([0], 0)
    log.heal([0], 3001)
    log.partition([0], 3001)
    assert log.split_since == 0
    assert log.connected_from(CENTRAL, 0, 0) is None
    assert log.settled_by(3001, 3000) < 0

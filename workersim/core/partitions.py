"""Network partitions as a log of group changes over virtual time.

Each edge belongs to one group at a time; group 0 is the connected majority (and, under the edge-cache model, the
central store: an edge outside it cannot reach the store). Two edges exchange writes exactly when they are in the
same group. Under push propagation the central store holds every write at once, wherever it was made. Because
the log only ever grows at the present, an arrival time computed from it never changes once it lies in the past.

Besides the log, the partitions know whether some edge is cut off right now and since when the cluster has been
whole, so that the hot paths (reads of settled data, garbage collection) never look at the log, or at every
edge, once every partition has healed.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

import attrs

from .versions import CENTRAL

MAIN_GROUP = 0


@attrs.define
class Partitions:
    """Which edges were cut off from which, and when."""

    _times: dict[int, list[int]] = attrs.field(factory=dict)
    _groups: dict[int, list[int]] = attrs.field(factory=dict)
    _next_group: int = 1
    _cut: set[int] = attrs.field(factory=set)
    """The edges outside the main group right now."""
    split_since: int | None = None
    """While any edge is cut off: when the cluster last went from whole to split; ``None`` while it is whole."""
    whole_since: int = 0
    """When the cluster last became whole again (0 if it never split): writes made since then propagate as if
    no partition had ever happened, as long as ``split_since`` is ``None``."""
    _split_before: int | None = None
    """``split_since`` of the split that the last heal ended (a partition at the heal's instant undoes the heal)."""

    def snapshot(self) -> dict[str, Any]:
        """The log and what is known from it, as JSON data (a server's ``--persist`` file keeps it)."""
        return {
            "times": {str(edge): list(times) for edge, times in self._times.items()},
            "groups": {str(edge): list(groups) for edge, groups in self._groups.items()},
            "next_group": self._next_group,
            "cut": sorted(self._cut),
            "split_since": self.split_since,
            "whole_since": self.whole_since,
            "split_before": self._split_before,
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Partitions:
        """The partitions a ``snapshot`` describes."""
        return cls(
            times={int(edge): list(times) for edge, times in data["times"].items()},
            groups={int(edge): list(groups) for edge, groups in data["groups"].items()},
            next_group=data["next_group"],
            cut=set(data["cut"]),
            split_since=data["split_since"],
            whole_since=data["whole_since"],
            split_before=data["split_before"],
        )

    def partition(self, edges: Iterable[int], now: int) -> None:
        """From ``now`` on, cut ``edges`` off from everyone else (they still reach each other)."""
        group = self._next_group
        self._next_group += 1
        self._move(edges, group, now)

    def heal(self, edges: Iterable[int], now: int) -> None:
        """From ``now`` on, join ``edges`` to the main group again."""
        self._move(edges, MAIN_GROUP, now)

    def is_cut(self, edge: int, at: int) -> bool:
        """Whether ``edge`` is outside the main group at ``at``."""
        return self._group(edge, at) != MAIN_GROUP

    def settled_by(self, now: int, max_ms: int) -> int:
        """The latest write time ``t`` such that every write made at or before ``t`` has reached every edge by
        ``now``. While the cluster is whole that is ``now - max_ms``: anything held back by an earlier partition
        landed when it healed, at or before ``now``. While it is split, the writes that arrived everywhere before
        the split began are still settled (one due at the split's very instant is held: a partition is in force
        from its first millisecond)."""
        if self.split_since is None:
            return now - max_ms
        return min(now, self.split_since - 1) - max_ms

    def _move(self, edges: Iterable[int], group: int, now: int) -> None:
        was_split = bool(self._cut)
        for edge in edges:
            times = self._times.setdefault(edge, [])
            groups = self._groups.setdefault(edge, [])
            if times and times[-1] == now:
                groups[-1] = group
            else:
                times.append(now)
                groups.append(group)
            if group == MAIN_GROUP:
                self._cut.discard(edge)
            else:
                self._cut.add(edge)
        if self._cut and not was_split:
            # A heal and a partition at one instant: the log keeps only the partition, so the split goes on.
            undone = self.whole_since == now and self._split_before is not None
            self.split_since = self._split_before if undone else now
        elif was_split and not self._cut:
            self._split_before = self.split_since
            self.split_since = None
            self.whole_since = now

    def _group(self, edge: int, at: int) -> int:
        if edge == CENTRAL:
            return MAIN_GROUP
        times = self._times.get(edge)
        if not times:
            return MAIN_GROUP
        i = bisect.bisect_right(times, at)
        return self._groups[edge][i - 1] if i else MAIN_GROUP

    def connected_from(self, origin: int, destination: int, at: int) -> int | None:
        """The first time ``>= at`` at which ``origin`` and ``destination`` are in one group, as far as the log
        knows; ``None`` while they are still apart."""
        if self._group(origin, at) == self._group(destination, at):
            return at
        changes: list[int] = []
        for edge in (origin, destination):
            times = self._times.get(edge, [])
            changes.extend(times[bisect.bisect_right(times, at) :])
        for t in sorted(changes):
            if self._group(origin, t) == self._group(destination, t):
                return t
        return None

    def arrival(self, origin: int, destination: int, time: int, nominal: int) -> int | None:
        """When a write made at ``origin`` at ``time`` that would reach ``destination`` at ``nominal`` without
        partitions really reaches it (``None``: still held back)."""
        if self.split_since is None and time >= self.whole_since:
            return nominal  # no partition event after the write: the log cannot change anything
        return self.connected_from(origin, destination, nominal)

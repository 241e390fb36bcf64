"""Network partitions as a log of group changes over virtual time.

Each edge belongs to one group at a time; group 0 is the connected majority (and the central store). Two places
can exchange writes exactly when they are in the same group. Because the log only ever grows at the present, an
arrival time computed from it never changes once it lies in the past.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import attrs

from .versions import CENTRAL

MAIN_GROUP = 0


@attrs.define
class Partitions:
    """Which edges were cut off from which, and when."""

    _times: dict[int, list[int]] = attrs.field(factory=dict)
    _groups: dict[int, list[int]] = attrs.field(factory=dict)
    _next_group: int = 1

    @property
    def ever(self) -> bool:
        """Whether any partition has ever started (when not, every arrival is simply write time + delay)."""
        return bool(self._times)

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

    def _move(self, edges: Iterable[int], group: int, now: int) -> None:
        for edge in edges:
            times = self._times.setdefault(edge, [])
            groups = self._groups.setdefault(edge, [])
            if times and times[-1] == now:
                groups[-1] = group
            else:
                times.append(now)
                groups.append(group)

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
        changes = sorted(t for edge in (origin, destination) for t in self._times.get(edge, ()) if t > at)
        for t in changes:
            if self._group(origin, t) == self._group(destination, t):
                return t
        return None

"""Stable identities for trio tasks, so that operations at one virtual instant are ordered the same in every run.

A task's identity is the identity of the task that spawned it plus the position at which that task spawned it.
The spawner is the task whose code called ``start_soon``, which is not always the owner of the nursery: tasks
that share a nursery can spawn into it in any order, but each one's own spawns follow its own code, so the
identity does not depend on how trio happened to schedule anything.
"""

from __future__ import annotations

import zlib

import trio
from trio.lowlevel import Task

Identity = tuple[int, ...]


class TaskIdentities(trio.abc.Instrument):
    """A trio instrument that numbers each task's children in the order they are spawned."""

    def __init__(self) -> None:
        self._ids: dict[Task, Identity] = {}
        self._children: dict[Task, int] = {}
        self._serials: dict[Task, int] = {}
        self.acting_for: Task | None = None
        """While the conductor applies a call on behalf of a parked task, that task: what the call spawns is
        counted as spawned by it, not by whichever task happens to lead the batch."""

    def task_spawned(self, task: Task) -> None:
        """Give a new task the next child number of the task spawning it."""
        parent = self.acting_for or _spawner(task)
        if parent is None:
            self._ids[task] = ()
            return
        index = self._children.get(parent, 0)
        self._children[parent] = index + 1
        self._ids[task] = (*self.of(parent), index)

    def task_exited(self, task: Task) -> None:
        """Forget a finished task."""
        self._ids.pop(task, None)
        self._children.pop(task, None)
        self._serials.pop(task, None)

    def serial(self, task: Task) -> tuple[Identity, int]:
        """``task``'s identity and how many times it asked before: a name for something the task does that is the
        same in every run (the runtime names requests this way)."""
        count = self._serials.get(task, 0)
        self._serials[task] = count + 1
        return self.of(task), count

    def of(self, task: Task) -> Identity:
        """The identity of ``task``.

        A task spawned before the instrument was installed is known by its parent's identity and a hash of its
        name: stable, but two such siblings with the same name tie (install the instrument first, as
        ``workersim.run`` does, to avoid that).
        """
        ident = self._ids.get(task)
        if ident is None:
            parent = _parent(task)
            prefix = () if parent is None else self.of(parent)
            ident = self._ids[task] = (*prefix, -1, zlib.crc32(task.name.encode("utf-8")))
        return ident


def _parent(task: Task) -> Task | None:
    nursery = task.parent_nursery
    return None if nursery is None else nursery.parent_task


def _spawner(task: Task) -> Task | None:
    # task_spawned runs inside start_soon, so the current task (if any) is the one whose code spawned it.
    try:
        spawner = trio.lowlevel.current_task()
    except RuntimeError:
        return _parent(task)
    return spawner if spawner is not task else _parent(task)

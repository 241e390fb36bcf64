"""Acknowledged once durable: a running server's link to its ``--persist`` file.

``Persistence`` is the cluster's write observer (the core's one seam for this): every version stored and every
namespace dropped is noted as it is applied, in the conductor's order. ``Durable`` wraps the server's ASGI app
so that no response starts before everything applied so far is committed. Commits are grouped: while one runs
(in a worker thread, so the server keeps serving), the changes of other requests gather, and the next commit
takes them all, so many concurrent writers share one disk flush.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import trio

from ..core.faults import SWITCHES
from ..core.partitions import Partitions
from ..core.replicas import Keyspace
from ..core.versions import Version
from ..sim.simulation import Simulation, engine, resume_clock
from ._accounts import Account, Namespace
from ._asgi import Message, Receive, Scope, Send
from ._persist import Change, Drop, Put, Saved, StateFile
from ._serving import ASGIApp


def open_state(path: Path, sim: Simulation) -> tuple[StateFile, Saved | None]:
    """Open (or create) the state file of ``sim``; ``PersistError`` for one that cannot be used."""
    return StateFile.open(path, _settings(sim))


def _settings(sim: Simulation) -> dict[str, Any]:
    return {"edges": list(sim.edges), "seed": sim.seed, "max_ms": round(sim.max_delay * 1000)}


class Persistence:
    """Keeps a state file up to date with a simulation (and the REST namespaces of ``account``)."""

    def __init__(self, state: StateFile, sim: Simulation, account: Account | None) -> None:
        self._state = state
        self.path = state.path
        """The state file."""
        self._engine = engine(sim)
        self._settings = _settings(sim)
        self._account = account
        self._pending: list[Change] = []
        self._noted = 0
        self._committed = 0
        self._round: trio.Event | None = None
        self._saved_world = self._world()

    @classmethod
    def attach(cls, state: StateFile, saved: Saved | None, sim: Simulation, account: Account | None) -> Persistence:
        """Put what ``saved`` holds back into ``sim`` (and ``account``), continue its clock, and keep the file up
        to date from now on. Before ``async with sim``."""
        cluster = engine(sim).store.cluster
        if saved is not None:
            cluster.restore(saved.next_seq, saved.versions)
            if saved.partitions is not None:
                cluster.partitions = Partitions.from_snapshot(saved.partitions)
            for switch, on in (saved.faults or {}).items():
                if switch in SWITCHES:
                    setattr(cluster.faults, switch, bool(on))
            # Virtual time goes on from where it stopped; simulated UNIX time stays the real time.
            resume_clock(sim, saved.clock_ms, time.time())
            if account is not None:
                account.adopt(saved.namespaces, saved.created)
        persistence = cls(state, sim, account)
        cluster.observer = persistence
        return persistence

    def _rest_namespaces(self) -> tuple[Namespace, ...]:
        if self._account is None:
            return ()
        return tuple(ns for ns in self._account.namespaces.values() if ns.binding is None)

    def _world(self) -> tuple[tuple[Namespace, ...], dict[str, Any], dict[str, bool]]:
        """What changes without a write: the REST namespaces, the partitions and the faults."""
        cluster = self._engine.store.cluster
        faults = {switch: getattr(cluster.faults, switch) for switch in SWITCHES}
        return self._rest_namespaces(), cluster.partitions.snapshot(), faults

    # --- the observer (called as changes are applied) ---------------------------------------------------------

    def wrote(self, space: Keyspace, key: str, version: Version) -> None:
        """Note a stored version (and how far back its key's versions are still held)."""
        self._pending.append(Put(space.name, key, version, space.versions(key)[0].seq))
        self._noted += 1

    def dropped(self, namespace: str) -> None:
        """Note a dropped namespace."""
        self._pending.append(Drop(namespace))
        self._noted += 1

    # --- commits -------------------------------------------------------------------------------------------------

    async def flush(self) -> None:
        """Return once every change applied before this call is committed (joining a commit under way, or
        running the next one)."""
        target = self._noted
        while True:
            if self._round is not None:
                await self._round.wait()
                continue
            if self._committed >= target and self._world() == self._saved_world:
                return
            await self._commit()

    async def _commit(self) -> None:
        batch, self._pending = self._pending, []
        world = self._world()
        namespaces, partitions, faults = world
        changed = None if namespaces == self._saved_world[0] else namespaces
        settings = {
            **self._settings,
            "account": None if self._account is None else self._account.id,
            "created": 0 if self._account is None else self._account.created,
            "clock_ms": self._engine.now_ms() if self._engine.running else None,
            "next_seq": self._engine.store.cluster.next_seq,
            "partitions": partitions,
            "faults": faults,
        }
        if settings["clock_ms"] is None:
            del settings["clock_ms"]
        done = self._round = trio.Event()
        try:
            await trio.to_thread.run_sync(self._state.commit, batch, settings, changed)
        except BaseException:
            self._pending[:0] = batch  # still to be written: the next commit tries again
            raise
        else:
            self._committed += len(batch)
            self._saved_world = world
        finally:
            self._round = None
            done.set()

    async def close(self) -> None:
        """Commit what is left, with the clock as it is now, and close the file (inside ``async with sim``)."""
        try:
            while self._round is not None:
                await self._round.wait()
            await self._commit()
        finally:
            self._state.close()

    async def run_flusher(self, every: float = 1.0) -> None:
        """Commit, every ``every`` seconds, changes no response waited for (a worker's ``waitUntil`` writes)."""
        while True:
            await trio.sleep(every)
            await self.flush()


class Durable:
    """An ASGI app that answers with ``app``, each response held back until the changes it may report are
    committed to the state file."""

    def __init__(self, app: ASGIApp, persistence: Persistence) -> None:
        self.app = app
        self.persistence = persistence

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        flush = self.persistence.flush

        async def send_when_durable(message: Message) -> None:
            if message["type"] == "http.response.start":
                await flush()
            await send(message)

        await self.app(scope, receive, send_when_durable)

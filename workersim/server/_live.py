"""What ``workersim dev`` adds around the worker while it runs: the ``--persist`` file, the control path and
inspector under ``/__workersim/``, and hot reload of the worker's files.

``LiveDev`` builds the app that hypercorn serves; ``LiveDev.running()``, inside ``async with sim``, runs the
background tasks (the file's periodic commit, the file watcher) and commits the state at the end.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import trio

from ..runtime import Simulation
from ._control import ControlMount
from ._durable import Durable, Persistence
from ._reload import watch_worker
from ._serving import ASGIApp
from .api import ApiMount, Stored


class LiveDev:
    """The dev server's app around ``mount`` (the worker and the REST API): the control path and inspector, with
    ``state`` kept up to date (``None``: no ``--persist``) and, if ``reload``, the worker reloaded when its files
    change."""

    def __init__(self, sim: Simulation, mount: ApiMount, state: Stored | None, *, reload: bool = True) -> None:
        self.sim = sim
        account = mount.api.accounts.account(mount.credentials.account)
        self.persistence = None if state is None else Persistence.attach(*state, sim, account)
        app: ASGIApp = ControlMount(
            mount, sim, lambda: {ns.keyspace: ns.title for ns in account.namespaces.values() if ns.binding is None}
        )
        self.app: ASGIApp = app if self.persistence is None else Durable(app, self.persistence)
        self.reload = reload

    def describe(self, url: str) -> str:
        """The banner's lines about the inspector, the control path, reload and the state file."""
        kept = "" if self.persistence is None else f"; state kept in {self.persistence.path}"
        reload = "reloads the worker when its files change" if self.reload else "no reload (--no-reload)"
        return (
            f"  inspector: {url}/__workersim/  (control: workersim ctl --url {url} partition|heal|faults|advance)\n"
            f"  {reload}{kept}"
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the background tasks for the block; then commit the state a last time."""
        try:
            async with trio.open_nursery() as nursery:
                if self.persistence is not None:
                    nursery.start_soon(self.persistence.run_flusher)
                if self.reload:
                    await nursery.start(watch_worker, self.sim)
                yield
                nursery.cancel_scope.cancel()
        finally:
            if self.persistence is not None:
                with trio.CancelScope(shield=True):
                    await self.persistence.close()

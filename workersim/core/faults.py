"""Faults a user can switch on: the one-write-per-second-per-key limit and an outage of the central store.

Both are off by default, so plain code behaves like plain code.
"""

from __future__ import annotations

import attrs

from .errors import KVError

RATE_LIMIT_MS = 1000


@attrs.define
class Faults:
    """Which faults are on. Change the fields at any time, e.g. ``sim.faults.central_outage = True``."""

    write_rate_limit: bool = False
    """Workers KV allows one write to the same key per second; past that a write fails with
    ``KV PUT failed: 429 Too Many Requests``."""
    central_outage: bool = False
    """While the central store is down, every write fails with ``KV PUT failed: 503 Service Unavailable``
    (``DELETE`` for deletes) and changes nothing; reads still answer from the edge."""
    _last_write: dict[tuple[str, str], int] = attrs.field(factory=dict, init=False, repr=False)

    def admit_write(self, method: str, namespace: str, key: str, now: int) -> None:
        """Let a write through at ``now`` or raise the ``KVError`` a fault causes; call it after validation and
        right before writing, because an admitted write counts against the rate limit."""
        if self.central_outage:
            raise KVError(method, 503, "Service Unavailable")
        if not self.write_rate_limit:
            return
        last = self._last_write.get((namespace, key))
        if last is not None and now - last < RATE_LIMIT_MS:
            raise KVError(method, 429, "Too Many Requests")
        self._last_write[namespace, key] = now

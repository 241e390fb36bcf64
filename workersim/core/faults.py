"""Admission of writes: the faults a user can switch on, and the one rule that lets a validated write through.

Both faults are off by default, so plain code behaves like plain code.
"""

from __future__ import annotations

from collections.abc import Collection

import attrs

from .errors import KVError

RATE_LIMIT_MS = 1000
UNAVAILABLE = "Service Unavailable"
TOO_MANY = "Too Many Requests"
SWITCHES = ("write_rate_limit", "central_outage")
"""The fields that switch a fault on (a server's state file keeps them)."""


def _switched(faults: Faults, attribute: attrs.Attribute[bool], on: bool) -> bool:
    """Keep ``engaged`` true to the switches as one of them is set to ``on``."""
    switches = {name: getattr(faults, name) for name in SWITCHES}
    switches[attribute.name] = on
    faults.engaged = any(switches.values())
    return on


@attrs.define
class Faults:
    """Which faults are on. Change the fields at any time, e.g. ``sim.faults.central_outage = True``."""

    write_rate_limit: bool = attrs.field(default=False, on_setattr=_switched)
    """Workers KV allows one write to the same key per second; past that a write fails with
    ``KV PUT failed: 429 Too Many Requests``."""
    central_outage: bool = attrs.field(default=False, on_setattr=_switched)
    """While the central store is down, every write fails with ``KV PUT failed: 503 Service Unavailable``
    (``DELETE`` for deletes) and changes nothing; reads still answer from the edge."""
    engaged: bool = attrs.field(default=False, init=False, repr=False, eq=False)
    """Whether any fault is on: while none is, ``admit`` lets every write through and counts nothing unless
    the writer is cut off, so a caller may leave it out then (the store does, on every write)."""
    _last_write: dict[tuple[str, str], int] = attrs.field(factory=dict, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self.engaged = any(getattr(self, name) for name in SWITCHES)

    def admit(self, method: str, namespace: str, keys: Collection[str], now: int, *, cut_off: bool = False) -> None:
        """Let writes of ``keys`` through at ``now``, or raise the ``KVError`` that stops them all.

        Call it after validation and right before writing: admitted writes count against the rate limit.
        ``cut_off`` says the writer cannot reach the central store (an edge cut off by a partition under the
        edge-cache model), which fails like an outage. Every key is checked before any is counted, so a refused
        batch counts nothing.
        """
        if self.central_outage or cut_off:
            raise KVError(method, 503, UNAVAILABLE)
        if not self.write_rate_limit:
            return
        last_write = self._last_write
        for key in keys:
            last = last_write.get((namespace, key))
            if last is not None and now - last < RATE_LIMIT_MS:
                raise KVError(method, 429, TOO_MANY)
        for key in keys:
            last_write[namespace, key] = now

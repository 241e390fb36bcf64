"""What a worker's own code gets for ``time``, ``datetime``, ``random``, ``uuid``, ``os`` and ``secrets``: the same
modules, except that the clock is the simulation's (UNIX time = ``start_time`` + virtual time, in UTC, as Workers
run) and randomness comes from the isolate's seeded generator, in the order the code draws.

Only modules loaded into an isolate see these (their imports go through the isolate); any other code, including
libraries a worker imports from ``site-packages``, keeps the real ones. Seeded randomness is for reproducible runs,
not for secrets: it is not cryptographic.
"""

from __future__ import annotations

import base64
import datetime as _datetime
import os as _os
import random as _random
import secrets as _secrets
import time as _time
import uuid as _uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

Clock = Callable[[], float]
"""The simulated UNIX time in seconds."""
Monotonic = Callable[[], float]
"""Virtual seconds since the simulation started."""


class Shim(ModuleType):
    """A module whose own attributes replace some of a real module's; every other attribute is the real one's."""

    def __init__(self, real: ModuleType, **overrides: Any) -> None:
        super().__init__(real.__name__, real.__doc__)
        self.__dict__.update(overrides)
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._real)) | set(self.__dict__))


def time_module(clock: Clock, monotonic: Monotonic) -> Shim:
    """``time`` on the simulated clock (UTC)."""

    def now(secs: float | None = None) -> float:
        return clock() if secs is None else secs

    def clock_gettime(clock_id: int) -> float:
        # CLOCK_REALTIME is the wall clock; every other clock (monotonic, boot, CPU time) counts virtual seconds.
        return clock() if clock_id == _time.CLOCK_REALTIME else monotonic()

    return Shim(
        _time,
        time=clock,
        time_ns=lambda: round(clock() * 1_000_000_000),
        monotonic=monotonic,
        monotonic_ns=lambda: round(monotonic() * 1_000_000_000),
        perf_counter=monotonic,
        perf_counter_ns=lambda: round(monotonic() * 1_000_000_000),
        # CPU time too: on Workers, timers stand still while code runs, and a real CPU clock would not replay.
        process_time=monotonic,
        process_time_ns=lambda: round(monotonic() * 1_000_000_000),
        thread_time=monotonic,
        thread_time_ns=lambda: round(monotonic() * 1_000_000_000),
        clock_gettime=clock_gettime,
        clock_gettime_ns=lambda clock_id: round(clock_gettime(clock_id) * 1_000_000_000),
        gmtime=lambda secs=None: _time.gmtime(now(secs)),
        localtime=lambda secs=None: _time.gmtime(now(secs)),  # Workers run in UTC
        ctime=lambda secs=None: _time.asctime(_time.gmtime(now(secs))),
        asctime=lambda t=None: _time.asctime(_time.gmtime(clock()) if t is None else t),
        strftime=lambda fmt, t=None: _time.strftime(fmt, _time.gmtime(clock()) if t is None else t),
    )


def datetime_module(clock: Clock) -> Shim:
    """``datetime`` whose ``now``, ``utcnow`` and ``today`` read the simulated clock (naive times are UTC)."""
    utc = _datetime.UTC

    class datetime(_datetime.datetime):  # noqa: N801 - the name code imports
        """``datetime.datetime`` on the simulated clock."""

        @classmethod
        def now(cls, tz: _datetime.tzinfo | None = None) -> Any:
            """The simulated time: in ``tz``, or naive UTC."""
            moment = cls.fromtimestamp(clock(), utc)
            return moment.replace(tzinfo=None) if tz is None else moment.astimezone(tz)

        @classmethod
        def utcnow(cls) -> Any:
            """The simulated time as naive UTC."""
            return cls.now()

        @classmethod
        def today(cls) -> Any:
            """The simulated time as naive UTC."""
            return cls.now()

    class date(_datetime.date):  # noqa: N801 - the name code imports
        """``datetime.date`` on the simulated clock."""

        @classmethod
        def today(cls) -> Any:
            """The simulated date in UTC."""
            moment = _datetime.datetime.fromtimestamp(clock(), utc)
            return cls(moment.year, moment.month, moment.day)

    return Shim(_datetime, datetime=datetime, date=date)


_UUID_EPOCH = 0x01B21DD213814000
"""100-nanosecond intervals from the Gregorian reform (1582-10-15), where version-1 UUIDs count from, to 1970."""


def random_modules(rng: _random.Random, clock: Clock) -> dict[str, Shim]:
    """``random``, ``uuid``, ``os`` and ``secrets`` drawing from ``rng`` (and ``uuid1`` reading ``clock``)."""

    def fresh_seed(seed: Any) -> Any:
        # Where the real modules would seed from the operating system, draw the seed from the isolate's generator.
        return rng.getrandbits(64) if seed is None else seed

    class Random(_random.Random):
        """``random.Random``, seeded from the isolate's generator when no seed is given."""

        def seed(self, a: Any = None, version: int = 2) -> None:
            """Seed with ``a``, or with a draw from the isolate's generator (not from the operating system)."""
            super().seed(fresh_seed(a), version)

    def system_random(*_: Any) -> _random.Random:
        return Random()

    def seed(a: Any = None, version: int = 2) -> None:
        rng.seed(fresh_seed(a), version)

    names = [name for name in _random.__all__ if callable(getattr(rng, name, None)) and not name[0].isupper()]
    methods = {name: getattr(rng, name) for name in names}
    random_shim = Shim(_random, **{**methods, "seed": seed}, Random=Random, SystemRandom=system_random)

    def token_bytes(nbytes: int | None = None) -> bytes:
        return rng.randbytes(32 if nbytes is None else nbytes)

    def token_hex(nbytes: int | None = None) -> str:
        return token_bytes(nbytes).hex()

    def token_urlsafe(nbytes: int | None = None) -> str:
        return base64.urlsafe_b64encode(token_bytes(nbytes)).rstrip(b"=").decode("ascii")

    secrets_shim = Shim(
        _secrets,
        token_bytes=token_bytes,
        token_hex=token_hex,
        token_urlsafe=token_urlsafe,
        randbelow=lambda n: rng.randrange(n),
        randbits=rng.getrandbits,
        choice=rng.choice,
        SystemRandom=system_random,
    )
    uuid_shim = Shim(_uuid, uuid4=lambda: _uuid.UUID(int=rng.getrandbits(128), version=4), **_uuid1(rng, clock))
    os_shim = Shim(_os, urandom=rng.randbytes)
    return {"random": random_shim, "secrets": secrets_shim, "uuid": uuid_shim, "os": os_shim}


def _uuid1(rng: _random.Random, clock: Clock) -> dict[str, Callable[..., Any]]:
    """``uuid1`` and ``getnode`` for an isolate: the simulated clock for the time, and, for the node, a random
    48-bit number with the multicast bit set (as RFC 4122 says a host without a hardware address uses, and as the
    real ``getnode`` falls back to), drawn from ``rng`` when first asked for, never the machine's address."""
    drawn: list[int] = []
    last = [0]

    def getnode() -> int:
        if not drawn:
            drawn.append(rng.getrandbits(48) | (1 << 40))
        return drawn[0]

    def uuid1(node: int | None = None, clock_seq: int | None = None) -> _uuid.UUID:
        # The clock stands still while a handler runs, so, as the real uuid1 does, a repeated time moves on by one.
        timestamp = max(round(clock() * 10_000_000) + _UUID_EPOCH, last[0] + 1)
        last[0] = timestamp
        sequence = rng.getrandbits(14) if clock_seq is None else clock_seq
        fields = (
            timestamp & 0xFFFFFFFF,
            timestamp >> 32 & 0xFFFF,
            timestamp >> 48 & 0x0FFF,
            sequence >> 8 & 0x3F,
            sequence & 0xFF,
            getnode() if node is None else node,
        )
        return _uuid.UUID(fields=fields, version=1)

    return {"uuid1": uuid1, "getnode": getnode}

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

    return Shim(
        _time,
        time=clock,
        time_ns=lambda: round(clock() * 1_000_000_000),
        monotonic=monotonic,
        monotonic_ns=lambda: round(monotonic() * 1_000_000_000),
        perf_counter=monotonic,
        perf_counter_ns=lambda: round(monotonic() * 1_000_000_000),
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


def random_modules(rng: _random.Random) -> dict[str, Shim]:
    """``random``, ``uuid``, ``os`` and ``secrets`` drawing from ``rng``."""

    def system_random(*_: Any) -> _random.Random:
        return _random.Random(rng.getrandbits(64))

    names = [name for name in _random.__all__ if callable(getattr(rng, name, None)) and not name[0].isupper()]
    random_shim = Shim(_random, **{name: getattr(rng, name) for name in names}, SystemRandom=system_random)

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
    uuid_shim = Shim(_uuid, uuid4=lambda: _uuid.UUID(int=rng.getrandbits(128), version=4))
    os_shim = Shim(_os, urandom=rng.randbytes)
    return {"random": random_shim, "secrets": secrets_shim, "uuid": uuid_shim, "os": os_shim}

"""Propagation delay models: how long a write takes to reach each edge.

A model is a pure function of a 64-bit draw (derived from the seed, the version and the destination edge),
the write's origin and its destination, so arrival times never depend on the order in which they are asked for.
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import attrs


@runtime_checkable
class DelayModel(Protocol):
    """What the simulation needs from a delay model.

    A model may also define ``delay_for(seq, draw, origin, destination, max_ms)``, called instead of ``delay_ms``
    with the number of the write being timed, and ``describe_with(describe)``, through which the simulation hands
    it ``describe(seq)``: a few words naming that write (``workersim.testing.HypothesisDelay`` uses both to label
    its draws).

    A model that stops a run by raising (hypothesis ends an example from inside a draw) names those exception types
    in ``escapes``: a worker whose KV call raised one is not failing, so the runtime lets it end the run rather
    than answering a 500."""

    def bound(self) -> float | None:
        """The largest delay in seconds the model can give, or ``None`` if it caps itself at ``max_delay``."""

    def delay_ms(self, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        """Milliseconds from the write at ``origin`` (``None``: the central store) to its arrival at
        ``destination``; ``draw`` is a uniform 64-bit integer fixed by (seed, version, destination)."""


def _non_negative(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{attribute.name} must be a finite number of seconds >= 0, got {value!r}")


UNIT = 1.0 / (1 << 53)
"""A 64-bit draw's top 53 bits times this are uniform in [0, 1), at the finest step a float has there."""


def _to_ms(seconds: float) -> int:
    return round(seconds * 1000)


@attrs.frozen
class FixedDelay:
    """Every write reaches every other edge exactly ``seconds`` after it was made."""

    seconds: float = attrs.field(validator=_non_negative)

    def bound(self) -> float | None:
        """The fixed delay itself."""
        return self.seconds

    def delay_ms(self, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        """The fixed delay in milliseconds, whatever the draw."""
        return _to_ms(self.seconds)


@attrs.frozen
class UniformDelay:
    """Delays drawn uniformly from ``[low, high]`` seconds (at millisecond resolution)."""

    low: float = attrs.field(validator=_non_negative)
    high: float = attrs.field(validator=_non_negative)

    def __attrs_post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"UniformDelay needs low <= high, got low={self.low!r}, high={self.high!r}")

    def bound(self) -> float | None:
        """The upper end of the range."""
        return self.high

    def delay_ms(self, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        """A uniform millisecond count in the range, chosen by the draw."""
        low, high = _to_ms(self.low), _to_ms(self.high)
        return low + draw % (high - low + 1)


@attrs.frozen
class DefaultDelay:
    """The default: exponentially distributed delays with mean ``typical`` seconds, capped at ``max_delay``.

    Most writes land within a second or two, a few take several seconds, and none takes longer than the
    simulation's ``max_delay`` (the ten seconds Cloudflare guaranteed for global propagation).
    """

    typical: float = attrs.field(default=1.0, validator=_non_negative)

    def bound(self) -> float | None:
        """``None``: the model caps itself at the simulation's ``max_delay``."""
        return None

    def delay_ms(self, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        """An exponential draw in milliseconds, never more than ``max_ms``."""
        # _to_ms written out: this runs for every arrival time the simulation computes.
        delay = round(-self.typical * math.log1p(-((draw >> 11) * UNIT)) * 1000)
        return delay if delay < max_ms else max_ms

"""Propagation schedules chosen by hypothesis, so a failing schedule is searched for, shrunk and replayed."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

from hypothesis import strategies as st
from hypothesis.errors import StopTest

from ..core.delays import DefaultDelay, DelayModel, FixedDelay, UniformDelay


class Draws(Protocol):
    """What ``HypothesisDelay`` draws its delays from: ``st.data()``'s object, or a stand-in that hands each draw
    to it (``WorkerMachine`` makes its draws on hypothesis's thread this way)."""

    def draw(self, strategy: st.SearchStrategy[int], label: str) -> int:
        """A value of ``strategy``, chosen by hypothesis and printed with ``label``."""


class HypothesisDelay:
    """A delay model whose every delay hypothesis picks, one write and destination at a time.

    Pass ``data`` from ``@given(st.data())``: each time the simulation needs to know when a write reaches an
    edge, hypothesis draws the delay (0 to ``max_delay``). Searching explores propagation schedules; shrinking
    makes delays as short as the failure allows and prints the schedule it kept; the failing example replays
    from hypothesis's database. Draws happen in the order the simulation needs them, which the conductor keeps
    the same from run to run.
    """

    escapes: tuple[type[BaseException], ...] = (StopTest,)
    """Hypothesis ends an example (one that would draw more than it allows) by raising ``StopTest`` from a draw,
    inside a worker's KV call: the runtime lets it through to hypothesis instead of failing the request."""

    def __init__(self, data: Draws, max_delay: float = 10.0) -> None:
        if not (math.isfinite(max_delay) and max_delay >= 0):
            raise ValueError(f"max_delay must be a finite number of seconds >= 0, got {max_delay!r}")
        self._data = data
        self._max_delay = max_delay
        self._chosen: dict[int, int] = {}
        self._describe: Callable[[int], str] = lambda seq: f"version {seq}"

    def __repr__(self) -> str:
        return f"HypothesisDelay(max_delay={self._max_delay!r})"

    @property
    def chosen_ms(self) -> list[int]:
        """The delays drawn so far, in milliseconds, in the order the run needed them."""
        return list(self._chosen.values())

    def bound(self) -> float | None:
        """``max_delay``: no drawn delay is longer."""
        return self._max_delay

    def describe_with(self, describe: Callable[[int], str]) -> None:
        """Take the simulation's ``describe(seq)``, which names a write, for the labels of the draws."""
        self._describe = describe

    def delay_ms(self, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        """The delay hypothesis chose for this (write, destination); drawn the first time it is asked for."""
        return self._choose(draw, f"delay (ms) from {origin or 'the central store'} to {destination}", max_ms)

    def delay_for(self, seq: int, draw: int, origin: str | None, destination: str, max_ms: int) -> int:
        """As ``delay_ms``, with a label naming the write, e.g. ``delay (ms) of write #3 (put 'count' at LHR) to
        NRT``, so that a failing example says which write each delay held back."""
        return self._choose(draw, f"delay (ms) of {self._describe(seq)} to {destination}", max_ms)

    def _choose(self, draw: int, label: str, max_ms: int) -> int:
        # `draw` is fixed by (seed, version, destination), so it names the pair the delay belongs to.
        chosen = self._chosen.get(draw)
        if chosen is None:
            limit = min(max_ms, round(self._max_delay * 1000))
            chosen = self._chosen[draw] = self._data.draw(st.integers(0, limit), label=label)
        return chosen


def delay_models(max_delay: float = 10.0) -> st.SearchStrategy[DelayModel]:
    """Built-in delay models within ``max_delay``: fixed, uniform over a range, or the default distribution."""
    seconds = st.integers(0, round(max_delay * 1000)).map(lambda ms: ms / 1000)
    return st.one_of(
        seconds.map(FixedDelay),
        st.tuples(seconds, seconds).map(lambda pair: UniformDelay(min(pair), max(pair))),
        st.floats(0.05, max(0.05, max_delay), allow_nan=False).map(DefaultDelay),
    )


def seeds() -> st.SearchStrategy[int]:
    """Simulation seeds (any 64-bit value); each replays one run exactly."""
    return st.integers(0, 2**64 - 1)

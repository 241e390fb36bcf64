"""Running an async test body on virtual time from a plain function, as ``@given`` needs."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..sim.simulation import run

T = TypeVar("T")


def virtual_time(test: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Turn ``async def test(...)`` into a plain function that runs it with ``workersim.run`` (a ``MockClock``
    that jumps whenever every task waits), so that ``@given`` can wrap it::

        @given(st.data())
        @virtual_time
        async def test_counter(data):
            ...
    """

    @functools.wraps(test)
    def run_on_virtual_time(*args: Any, **kwargs: Any) -> T:
        return run(functools.partial(test, *args, **kwargs))

    return run_on_virtual_time

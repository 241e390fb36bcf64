"""Stand-ins for what a worker may name but workersim does not simulate (a D1 binding, ``js.HTMLRewriter``): naming
one works, as on Cloudflare, so a worker whose other routes never touch it still runs; using it raises an error
that says what is not simulated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class NotSimulated:
    """Stands for ``name``: reading an attribute of it or calling it raises ``error(message + the use)``."""

    def __init__(self, name: str, message: str, error: Callable[[str], Exception], *, tail: str = "") -> None:
        self._name = name
        self._message = message
        self._error = error
        self._tail = tail

    def _refuse(self, use: str) -> Exception:
        return self._error(f"{self._message} ({use} cannot be used){self._tail}")

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise self._refuse(f"{self._name}.{attribute}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise self._refuse(f"{self._name}(...)")

    def __repr__(self) -> str:
        return f"<{self._name}: not simulated>"

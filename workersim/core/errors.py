"""Every exception workersim raises on purpose, in one place.

``WorkersimError`` is the base of workersim's own errors. Mistakes a caller makes with an argument stay Python's
``TypeError`` and ``ValueError`` (as the Workers runtime raises ``TypeError`` for them), and the errors that
mirror a Workers API error keep that error's class as well (``BodyUsedError`` is an ``OSError``, as in Python
Workers; ``ConfigError`` is a ``ValueError``).
"""

from __future__ import annotations


class WorkersimError(Exception):
    """The base of the errors workersim raises itself."""


class KVError(WorkersimError):
    """A Workers KV backend error, worded exactly as the Workers runtime words it.

    ``str(error)`` is ``KV <METHOD> failed: <status> <detail>``, for example
    ``KV PUT failed: 413 Value length of 1025 exceeds limit of 1024.``. ``method`` is one of ``GET``
    (also used by ``list``), ``GET_BULK``, ``PUT`` and ``DELETE``; ``status`` is the HTTP status the backend
    answered with and ``detail`` its status text.
    """

    method: str
    status: int
    detail: str

    def __init__(self, method: str, status: int, detail: str) -> None:
        super().__init__(f"KV {method} failed: {status} {detail}")
        self.method = method
        self.status = status
        self.detail = detail


class ConfigError(WorkersimError, ValueError):
    """A wrangler configuration that workersim cannot use; the message names the file and what is wrong."""


class BodyUsedError(WorkersimError, OSError):
    """A body was read twice. Python Workers raise ``OSError("Body already used")``; this is that error."""


class HistoryFormatError(WorkersimError, ValueError):
    """A history file that is not a workersim history: the message names the line and what is wrong with it."""

    line: int
    """The 1-based line number of the offending line (0 when the problem is not one line)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line

"""Every exception workersim raises on purpose, in one place.

``WorkersimError`` is the base of workersim's own errors. Mistakes a caller makes with an argument stay Python's
``TypeError`` and ``ValueError`` (as the Workers runtime raises ``TypeError`` for them), and the errors that
mirror a Workers API error keep that error's class as well (``BodyUsedError`` is an ``OSError``, as in Python
Workers; ``ConfigError`` is a ``ValueError``).
"""

from __future__ import annotations

import json
from typing import Any


class WorkersimError(Exception):
    """The base of the errors workersim raises itself."""


class JsException(Exception):  # noqa: N818 - Pyodide's name
    """A JavaScript error as Python code catches it through Pyodide (``pyodide.ffi.JsException``): ``.name``
    (``"TypeError"``, ``"SyntaxError"``, ``"Error"``...) and ``.message``.

    What the Workers runtime throws at a Python Worker arrives as one, so ``except JsException`` catches the KV
    binding's errors as it does on Cloudflare; each of them is also the Python exception workersim documents
    (``TypeError``, ``KVError``, ``json.JSONDecodeError``).
    """

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from what __init__ takes, not from args: errors cross processes in sweeps (pickle).
        return type(self), self._made_from()

    def _made_from(self) -> tuple[Any, ...]:
        return (self.name, self.message)


class JsTypeError(JsException, TypeError):
    """JavaScript's ``TypeError`` (a bad argument, refused before anything is sent): a ``TypeError`` and a
    ``JsException`` named ``"TypeError"``; ``str(error)`` is the message alone."""

    def __init__(self, message: str) -> None:
        super().__init__("TypeError", message)
        self.args = (message,)

    def _made_from(self) -> tuple[Any, ...]:
        return (self.message,)

    def __str__(self) -> str:
        return self.message


class JsSyntaxError(JsException, json.JSONDecodeError):
    """JavaScript's ``SyntaxError`` from ``JSON.parse``, with V8's wording: a ``json.JSONDecodeError`` (a
    ``ValueError``) and a ``JsException`` named ``"SyntaxError"``; ``str(error)`` is the message alone."""

    def __init__(self, message: str, doc: str, pos: int) -> None:
        json.JSONDecodeError.__init__(self, message, doc, pos)
        self.name = "SyntaxError"
        self.message = message
        self.args = (message,)

    def _made_from(self) -> tuple[Any, ...]:
        return (self.message, self.doc, self.pos)

    def __str__(self) -> str:
        return self.message


class KVError(WorkersimError, JsException):
    """A Workers KV backend error, worded exactly as the Workers runtime words it.

    ``str(error)`` is ``KV <METHOD> failed: <status> <detail>``, for example
    ``KV PUT failed: 413 Value length of 1025 exceeds limit of 1024.``. ``method`` is one of ``GET``
    (also used by ``list``), ``GET_BULK``, ``PUT`` and ``DELETE``; ``status`` is the HTTP status the backend
    answered with and ``detail`` its status text. It is also the ``JsException`` (named ``"Error"``) a Python
    Worker catches on Cloudflare.
    """

    method: str
    status: int
    detail: str

    def __init__(self, method: str, status: int, detail: str) -> None:
        message = f"KV {method} failed: {status} {detail}"
        Exception.__init__(self, message)
        self.name = "Error"
        self.message = message
        self.method = method
        self.status = status
        self.detail = detail

    def _made_from(self) -> tuple[Any, ...]:
        return (self.method, self.status, self.detail)


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
        self._message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self._message, self.line)

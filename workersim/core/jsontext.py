"""JSON text read as the Workers runtime reads it, and bounded before it can cost memory.

``JSON.parse`` knows no ``NaN`` or ``Infinity`` (Python's ``json`` accepts them), and a document nested deeper than
the parser can go is an error, not a crash (Python's raises ``RecursionError``). Every JSON a client or a stored
value brings in is read here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .errors import JsSyntaxError

_SPACE = " \t\n\r"
_TOO_DEEP = "JSON nested too deeply"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)
_scan: Callable[[str, int], tuple[Any, int]] = getattr(_DECODER, "scan_once")  # noqa: B009 - CPython's C scanner


class TooManyItems(ValueError):
    """A JSON array with more items than allowed, noticed before the rest of it was read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} items")
        self.limit = limit


def parse(text: str) -> Any:
    """The value of ``text``; ``json.JSONDecodeError`` (a ``ValueError``) when it is not JSON as ``JSON.parse``
    reads it: malformed, ``NaN``/``Infinity``, or nested too deeply."""
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise json.JSONDecodeError(_TOO_DEEP, text, 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # NaN or Infinity
        raise json.JSONDecodeError(str(error), text, 0) from None


def parse_js(text: str) -> Any:
    """``parse(text)`` as ``JSON.parse`` fails in a Worker: a ``JsSyntaxError`` (a ``json.JSONDecodeError`` and a
    ``JsException``) worded as V8 words it."""
    try:
        return parse(text)
    except json.JSONDecodeError as error:
        if error.msg == _TOO_DEEP:  # V8 would overflow its stack: say what is wrong instead
            raise JsSyntaxError(_TOO_DEEP, text, error.pos) from None
        if error.pos >= len(text) or not text.strip():  # the text ended where more was needed
            raise JsSyntaxError("Unexpected end of JSON input", text, error.pos) from None
        raise JsSyntaxError(_unexpected_token(text, error.pos), text, error.pos) from None


_CONTEXT = 10
"""V8 quotes a text longer than twice this (plus one) by the characters around the error, this many each side."""


def _unexpected_token(text: str, pos: int) -> str:
    """V8's message for the character at ``pos``, quoting the text or, for a long one, the part around it."""
    if len(text) <= 2 * _CONTEXT + 1:
        shown = f'"{text}"'
    elif pos < _CONTEXT:
        shown = f'"{text[: pos + _CONTEXT]}"...'
    elif pos < len(text) - _CONTEXT:
        shown = f'..."{text[pos - _CONTEXT : pos + _CONTEXT]}"...'
    else:
        shown = f'..."{text[pos - _CONTEXT :]}"'
    return f"Unexpected token '{text[pos]}', {shown} is not valid JSON"


def parse_array(text: str, max_items: int) -> list[Any]:
    """The items of the JSON array ``text``, read one at a time so that an array with more than ``max_items``
    items is refused (``TooManyItems``) having built only that many; other errors as ``parse``."""
    i = _skip(text, 0)
    if not text.startswith("[", i):
        raise json.JSONDecodeError("Expecting a JSON array", text, i)
    i = _skip(text, i + 1)
    items: list[Any] = []
    if text.startswith("]", i):
        i += 1
    else:
        while True:
            try:
                value, i = _scan(text, i)
            except StopIteration as stop:
                raise json.JSONDecodeError("Expecting value", text, stop.value) from None
            except RecursionError:
                raise json.JSONDecodeError(_TOO_DEEP, text, i) from None
            except json.JSONDecodeError:
                raise
            except ValueError as error:
                raise json.JSONDecodeError(str(error), text, i) from None
            items.append(value)
            if len(items) > max_items:
                raise TooManyItems(max_items)
            i = _skip(text, i)
            if text.startswith(",", i):
                i = _skip(text, i + 1)
            elif text.startswith("]", i):
                i += 1
                break
            else:
                raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
    if _skip(text, i) != len(text):
        raise json.JSONDecodeError("Extra data", text, i)
    return items


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i

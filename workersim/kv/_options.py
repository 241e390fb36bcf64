"""Parsing of the JS-style options argument: a dict, keywords, or (for get) a bare type string.

A Python Worker may also pass JavaScript values it made with ``pyodide.ffi.to_js``: an object (``dict_converter=
Object.fromEntries``) is read as the dict it holds, at any depth (``metadata=to_js(...)`` too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.validation import to_int32

GET_OPTIONS = ("type", "cacheTtl")
PUT_OPTIONS = ("expiration", "expirationTtl", "metadata")
LIST_OPTIONS = ("prefix", "limit", "cursor")


def parse_options(
    method: str, positional: Any, keywords: Mapping[str, Any], allowed: tuple[str, ...], *, type_string: bool
) -> dict[str, Any]:
    """Merge the options dict and keywords, dropping ``None`` (JS ``undefined``) and rejecting unknown names.

    JS silently ignores a misspelt option; here it is a ``TypeError`` that names it, because a typo such as
    ``expirationTTL`` would otherwise quietly store a key that never expires.
    """
    if positional is None and not keywords:
        return {}
    options: dict[str, Any] = {}
    positional = _from_js(method, positional)
    if positional is None:
        pass
    elif type_string and isinstance(positional, str):
        options["type"] = positional
    elif isinstance(positional, Mapping):
        options.update(positional)
    else:
        expected = "a dict or a type string" if type_string else "a dict"
        raise TypeError(f"KV {method}() options must be {expected}, got {type(positional).__name__}.")
    for name, value in keywords.items():
        if name in options:
            raise TypeError(f"KV {method}() got option {name!r} twice.")
        options[name] = value
    for name in options:
        if name not in allowed:
            raise TypeError(f"KV {method}() got an unknown option {name!r}; the options are: {', '.join(allowed)}.")
    return {name: _from_js(method, value) for name, value in options.items() if value is not None}


def _from_js(method: str, value: Any) -> Any:
    """A JavaScript value a Python Worker made (anything with Pyodide's ``to_py``) as the Python value it holds.

    A ``Map`` (what ``to_js(a_dict)`` makes without ``dict_converter``) is refused: the Workers runtime reads an
    options object's properties, and a ``Map``'s entries are not properties, so on Cloudflare every option in it
    would be silently ignored (a ``Map`` is not JSON either: ``JSON.stringify`` gives ``{}`` for metadata).
    """
    if getattr(value, "js_type", None) == "Map":
        raise TypeError(
            f"KV {method}() got a JavaScript Map, whose entries the Workers runtime does not read as options or "
            "as JSON (on Cloudflare they would be ignored): pass a dict, or "
            "to_js(value, dict_converter=Object.fromEntries)"
        )
    to_py = getattr(value, "to_py", None)
    if to_py is None or isinstance(value, str | bytes):
        return value
    return to_py()


def int_option(options: Mapping[str, Any], name: str) -> int | None:
    """An integer option coerced as the Workers runtime coerces it, or ``None`` when absent."""
    value = options.get(name)
    return None if value is None else to_int32(value)


def str_option(method: str, options: Mapping[str, Any], name: str) -> str | None:
    """A string option, or ``None`` when absent; anything else is a ``TypeError``."""
    value = options.get(name)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"KV {method}() option {name!r} must be a string, got {type(value).__name__}.")
    return value

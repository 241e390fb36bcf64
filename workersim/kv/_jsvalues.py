"""What the KV binding returns where Cloudflare's binding returns JavaScript values: ``get(key, "json")``,
``get(key, "arrayBuffer")``, bulk ``get``, ``getWithMetadata`` and ``list`` results.

Python code on Cloudflare reaches those through Pyodide proxies (``result.keys``, ``value.to_py()``,
``buffer.to_bytes()``) or, with the Workers SDK that wraps ``env``'s bindings, as converted Python values (a
``dict`` with attribute access, a ``memoryview``); code written for workersim treats them as plain
``dict``/``list``/``bytes``. These subclasses serve all three: they are the plain types, with ``to_py()`` and, on
objects, attribute access to properties whose names are not ``dict`` methods. A list result's ``keys`` is its
array of keys either way.
"""

from __future__ import annotations

import json
from typing import Any


class JsonObject(dict[str, Any]):
    """A JSON object from KV: a ``dict`` that also reads properties as attributes (``value.name``) and converts
    with ``to_py()``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_py(self, **_options: Any) -> dict[str, Any]:
        """A plain ``dict``, deeply."""
        return {key: _plain(value) for key, value in self.items()}


class ListResult(JsonObject):
    """A ``list`` page: ``result["keys"]`` and ``result.keys`` are both the array of keys (as on Cloudflare)."""

    @property  # the JavaScript result's property, not dict.keys
    def keys(self) -> Any:
        """The page's keys, each with ``name`` (and ``expiration``, ``metadata`` when set)."""
        return self["keys"]


class JsonMap(dict[str, Any]):
    """A bulk read's JavaScript ``Map`` of key to value: a ``dict`` in request order, with ``to_py()`` and the
    ``Map`` methods a Pyodide proxy of one answers (``has``, ``size``)."""

    def to_py(self, **_options: Any) -> dict[str, Any]:
        """A plain ``dict``, deeply."""
        return {key: _plain(value) for key, value in self.items()}

    def has(self, key: str) -> bool:
        """Whether ``key`` was read (a missing key is present, with ``None``)."""
        return key in self

    @property
    def size(self) -> int:
        """The number of keys."""
        return len(self)


class JsonArray(list[Any]):
    """A JSON array from KV: a ``list`` with ``to_py()`` and ``length``."""

    def to_py(self, **_options: Any) -> list[Any]:
        """A plain ``list``, deeply."""
        return [_plain(value) for value in self]

    @property
    def length(self) -> int:
        """The number of items."""
        return len(self)


class ArrayBuffer(bytes):
    """An ``arrayBuffer`` read: ``bytes`` with Pyodide's ``to_bytes()``, ``to_py()`` and ``byteLength``, and the
    ``memoryview`` methods code written for the Workers SDK uses (it gives a ``memoryview``): ``tobytes()``,
    ``tolist()``, ``nbytes``, ``release()`` and ``with``."""

    def to_bytes(self) -> bytes:
        """The bytes."""
        return bytes(self)

    def tobytes(self) -> bytes:
        """The bytes (``memoryview.tobytes``)."""
        return bytes(self)

    def tolist(self) -> list[int]:
        """The bytes as a list of ints (``memoryview.tolist``)."""
        return list(self)

    @property
    def nbytes(self) -> int:
        """The number of bytes (``memoryview.nbytes``)."""
        return len(self)

    def release(self) -> None:
        """Nothing to release (``memoryview.release``)."""

    def __enter__(self) -> ArrayBuffer:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def to_py(self, **_options: Any) -> memoryview:
        """A ``memoryview`` of the bytes, as Pyodide converts a buffer."""
        return memoryview(self)

    @property
    def byteLength(self) -> int:  # noqa: N802 - JavaScript's name
        """The number of bytes."""
        return len(self)


def js_json(value: Any, top: type[JsonObject | JsonMap] = JsonObject) -> Any:
    """``value`` (parsed JSON) with its objects and arrays made ``JsonObject`` and ``JsonArray``."""
    if isinstance(value, dict):
        return top({key: js_json(item) for key, item in value.items()})
    if isinstance(value, list):
        return JsonArray(js_json(item) for item in value)
    return value


def js_list_page(page: dict[str, Any]) -> ListResult:
    """A ``list`` page made by ``core.listing.list_result`` with ``JsonObject`` entries and ``js_metadata``, as
    the JavaScript values the binding returns."""
    return ListResult(page, keys=JsonArray(page["keys"]))


def js_metadata(text: str) -> Any:
    """A key's metadata (JSON text) as JavaScript values."""
    return js_json(json.loads(text))


def _plain(value: Any) -> Any:
    if isinstance(value, JsonObject | JsonArray | JsonMap):
        return value.to_py()
    return value

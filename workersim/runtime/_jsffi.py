"""JavaScript values as a Python Worker sees them through Pyodide's FFI, and ``pyodide.ffi``'s functions.

On Cloudflare a worker's Python code reaches JavaScript objects through proxies: ``obj.name`` reads a property,
``obj.to_py()`` converts deeply, ``to_js(value, dict_converter=Object.fromEntries)`` goes the other way. Here
there is no JavaScript: a JavaScript object is a ``JsObject`` (a ``dict`` that also answers attribute access and
``to_py()``), an array a ``JsArray`` (a ``list`` likewise), a ``Map`` a ``JsMap``. They are deliberately more
forgiving than Pyodide's proxies (``obj["name"]`` works too), so code written either way runs; code that works on
Cloudflare never depends on a proxy refusing something. Iterating a plain object raises a ``TypeError`` that says
what to use instead, as Pyodide's proxy of one is not iterable either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..core.errors import JsException as JsException  # pyodide.ffi's; defined in core for the KV binding too
from ..core.jsontext import parse_js


class _JsNull:
    """JavaScript's ``null`` when a worker asks for it by name (``pyodide.ffi.jsnull``); falsy, like ``None``."""

    _instance: _JsNull | None = None

    def __new__(cls) -> _JsNull:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "jsnull"


jsnull = _JsNull()
"""JavaScript's ``null``."""


class JsProxy:
    """The common base of every value that is a JavaScript object on Cloudflare (``isinstance(x, JsProxy)``)."""

    __slots__ = ()
    js_type = "Object"
    """The JavaScript constructor's name (``x.constructor.name``)."""

    @property
    def constructor(self) -> Any:
        """An object whose ``name`` is the JavaScript constructor's name, as SDK code checks it."""
        return _Constructor(self.js_type)

    @property
    def typeof(self) -> str:
        """JavaScript's ``typeof`` of the value."""
        return "object"

    def to_py(self, *, depth: int = -1, default_converter: Callable[..., Any] | None = None) -> Any:
        """The value converted deeply to Python: objects and maps to ``dict``, arrays to ``list``."""
        return to_py(self)

    def as_object_map(self) -> Any:
        """The object as a mapping (Pyodide's view for subscripting a plain object): here it already is one."""
        return self


class _Constructor:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class JsObject(JsProxy):
    """A plain JavaScript object: ``obj.key`` reads a property (a missing one raises ``AttributeError``, Pyodide's
    behaviour for ``undefined``) and ``obj.key = v`` sets one, whatever the name (``order.items`` is the order's
    items, not a method); ``obj["key"]`` and ``"key" in obj`` work too, and ``to_py()`` gives a plain ``dict``."""

    __slots__ = ("_properties",)

    def __init__(self, properties: Mapping[str, Any] | Iterable[tuple[str, Any]] | JsObject = ()) -> None:
        if isinstance(properties, JsObject):
            properties = properties._properties
        object.__setattr__(self, "_properties", dict(properties))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._properties[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._properties[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self._properties[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._properties[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self._properties[name] = value

    def __contains__(self, name: object) -> bool:
        return name in self._properties

    def __iter__(self) -> Any:
        # Without this, dict(obj) or list(obj) would try obj[0], obj[1]... and fail with a puzzling KeyError.
        raise TypeError(
            "a JavaScript object is not iterable (nor is its proxy in Pyodide): use obj.to_py() for a dict, or "
            "Object.entries(obj)"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsObject) and other._properties == self._properties

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dict it wraps

    def get(self, name: str, default: Any = None) -> Any:
        """The property ``name``, or ``default``: not Pyodide's (a proxy of a plain object has no ``get``), but
        code written as if it were a dict runs."""
        return self._properties.get(name, default)

    def object_keys(self) -> JsArray:
        """The property names (``Object.keys``)."""
        return JsArray(self._properties)

    def object_values(self) -> JsArray:
        """The property values (``Object.values``)."""
        return JsArray(self._properties.values())

    def object_entries(self) -> JsArray:
        """The ``[name, value]`` pairs (``Object.entries``)."""
        return JsArray(JsArray(pair) for pair in self._properties.items())

    def to_py(self, *, depth: int = -1, default_converter: Callable[..., Any] | None = None) -> Any:
        """The object as a plain ``dict``, deeply."""
        return {name: to_py(value) for name, value in self._properties.items()}

    def __repr__(self) -> str:
        return f"[object Object] {self._properties!r}"


class JsArray(list[Any], JsProxy):
    """A JavaScript array: a ``list`` with ``length``, ``push`` and ``to_py()``."""

    js_type = "Array"

    @property
    def length(self) -> int:
        """The number of items."""
        return len(self)

    def push(self, *items: Any) -> int:
        """Append the items and return the new length."""
        self.extend(items)
        return len(self)

    def includes(self, item: Any) -> bool:
        """Whether ``item`` is in the array."""
        return item in self

    def join(self, separator: str = ",") -> str:
        """The items as text joined by ``separator``."""
        return separator.join("" if item is None else str(item) for item in self)


class JsMap(dict[Any, Any], JsProxy):
    """A JavaScript ``Map`` (what ``to_js(some_dict)`` makes without a ``dict_converter``)."""

    js_type = "Map"

    @property
    def size(self) -> int:
        """The number of entries."""
        return len(self)

    def has(self, key: Any) -> bool:
        """Whether ``key`` is present."""
        return key in self

    def set(self, key: Any, value: Any) -> JsMap:
        """Set ``key`` to ``value`` and return the map."""
        self[key] = value
        return self

    def delete(self, key: Any) -> bool:
        """Remove ``key``; whether it was there."""
        return self.pop(key, _MISSING) is not _MISSING

    def entries(self) -> JsArray:
        """The ``[key, value]`` pairs."""
        return JsArray(JsArray(pair) for pair in self.items())


_MISSING = object()


class JsBuffer(JsProxy):
    """An ``ArrayBuffer`` or ``Uint8Array``: ``to_bytes()``, ``to_py()`` (a ``memoryview``), ``length``, indexing."""

    __slots__ = ("_data",)
    js_type = "Uint8Array"

    def __init__(self, data: bytes | bytearray | int | Iterable[int] = b"") -> None:
        self._data = bytearray(data)

    def to_bytes(self) -> bytes:
        """The bytes."""
        return bytes(self._data)

    def to_string(self, encoding: str = "utf-8") -> str:
        """The bytes decoded as text."""
        return self._data.decode(encoding)

    def to_py(self, *, depth: int = -1, default_converter: Callable[..., Any] | None = None) -> Any:
        """A ``memoryview`` of the bytes, as Pyodide converts a typed array."""
        return memoryview(self._data)

    @property
    def length(self) -> int:
        """The number of bytes."""
        return len(self._data)

    byteLength = length  # noqa: N815 - JavaScript's name

    @property
    def buffer(self) -> JsBuffer:
        """The ``ArrayBuffer`` under a ``Uint8Array`` (``to_js(data).buffer``): the same bytes, not a copy."""
        whole = JsBuffer.__new__(JsBuffer)
        whole._data = self._data
        return whole

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, index: int) -> int:
        return self._data[index]

    def __setitem__(self, index: int, value: int) -> None:
        self._data[index] = value & 0xFF

    def __iter__(self) -> Any:
        return iter(self._data)

    def __bytes__(self) -> bytes:
        return bytes(self._data)

    def __repr__(self) -> str:
        return f"{self.js_type}({list(self._data)!r})"


class _PyProxy:
    """What ``create_proxy(obj)`` gives: ``obj`` itself to every use, plus ``destroy()``."""

    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        self._target = target

    def destroy(self) -> None:
        """Nothing to free without a JavaScript heap."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target(*args, **kwargs)

    def __await__(self) -> Any:
        return self._target.__await__()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def create_proxy(obj: Any, *, capture_this: bool = False, roundtrip: bool = True) -> Any:
    """Pyodide's ``create_proxy``: a handle on ``obj`` for JavaScript to hold; here ``obj`` behind a thin
    wrapper whose ``destroy()`` does nothing. An awaitable stays awaitable (``ctx.waitUntil(create_proxy(task))``)."""
    return _PyProxy(obj)


def create_once_callable(obj: Callable[..., Any], /) -> Callable[..., Any]:
    """Pyodide's ``create_once_callable``: ``obj`` as a function JavaScript may call once (Pyodide frees it after
    the first call); a second call raises a ``JsException``."""
    called = False

    def once(*args: Any, **kwargs: Any) -> Any:
        nonlocal called
        if called:
            raise JsException("Error", "a function made by create_once_callable was called a second time")
        called = True
        return obj(*args, **kwargs)

    return once


def destroy_proxies(proxies: Iterable[Any]) -> None:
    """Pyodide's ``destroy_proxies``: nothing to free here."""


def to_js(
    obj: Any,
    *,
    depth: int = -1,
    pyproxies: Any = None,
    create_pyproxies: bool = True,
    dict_converter: Callable[[Iterable[Any]], Any] | None = None,
    default_converter: Callable[..., Any] | None = None,
) -> Any:
    """Pyodide's ``to_js``: a ``dict`` becomes a ``Map`` (or whatever ``dict_converter`` makes of its entries,
    typically ``Object.fromEntries``: a plain object), a list or tuple an array, bytes a ``Uint8Array``; numbers,
    text, ``None`` and values that already are JavaScript's stay as they are."""

    def convert(value: Any, level: int) -> Any:
        if level == 0 or isinstance(value, JsProxy):
            return value
        if isinstance(value, Mapping):
            entries = [JsArray((key, convert(item, level - 1))) for key, item in value.items()]
            return dict_converter(entries) if dict_converter is not None else JsMap(entries)
        if isinstance(value, list | tuple):
            return JsArray(convert(item, level - 1) for item in value)
        if isinstance(value, bytes | bytearray | memoryview):
            return JsBuffer(bytes(value))
        return value

    return convert(obj, depth)


def to_py(value: Any) -> Any:
    """``value`` with every JavaScript container made a plain Python one, deeply."""
    if isinstance(value, JsBuffer | JsObject):
        return value.to_py()
    if isinstance(value, dict):
        return {key: to_py(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_py(item) for item in value]
    if value is jsnull:
        return None
    return value


def js_value(value: Any) -> Any:
    """A Python value parsed from JSON as JavaScript would hold it: objects ``JsObject``, arrays ``JsArray``."""
    if isinstance(value, dict):
        return JsObject({key: js_value(item) for key, item in value.items()})
    if isinstance(value, list):
        return JsArray(js_value(item) for item in value)
    return value


def parse_json(text: str) -> Any:
    """JavaScript's ``JSON.parse`` (and ``await request.json()`` in JavaScript): ``text`` as a JavaScript value;
    text that is not JSON raises ``JsException`` with the ``SyntaxError`` V8 throws, as Python code catches it
    through Pyodide."""
    return js_value(parse_js(text))


def from_entries(entries: Iterable[Any]) -> JsObject:
    """JavaScript's ``Object.fromEntries``: an object from ``[key, value]`` pairs (or a mapping)."""
    if isinstance(entries, Mapping):
        entries = entries.items()
    return JsObject((str(key), value) for key, value in entries)

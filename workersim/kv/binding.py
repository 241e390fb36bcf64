"""``KVNamespace``: the ``env.NAME`` binding, with the Workers KV JavaScript API and Python values.

The binding does what workerd does before a call leaves the isolate (it parses the JavaScript-style options and
checks what the client checks, raising ``TypeError``), then hands the call to the store's one operation path at
its turn in the conductor's order.
"""

from __future__ import annotations

import builtins
import functools
import sys
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine
from contextvars import ContextVar
from functools import partial
from types import CodeType
from typing import Any, NamedTuple, NoReturn, Protocol, TypeVar

from ..core import jsontext
from ..core.errors import JsException, JsTypeError, KVError
from ..core.listing import decode_cursor, list_result
from ..core.store import KEY_CHECKED, Store
from ..core.validation import (
    TYPES,
    check_bulk_request,
    check_cache_ttl,
    check_key,
    check_key_length,
    key_text,
    list_limit,
    metadata_json,
)
from ..core.versions import METADATA, VALUE
from ._jsvalues import ArrayBuffer, JsonMap, JsonObject, js_json, js_list_page, js_metadata
from ._options import GET_OPTIONS, LIST_OPTIONS, PUT_OPTIONS, int_option, parse_options, str_option
from .streams import ReadableStream

T = TypeVar("T")


class Call(NamedTuple):
    """A binding call a worker's code made: the coroutine it got, and where it made it (noted on every call, so
    it holds only what is at hand; the rest is worked out for the few calls ever reported)."""

    coroutine: Coroutine[Any, Any, Any]
    binding: str
    """The binding's name on ``env``, e.g. ``KV``."""
    method: str
    """For example ``put``."""
    code: CodeType
    """The code of the function that made the call."""
    offset: int
    """The offset of the calling instruction in ``code`` (``frame.f_lasti``)."""

    @property
    def what(self) -> str:
        """For example ``env.KV.put()``."""
        return f"env.{self.binding}.{self.method}()"

    @property
    def file(self) -> str:
        """The file the call was made in."""
        return self.code.co_filename

    @property
    def line(self) -> int:
        """The line the call was made on (as ``frame.f_lineno`` would say, which walks the line table: here that
        is done for a reported call only)."""
        for start, end, line in self.code.co_lines():
            if start <= self.offset < end:
                return line or 0
        return 0


_new_call = tuple.__new__
"""Makes a ``Call`` from a tuple of its fields without the Python-level ``__new__`` a ``NamedTuple`` gets: one is
made on every binding call."""


def _noted(method: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., Coroutine[Any, Any, T]]:
    """Note every call (in ``CALLS``, while a request's code runs) with the place it was made."""
    name = method.__name__

    @functools.wraps(method)
    def call(self: KVNamespace, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, T]:
        coroutine = method(self, *args, **kwargs)
        calls = CALLS.get()
        if calls is not None:
            _note(calls, coroutine, self._ns, name)
        return coroutine

    return call


def _note(calls: builtins.list[Call], coroutine: Coroutine[Any, Any, Any], binding: str, method: str) -> None:
    """Note in ``calls`` (``CALLS``'s list) the call that made ``coroutine``, at the place its caller's caller (the
    code that called the binding method) made it. Called only while noting, from ``_noted``, ``get`` and ``put``."""
    frame = sys._getframe(2)
    calls.append(_new_call(Call, (coroutine, binding, method, frame.f_code, frame.f_lasti)))


UNKNOWN_TYPE = 'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'
BAD_VALUE = "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values."
_CLIENT_ERRORS = (TypeError, KVError)
_KEY_LISTS = (builtins.list, tuple)
"""What a get of many keys gets them as (a tuple, not ``list | tuple``, which would build a union on every call)."""

CALLS: ContextVar[builtins.list[Call] | None] = ContextVar("workersim_kv_calls", default=None)
"""Where the calls made by the running request's code are noted (set by the runtime), so that one left
un-awaited can be reported with its file and line."""

REQUEST: ContextVar[str | None] = ContextVar("workersim_request", default=None)
"""The id of the request whose code is running: the binding tags its calls' history rows with it (the runtime
sets it for each request's handler and waitUntil work)."""


class KVHost(Protocol):
    """What a binding needs from the simulation that owns it (``workersim.sim.Engine`` is one)."""

    store: Store

    def turn(self, action: Callable[..., T], args: tuple[Any, ...] = (), /) -> Awaitable[T]:
        """Run ``action(now_ms, *args)`` when it is this call's turn; awaited, it gives the result."""


def _metadata(text: str | None) -> Any:
    return None if text is None else js_metadata(text)


class KVNamespace:
    """One KV namespace as seen from one edge: ``get``, ``getWithMetadata``, ``put``, ``delete``, ``list``.

    Names and option names are the JavaScript ones; values are Python values (``str``, ``bytes``, parsed JSON,
    ``ReadableStream``, ``dict``). Every call is a cancellation point (and a schedule point whenever another task
    could run) and is recorded in the simulation's history.
    """

    def __init__(self, host: KVHost, namespace: str, edge: str) -> None:
        self._host = host  # its ``turn`` is looked up at each call: it changes when the simulation starts and stops
        self._store = host.store
        self._ns = namespace
        self._edge = edge
        self._origin = host.store.cluster.edge_index(edge)
        self._limits = host.store.limits

    def __repr__(self) -> str:
        return f"<KVNamespace {self._ns} at {self._edge}>"

    @property
    def edge(self) -> str:
        """The edge this binding reads and writes at."""
        return self._edge

    async def _reject(self, op: str, subject: str, target: Any, error: Exception) -> NoReturn:
        if isinstance(error, TypeError) and not isinstance(error, JsException):
            # Thrown by the Workers runtime, it reaches a Python Worker as a JsException named TypeError.
            error = JsTypeError(str(error))
        reject = partial(
            self._store.reject,
            ns=self._ns,
            op=op,
            subject=subject,
            target=target,
            error=error,
            origin=self._origin,
            request=REQUEST.get(),
        )
        await self._host.turn(reject)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- get / getWithMetadata -----------------------------------------------------------------------------

    def get(
        self, key: str | builtins.list[str], type_or_options: Any = None, /, **options: Any
    ) -> Coroutine[Any, Any, Any]:
        """Read ``key`` as ``text`` (default), ``json``, ``arrayBuffer`` (``bytes``) or ``stream``.

        A missing key gives ``None``. A list of 1 to 100 keys gives a dict in request order (``text`` or
        ``json`` only). Options: ``type`` and ``cacheTtl``, as a type string, a dict or keywords.
        """
        # One of the two calls made most: a function returning the coroutine that does the work (not a coroutine
        # awaiting it), which notes the call itself rather than through ``_noted``, whose call with ``*args`` and
        # ``**kwargs`` costs about 2,000 CPU instructions. Nothing here can raise, so every error still comes when
        # the call is awaited.
        coroutine = self._get("get", key, type_or_options, options, False)
        calls = CALLS.get()
        if calls is not None:
            _note(calls, coroutine, self._ns, "get")
        return coroutine

    @_noted
    def getWithMetadata(  # noqa: N802 - the JavaScript name
        self, key: str | builtins.list[str], type_or_options: Any = None, /, **options: Any
    ) -> Coroutine[Any, Any, Any]:
        """Like ``get``, with metadata: ``{"value", "metadata", "cacheStatus"}`` (metadata ``None`` when unset).

        For a list of keys: a dict of ``{"value", "metadata"}`` per key, ``None`` for a missing key.
        """
        return self._get("getWithMetadata", key, type_or_options, options, with_metadata=True)

    async def _get(self, op: str, key: Any, positional: Any, keywords: dict[str, Any], with_metadata: bool) -> Any:
        if isinstance(key, _KEY_LISTS):  # a coroutine more for a bulk read, none for a key
            return await self._get_bulk(op, key, positional, keywords, with_metadata=with_metadata)
        try:
            if positional is None and not keywords:  # `get(key)`, the usual call: no options to look at
                cache_ttl, kind = None, "text"
                key = check_key("GET", key, self._limits)
            else:
                options = parse_options(op, positional, keywords, GET_OPTIONS, type_string=True)
                cache_ttl = int_option(options, "cacheTtl")
                key = check_key("GET", key, self._limits)
                kind = options.get("type", "text")
                if kind not in TYPES:
                    raise TypeError(UNKNOWN_TYPE)
                check_cache_ttl("GET", cache_ttl, self._limits)
        except _CLIENT_ERRORS as error:
            await self._reject(op, "key", key, error)
        # read, not get (which calls it and takes the live half): one call less on the way
        _, version = await self._host.turn(
            self._store.read, (self._ns, key, self._origin, op, cache_ttl, REQUEST.get(), KEY_CHECKED)
        )
        if version is None:
            return JsonObject(value=None, metadata=None, cacheStatus=None) if with_metadata else None
        value = version[VALUE]
        assert value is not None  # the store returns live versions only
        # Text, the usual kind, decoded here: a call less on most reads.
        result = value.decode("utf-8", "replace") if kind == "text" else _convert(value, kind)
        if not with_metadata:
            return result
        return JsonObject(value=result, metadata=_metadata(version[METADATA]), cacheStatus=None)

    async def _get_bulk(
        self, op: str, keys: Any, positional: Any, keywords: dict[str, Any], *, with_metadata: bool
    ) -> JsonMap:
        try:
            options = parse_options(op, positional, keywords, GET_OPTIONS, type_string=True)
            cache_ttl = int_option(options, "cacheTtl")
            kind = options.get("type", "text")
            check_bulk_request(len(keys), kind, self._limits)
            keys = [key_text(key) for key in keys]
        except _CLIENT_ERRORS as error:
            await self._reject(op, "keys", list(keys), error)
        read = partial(
            self._store.get_many,
            ns=self._ns,
            keys=keys,
            edge=self._origin,
            kind=kind,
            with_metadata=with_metadata,
            cache_ttl=cache_ttl,
            op=op,
            request=REQUEST.get(),
        )
        found: JsonMap = js_json(await self._host.turn(read), top=JsonMap)
        return found

    # --- put / delete ------------------------------------------------------------------------------------

    def put(self, key: str, value: Any, options: Any = None, /, **keywords: Any) -> Coroutine[Any, Any, None]:
        """Store ``value`` (``str``, bytes-like, ``ReadableStream`` or async iterable of bytes) under ``key``.

        Options: ``expiration`` (UNIX seconds), ``expirationTtl`` (seconds from now; wins over ``expiration``)
        and ``metadata`` (any JSON value). The write is visible at this edge at once and elsewhere later.
        """
        coroutine = self._put(key, value, options, keywords)  # noted as ``get`` notes, for the same reason
        calls = CALLS.get()
        if calls is not None:
            _note(calls, coroutine, self._ns, "put")
        return coroutine

    async def _put(self, key: Any, value: Any, options: Any, keywords: dict[str, Any]) -> None:
        data: bytes | None = None
        try:
            if options is None and not keywords:  # `put(key, value)`, the usual call: no options to look at
                expiration = expiration_ttl = None
                opts: dict[str, Any] = {}
            else:
                opts = parse_options("put", options, keywords, PUT_OPTIONS, type_string=False)
                expiration = int_option(opts, "expiration")
                expiration_ttl = int_option(opts, "expirationTtl")
            key = check_key("PUT", key, self._limits)
            if isinstance(value, str):
                data = value.encode("utf-8")
            elif not isinstance(value, AsyncIterable):
                data = _buffer_bytes(value)
            # parse_options drops None options: no "metadata" (the usual call) is no metadata to serialise.
            metadata = metadata_json(opts["metadata"]) if "metadata" in opts else None
            if data is None:
                data, size = await _drain(value, self._limits.value_bytes)
            else:
                size = len(data)
        except _CLIENT_ERRORS as error:
            await self._reject("put", "key", key, error)
        await self._host.turn(
            self._store.put, (self._ns, key, data, self._origin, size, metadata, expiration, expiration_ttl,
            REQUEST.get(), KEY_CHECKED),
        )  # fmt: skip

    @_noted
    async def delete(self, key: str) -> None:
        """Delete ``key`` (deleting a missing key is fine); other edges see the delete later, like a write."""
        try:
            key = check_key("DELETE", key, self._limits)
        except _CLIENT_ERRORS as error:
            await self._reject("delete", "key", key, error)
        await self._host.turn(self._store.delete, (self._ns, key, self._origin, REQUEST.get(), KEY_CHECKED))

    # --- list --------------------------------------------------------------------------------------------

    @_noted
    async def list(self, options: Any = None, /, **keywords: Any) -> dict[str, Any]:
        """Keys in UTF-8 byte order, as this edge sees them: ``{"keys", "list_complete", "cursor"?,
        "cacheStatus"}``. Options: ``prefix``, ``limit`` (1..1000, default 1000) and ``cursor``."""
        try:
            opts = parse_options("list", options, keywords, LIST_OPTIONS, type_string=False)
            limit = int_option(opts, "limit")
            prefix = str_option("list", opts, "prefix") or ""
            cursor = str_option("list", opts, "cursor")
            page = list_limit(limit, self._limits)
            check_key_length("GET", prefix, self._limits)
        except _CLIENT_ERRORS as error:
            await self._reject("list", "prefix", keywords.get("prefix"), error)
        after = decode_cursor(cursor) if cursor else None
        scan = partial(
            self._store.list,
            ns=self._ns,
            edge=self._origin,
            prefix=prefix,
            after=after,
            limit=page,
            request=REQUEST.get(),
        )
        found, complete = await self._host.turn(scan)
        return js_list_page(list_result(found, complete, entry_type=JsonObject, parse_metadata=js_metadata))


def _convert(value: bytes, kind: str) -> Any:
    """A value read as ``kind``, any kind but ``text`` (which ``_get`` decodes itself)."""
    if kind == "json":
        return js_json(jsontext.parse_js(value.decode("utf-8", "replace")))
    if kind == "arrayBuffer":
        return ArrayBuffer(value)
    return ReadableStream(value)


def _buffer_bytes(value: Any) -> bytes:
    # Copy now: the bytes stored are those the caller passed at the call, even if it mutates them later.
    if isinstance(value, bytes):
        return value
    try:
        return memoryview(value).tobytes()
    except TypeError:
        pass
    to_bytes = getattr(value, "to_bytes", None)  # a JavaScript ArrayBuffer or typed array a Python Worker made
    if callable(to_bytes) and not isinstance(value, int):
        return bytes(to_bytes())
    raise TypeError(BAD_VALUE) from None


async def _drain(stream: AsyncIterable[Any], limit: int) -> tuple[bytes, int]:
    """Read a streamed value; past ``limit`` keep counting but stop keeping, so the size error is exact."""
    parts: builtins.list[bytes] = []
    size = 0
    async for chunk in stream:
        if isinstance(chunk, str):
            raise TypeError(BAD_VALUE)
        piece = _buffer_bytes(chunk)
        size += len(piece)
        if size <= limit:
            parts.append(piece)
    return b"".join(parts), size

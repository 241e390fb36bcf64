"""``KVNamespace``: the ``env.NAME`` binding, with the Workers KV JavaScript API and Python values."""

from __future__ import annotations

import base64
import binascii
import builtins
import json
from collections.abc import AsyncIterable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, NoReturn, Protocol, TypeVar

from ..core.bulk import bulk_read
from ..core.errors import KVError
from ..core.history import History, encode_value
from ..core.limits import Limits
from ..core.replicas import Cluster, Keyspace
from ..core.validation import (
    TYPES,
    check_bulk_request,
    check_cache_ttl,
    check_key,
    check_key_length,
    check_metadata_size,
    check_value_size,
    list_limit,
    metadata_json,
    put_expiration,
)
from ._options import GET_OPTIONS, LIST_OPTIONS, PUT_OPTIONS, int_option, parse_options, str_option
from .streams import ReadableStream

T = TypeVar("T")

UNKNOWN_TYPE = 'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'
BAD_VALUE = "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values."
_CLIENT_ERRORS = (TypeError, KVError)

ROW_TAGS: ContextVar[Mapping[str, Any] | None] = ContextVar("workersim_row_tags", default=None)
"""Extra fields for the history rows of the binding calls made in this context, read when a call is made (the
runtime tags each request's calls with its request id this way)."""


class KVHost(Protocol):
    """What a binding needs from the simulation that owns it."""

    cluster: Cluster
    limits: Limits
    history: History

    async def apply(self, action: Callable[[int], T]) -> T:
        """Run ``action(now_ms)`` when it is this call's turn and return its result."""


def _jsonable_key(key: Any) -> Any:
    return key if isinstance(key, str) else repr(key)


def _metadata(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class KVNamespace:
    """One KV namespace as seen from one edge: ``get``, ``getWithMetadata``, ``put``, ``delete``, ``list``.

    Names and option names are the JavaScript ones; values are Python values (``str``, ``bytes``, parsed JSON,
    ``ReadableStream``, ``dict``). Every call is a trio checkpoint and is recorded in the simulation's history.
    """

    def __init__(self, host: KVHost, namespace: str, edge: str) -> None:
        self._host = host
        self._history = host.history
        self._space: Keyspace = host.cluster.namespace(namespace)
        self._edge = edge
        self._edge_index = host.cluster.edge_index(edge)
        self._limits = host.limits

    def __repr__(self) -> str:
        return f"<KVNamespace {self._space.name} at {self._edge}>"

    @property
    def edge(self) -> str:
        """The edge this binding reads and writes at."""
        return self._edge

    # --- recording -------------------------------------------------------------------------------------

    def _record(self, now: int, op: str, tags: Mapping[str, Any] | None, fields: dict[str, Any]) -> None:
        row: dict[str, Any] = {"id": None, "edge": self._edge, "ns": self._space.name, "op": op}
        if tags:
            row.update(tags)
        row.update(fields)
        row["invoke"] = row["complete"] = now / 1000
        self._history.append(row)

    async def _reject(self, op: str, fields: dict[str, Any], error: Exception) -> NoReturn:
        tags = ROW_TAGS.get()

        def fail(now: int) -> NoReturn:
            self._record(now, op, tags, {**fields, "error": f"{type(error).__name__}: {error}"})
            raise error

        await self._host.apply(fail)
        raise AssertionError("unreachable")  # pragma: no cover

    def _unix_ms(self, now: int) -> int:
        return self._space.cluster.epoch_ms + now

    # --- get / getWithMetadata -----------------------------------------------------------------------------

    async def get(self, key: str | builtins.list[str], type_or_options: Any = None, /, **options: Any) -> Any:
        """Read ``key`` as ``text`` (default), ``json``, ``arrayBuffer`` (``bytes``) or ``stream``.

        A missing key gives ``None``. A list of 1 to 100 keys gives a dict in request order (``text`` or
        ``json`` only). Options: ``type`` and ``cacheTtl``, as a type string, a dict or keywords.
        """
        if isinstance(key, builtins.list | tuple):
            return await self._get_bulk("get", key, type_or_options, options, with_metadata=False)
        return await self._get_one("get", key, type_or_options, options, with_metadata=False)

    async def getWithMetadata(  # noqa: N802 - the JavaScript name
        self, key: str | builtins.list[str], type_or_options: Any = None, /, **options: Any
    ) -> Any:
        """Like ``get``, with metadata: ``{"value", "metadata", "cacheStatus"}`` (metadata ``None`` when unset).

        For a list of keys: a dict of ``{"value", "metadata"}`` per key, ``None`` for a missing key.
        """
        if isinstance(key, builtins.list | tuple):
            return await self._get_bulk("getWithMetadata", key, type_or_options, options, with_metadata=True)
        return await self._get_one("getWithMetadata", key, type_or_options, options, with_metadata=True)

    async def _get_one(
        self, op: str, key: Any, positional: Any, keywords: dict[str, Any], *, with_metadata: bool
    ) -> Any:
        try:
            options = parse_options(op, positional, keywords, GET_OPTIONS, type_string=True)
            cache_ttl = int_option(options, "cacheTtl")
            check_key("GET", key, self._limits)
            kind = options.get("type", "text")
            if kind not in TYPES:
                raise TypeError(UNKNOWN_TYPE)
            check_cache_ttl("GET", cache_ttl, self._limits)
        except _CLIENT_ERRORS as error:
            await self._reject(op, {"key": _jsonable_key(key)}, error)

        tags = ROW_TAGS.get()

        def read(now: int) -> tuple[bytes | None, str | None]:
            try:
                version = self._space.read(key, self._edge_index, now, cache_ttl=cache_ttl)
            except KVError as error:
                self._record(now, op, tags, {"key": key, "error": f"KVError: {error}"})
                raise
            live = version is not None and version.live_at(self._unix_ms(now))
            value = version.value if live else None
            metadata = version.metadata if live else None
            self._record(
                now,
                op,
                tags,
                {
                    "key": key,
                    "value": encode_value(value),
                    "metadata": _metadata(metadata),
                    "version": None if version is None else version.seq,
                },
            )
            return value, metadata

        value, metadata = await self._host.apply(read)
        result = None if value is None else _convert(value, kind)
        if not with_metadata:
            return result
        return {"value": result, "metadata": _metadata(metadata), "cacheStatus": None}

    async def _get_bulk(
        self, op: str, keys: Any, positional: Any, keywords: dict[str, Any], *, with_metadata: bool
    ) -> dict[str, Any]:
        try:
            options = parse_options(op, positional, keywords, GET_OPTIONS, type_string=True)
            cache_ttl = int_option(options, "cacheTtl")
            kind = options.get("type", "text")
            check_bulk_request(len(keys), kind, self._limits)
            for key in keys:
                if not isinstance(key, str):
                    raise TypeError(f"KV key must be a string, got {type(key).__name__}.")
        except _CLIENT_ERRORS as error:
            await self._reject(op, {"keys": [_jsonable_key(k) for k in keys]}, error)
        tags = ROW_TAGS.get()

        def read(now: int) -> dict[str, Any]:
            try:
                found = bulk_read(
                    self._space,
                    keys,
                    edge=self._edge_index,
                    now=now,
                    kind=kind,
                    with_metadata=with_metadata,
                    limits=self._limits,
                    cache_ttl=cache_ttl,
                )
            except KVError as error:
                self._record(now, op, tags, {"keys": builtins.list(dict.fromkeys(keys)), "error": f"KVError: {error}"})
                raise
            self._record(
                now, op, tags, {"keys": builtins.list(found.versions), "value": found.seen, "version": found.versions}
            )
            return found.values

        return await self._host.apply(read)

    # --- put / delete ------------------------------------------------------------------------------------

    async def put(self, key: str, value: Any, options: Any = None, /, **keywords: Any) -> None:
        """Store ``value`` (``str``, bytes-like, ``ReadableStream`` or async iterable of bytes) under ``key``.

        Options: ``expiration`` (UNIX seconds), ``expirationTtl`` (seconds from now; wins over ``expiration``)
        and ``metadata`` (any JSON value). The write is visible at this edge at once and elsewhere later.
        """
        data: bytes | None = None
        try:
            opts = parse_options("put", options, keywords, PUT_OPTIONS, type_string=False)
            expiration = int_option(opts, "expiration")
            expiration_ttl = int_option(opts, "expirationTtl")
            check_key("PUT", key, self._limits)
            if isinstance(value, str):
                data = value.encode("utf-8")
            elif not isinstance(value, AsyncIterable):
                data = _buffer_bytes(value)
            metadata = metadata_json(opts.get("metadata"))
            if data is None:
                data, size = await _drain(value, self._limits.value_bytes)
            else:
                size = len(data)
        except _CLIENT_ERRORS as error:
            await self._reject("put", {"key": _jsonable_key(key)}, error)

        tags = ROW_TAGS.get()

        def write(now: int) -> None:
            try:
                expires = put_expiration(expiration, expiration_ttl, self._unix_ms(now) // 1000, self._limits)
                check_metadata_size(metadata, self._limits)
                check_value_size(size, self._limits)
                self._space.cluster.admit_write("PUT", self._space.name, key, self._edge_index, now)
            except KVError as error:
                self._record(now, "put", tags, {"key": key, "error": f"KVError: {error}"})
                raise
            version = self._space.write(
                key, data, origin=self._edge_index, now=now, metadata=metadata, expiration=expires
            )
            fields: dict[str, Any] = {"key": key, "value": encode_value(data), "metadata": _metadata(metadata)}
            if expires is not None:
                fields["expiration"] = expires
            self._record(now, "put", tags, {**fields, "version": version.seq})

        await self._host.apply(write)

    async def delete(self, key: str) -> None:
        """Delete ``key`` (deleting a missing key is fine); other edges see the delete later, like a write."""
        try:
            check_key("DELETE", key, self._limits)
        except _CLIENT_ERRORS as error:
            await self._reject("delete", {"key": _jsonable_key(key)}, error)

        tags = ROW_TAGS.get()

        def remove(now: int) -> None:
            try:
                self._space.cluster.admit_write("DELETE", self._space.name, key, self._edge_index, now)
            except KVError as error:
                self._record(now, "delete", tags, {"key": key, "error": f"KVError: {error}"})
                raise
            version = self._space.write(key, None, origin=self._edge_index, now=now)
            self._record(now, "delete", tags, {"key": key, "value": None, "version": version.seq})

        await self._host.apply(remove)

    # --- list --------------------------------------------------------------------------------------------

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
            await self._reject("list", {"prefix": _jsonable_key(keywords.get("prefix"))}, error)
        after = decode_cursor(cursor) if cursor else None

        tags = ROW_TAGS.get()

        def scan(now: int) -> dict[str, Any]:
            found, complete = self._space.list(self._edge_index, now, prefix=prefix, after=after, limit=page)
            self._record(
                now, "list", tags, {"prefix": prefix, "value": [name for name, _ in found], "list_complete": complete}
            )
            return list_result(found, complete)

        return await self._host.apply(scan)


def list_result(found: builtins.list[tuple[str, Any]], complete: bool) -> dict[str, Any]:
    """The JS shape of a list page: ``cursor`` only while incomplete, ``expiration``/``metadata`` only if set."""
    keys = []
    for name, version in found:
        entry: dict[str, Any] = {"name": name}
        if version.expiration is not None:
            entry["expiration"] = version.expiration
        if version.metadata is not None:
            entry["metadata"] = json.loads(version.metadata)
        keys.append(entry)
    result: dict[str, Any] = {"keys": keys, "list_complete": complete}
    if not complete:
        result["cursor"] = encode_cursor(found[-1][0]) if found else ""
    result["cacheStatus"] = None
    return result


def encode_cursor(last_key: str) -> str:
    """An opaque cursor meaning "after ``last_key``"."""
    return base64.urlsafe_b64encode(last_key.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The key a cursor continues after; a cursor that is not ours continues after its own text."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return cursor


def _convert(value: bytes, kind: str) -> Any:
    if kind == "text":
        return value.decode("utf-8", "replace")
    if kind == "json":
        return json.loads(value.decode("utf-8", "replace"))
    if kind == "arrayBuffer":
        return value
    return ReadableStream(value)


def _buffer_bytes(value: Any) -> bytes:
    # Copy now: the bytes stored are those the caller passed at the call, even if it mutates them later.
    if isinstance(value, bytes):
        return value
    try:
        return memoryview(value).tobytes()
    except TypeError:
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

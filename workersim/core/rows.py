"""The history row: one typed record per operation, and its one JSON shape.

Every writer of a history (the store, the runtime's requests) makes these rows, and every reader (checkers,
timelines, diagrams, ``Simulation.arrival``) reads them; ``to_json`` and ``row_from_json`` are the only places
where the JSON shape is written down, with ``kv_columns``, the fast path that reads the common single-key rows
straight into the checkers' columns (and leaves anything else to ``row_from_json``). Values are kept as the
``bytes`` that were stored (the same object the replica holds, so recording a row copies nothing) and metadata as
its compact JSON text; both are turned into JSON only when a row is written out.

JSON keys come in a fixed order (``id``, ``edge``, ``ns``, ``op``, ``request``, the subject, the result,
``invoke``, ``complete``), so equal runs give byte-identical files.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from functools import partial
from itertools import compress, repeat
from operator import attrgetter, contains, is_, itemgetter
from typing import Any, ClassVar, TypeAlias

import attrs

from ._fastinit import packing
from .errors import HistoryFormatError, JsSyntaxError, JsTypeError

READ_OPS = frozenset({"get", "getWithMetadata"})
WRITE_OPS = frozenset({"put", "delete"})
KV_OPS = READ_OPS | WRITE_OPS | {"list"}
CENTRAL_EDGE = "central"
"""The ``edge`` of rows made at the central store (the REST API)."""


class Unknown(enum.Enum):
    """The type of ``UNKNOWN``."""

    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN
"""A read's version when the row does not say (histories recorded elsewhere); ``None`` means "nothing there"."""

Version: TypeAlias = int | None | Unknown


def encode_value(value: bytes | None) -> str | dict[str, str] | None:
    """How a stored value appears in JSON: text when it is valid UTF-8, else ``{"base64": ...}``."""
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value).decode("ascii")}


def decode_value(value: Any) -> bytes | None:
    """The inverse of ``encode_value``; ``ValueError`` for anything it cannot have made."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and isinstance(value.get("base64"), str) and len(value) == 1:
        try:
            return base64.b64decode(value["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("a value's base64 is not valid") from None
    raise ValueError(f"a value must be text, {{'base64': ...}} or null, got {type(value).__name__}")


def text_value(value: bytes | None) -> str | None:
    """A stored value as text for people (undecodable bytes replaced), ``None`` when missing."""
    return None if value is None else value.decode("utf-8", "replace")


def _metadata_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _metadata_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@attrs.frozen(kw_only=True, slots=True)
class Row:
    """What every row has: its place in the history, where and when it happened, and the request it served."""

    id: int
    """The row's position in the whole run (rows dropped from a bounded history keep their numbers)."""
    edge: str
    """The edge it happened at, or ``"central"`` for the central store."""
    op: str
    invoke: float
    """Virtual seconds when the operation started."""
    complete: float
    """Virtual seconds when it finished (KV operations are applied at one instant: ``invoke == complete``)."""
    request: str | None = None
    """The id of the request whose handler (or waitUntil work) made it, if any."""

    def to_json(self) -> dict[str, Any]:
        """The row as a JSON-ready dict, keys in the history's fixed order."""
        out: dict[str, Any] = {"id": self.id, "edge": self.edge}
        self._fill(out)
        return out

    def _fill(self, out: dict[str, Any]) -> None:
        raise NotImplementedError

    def _head(self, out: dict[str, Any], ns: str | None) -> None:
        if ns is not None:
            out["ns"] = ns
        out["op"] = self.op
        if self.request is not None:
            out["request"] = self.request

    def _times(self, out: dict[str, Any]) -> None:
        out["invoke"] = self.invoke
        out["complete"] = self.complete


@attrs.frozen(kw_only=True, slots=True)
class KVRead(Row):
    """A ``get`` or ``getWithMetadata`` of one key, and the version it saw."""

    ns: str
    key: str
    value: bytes | None
    """The value read; ``None`` when the key was missing (never written, deleted or expired)."""
    metadata: str | None = None
    """The metadata read, as compact JSON text."""
    version: Version = None
    """The version the read saw (possibly a delete or an expired write), ``None`` if nothing had arrived."""

    def _fill(self, out: dict[str, Any]) -> None:
        self._head(out, self.ns)
        out["key"] = self.key
        out["value"] = encode_value(self.value)
        out["metadata"] = _metadata_json(self.metadata)
        if self.version is not UNKNOWN:
            out["version"] = self.version
        self._times(out)


@attrs.frozen(kw_only=True, slots=True)
class KVBulkRead(Row):
    """A ``get`` or ``getWithMetadata`` of several keys at once."""

    ns: str
    keys: tuple[str, ...]
    """The keys asked for, each once, in request order."""
    value: Mapping[str, bytes | None]
    version: Mapping[str, int | None] | Unknown = UNKNOWN

    def _fill(self, out: dict[str, Any]) -> None:
        self._head(out, self.ns)
        out["keys"] = list(self.keys)
        out["value"] = {key: encode_value(value) for key, value in self.value.items()}
        if self.version is not UNKNOWN:
            out["version"] = dict(self.version)
        self._times(out)


@attrs.frozen(kw_only=True, slots=True)
class KVWrite(Row):
    """A ``put`` or a ``delete`` (``value`` ``None``) of one key: the version it made."""

    ns: str
    key: str
    value: bytes | None
    metadata: str | None = None
    expiration: int | None = None
    """Absolute expiry in UNIX seconds."""
    version: Version = None

    def _fill(self, out: dict[str, Any]) -> None:
        self._head(out, self.ns)
        out["key"] = self.key
        out["value"] = encode_value(self.value)
        if self.op == "put":
            out["metadata"] = _metadata_json(self.metadata)
            if self.expiration is not None:
                out["expiration"] = self.expiration
        if self.version is not UNKNOWN:
            out["version"] = self.version
        self._times(out)


@attrs.frozen(kw_only=True, slots=True)
class KVList(Row):
    """A ``list``: the page of key names it returned."""

    ns: str
    prefix: str
    names: tuple[str, ...]
    list_complete: bool

    def _fill(self, out: dict[str, Any]) -> None:
        self._head(out, self.ns)
        out["prefix"] = self.prefix
        out["value"] = list(self.names)
        out["list_complete"] = self.list_complete
        self._times(out)


@attrs.frozen(kw_only=True, slots=True)
class KVRejected(Row):
    """A KV call that was refused (a client mistake or a backend error): it changed no stored data."""

    SUBJECTS: ClassVar[tuple[str, ...]] = ("key", "keys", "prefix")

    ns: str
    subject: str = attrs.field(validator=attrs.validators.in_(SUBJECTS))
    """What ``target`` is: ``"key"``, ``"keys"`` or ``"prefix"``."""
    target: Any
    """The key, keys or prefix the call named (anything not JSON-able is shown by its ``repr``)."""
    error: str
    """``"<exception class>: <message>"``, e.g. ``"KVError: KV PUT failed: 503 Service Unavailable"``."""

    def _fill(self, out: dict[str, Any]) -> None:
        self._head(out, self.ns)
        out[self.subject] = self.target
        out["error"] = self.error
        self._times(out)


@attrs.frozen(kw_only=True, slots=True)
class FetchRow(Row):
    """A request arriving at an edge (``op`` ``"fetch"``)."""

    method: str
    url: str

    def _fill(self, out: dict[str, Any]) -> None:
        self._head(out, None)
        out["method"] = self.method
        out["url"] = self.url
        self._times(out)


@attrs.frozen(kw_only=True, slots=True)
class ResponseRow(Row):
    """A request's response (``op`` ``"response"``): ``invoke`` is the arrival, ``complete`` the response."""

    status: int
    error: str | None = None
    """Set when the handler failed (the status is then 500)."""

    def _fill(self, out: dict[str, Any]) -> None:
        self._head(out, None)
        out["status"] = self.status
        self._times(out)
        if self.error is not None:
            out["error"] = self.error


@attrs.frozen(kw_only=True, slots=True)
class LogRow(Row):
    """A line a worker logged (``op`` ``"log"``): ``console.log``/``info``/``warn``/``error`` or ``print``."""

    level: str
    """``"log"``, ``"info"``, ``"warn"``, ``"error"`` or ``"debug"``."""
    message: str

    def _fill(self, out: dict[str, Any]) -> None:
        self._head(out, None)
        out["level"] = self.level
        out["message"] = self.message
        self._times(out)


@attrs.frozen(kw_only=True, slots=True)
class ScheduledRow(Row):
    """A cron trigger running the worker's ``scheduled`` handler at an edge (``op`` ``"scheduled"``); ``request``
    is the id its KV operations and log lines carry."""

    cron: str

    def _fill(self, out: dict[str, Any]) -> None:
        self._head(out, None)
        out["cron"] = self.cron
        self._times(out)


AnyRow: TypeAlias = KVRead | KVBulkRead | KVWrite | KVList | KVRejected | FetchRow | ResponseRow | LogRow | ScheduledRow

Packed: TypeAlias = tuple[Any, ...]
"""A row as a history holds it until it is read: a tag naming its class, then every field but ``id``, in field
order (``id`` is the row's place in the history). Made by the ``pack_*`` functions, read by ``unpack``."""

# Rows are recorded on every operation and most are never read during the run: the store and the runtime record
# them packed, at less than half the cost of the object (see _fastinit.packing). The store's two take the fields
# in field order (``Row``'s but id: edge, op, invoke, complete, request; then the class's own), which spares it a
# keyword call per operation.
_PACKED = (KVRead, KVWrite, FetchRow, ResponseRow, LogRow, ScheduledRow)
_PACKINGS: list[tuple[Callable[..., Packed], Callable[[int, Packed], Any]]] = [
    packing(cls, tag, positional=cls in (KVRead, KVWrite)) for tag, cls in enumerate(_PACKED)
]
pack_read, pack_write, pack_fetch, pack_response, pack_log, pack_scheduled = (pack for pack, _ in _PACKINGS)
_UNPACK = tuple(unpacker for _, unpacker in _PACKINGS)


def unpack(packed: Packed, ident: int) -> AnyRow:
    """The row ``packed`` holds, with id ``ident``."""
    row: AnyRow = _UNPACK[packed[0]](ident, packed)
    return row


ROW_OVERHEAD = 200
"""Bytes a row takes in memory besides the values and texts it holds (the object, its fields, its ids)."""


def row_size(row: AnyRow) -> int:
    """About how many bytes of memory ``row`` holds: its overhead plus every value and text in it. Values a row
    shares with a replica are counted too: once the replica moves on, the row alone keeps them."""
    size = ROW_OVERHEAD
    if isinstance(row, KVRead | KVWrite):
        size += len(row.value or b"") + len(row.metadata or "")
    elif isinstance(row, KVBulkRead):
        size += sum(len(key) + len(value or b"") for key, value in row.value.items())
    elif isinstance(row, FetchRow):
        size += len(row.url)
    elif isinstance(row, LogRow):
        size += len(row.message)
    elif isinstance(row, KVRejected | ResponseRow):
        size += len(row.error or "")
    return size


def error_text(error: BaseException) -> str:
    """How a row names a failure: ``"<class>: <message>"``, a JavaScript built-in error by its own name
    (``TypeError``, as the Python class it also is)."""
    name = error.name if isinstance(error, JsTypeError | JsSyntaxError) else type(error).__name__
    return f"{name}: {error}"


def jsonable_target(target: Any) -> Any:
    """A rejected call's key (or keys) as a row keeps it: strings as they are, anything else by ``repr``."""
    if isinstance(target, list | tuple):
        return [jsonable_target(item) for item in target]
    return target if isinstance(target, str) else repr(target)


def row_from_json(data: Any, position: int = 0) -> AnyRow:
    """The row a JSON object describes (as ``to_json`` writes it, or recorded elsewhere in that shape).

    Histories from elsewhere may leave out ``id`` (the row's ``position`` is used), ``ns``, ``complete`` and
    ``version`` (the checkers then match reads to writes by value). Raises ``HistoryFormatError`` naming what is
    wrong when the object is not an operation.
    """
    if not isinstance(data, dict):
        raise HistoryFormatError(f"expected a JSON object, got {type(data).__name__}")
    op = data.get("op")
    if not isinstance(op, str):
        raise HistoryFormatError("a row needs an 'op' string")
    try:
        return _parse(op, data, position)
    except HistoryFormatError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        detail = f"missing {error}" if isinstance(error, KeyError) else str(error)
        raise HistoryFormatError(f"not a valid {op!r} row: {detail}") from None


def _seconds(data: Mapping[str, Any], name: str, default: float | None = None) -> float:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name!r} must be a number of seconds")
    return float(value)


def _str(data: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = data[name] if default is None else data.get(name, default)
    if not isinstance(value, str):
        raise ValueError(f"{name!r} must be a string")
    return value


def _version(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("'version' must be an integer or null")
    return value


def _parse(op: str, data: dict[str, Any], position: int) -> AnyRow:
    invoke = _seconds(data, "invoke", 0.0)
    request = data.get("request")
    if request is not None and not isinstance(request, str):
        raise ValueError("'request' must be a string")
    ident = data.get("id", position)
    if isinstance(ident, bool) or not isinstance(ident, int):
        raise ValueError("'id' must be an integer")
    common: dict[str, Any] = {
        "id": ident,
        "edge": _str(data, "edge", ""),
        "op": op,
        "invoke": invoke,
        "complete": _seconds(data, "complete", invoke),
        "request": request,
    }
    if op == "fetch":
        return FetchRow(method=_str(data, "method", "GET"), url=_str(data, "url", ""), **common)
    if op == "response":
        status = data["status"]
        if isinstance(status, bool) or not isinstance(status, int):
            raise ValueError("'status' must be an integer")
        return ResponseRow(status=status, error=data.get("error"), **common)
    if op == "log":
        return LogRow(level=_str(data, "level", "log"), message=_str(data, "message"), **common)
    if op == "scheduled":
        return ScheduledRow(cron=_str(data, "cron"), **common)
    if op not in KV_OPS:
        known = KV_OPS | {"fetch", "response", "log", "scheduled"}
        raise HistoryFormatError(f"unknown op {op!r} (the ops are {', '.join(sorted(known))})")
    common["ns"] = _str(data, "ns", "")
    if "error" in data:
        subject = next((name for name in KVRejected.SUBJECTS if name in data), None)
        if subject is None:
            raise ValueError("a rejected call names its 'key', 'keys' or 'prefix'")
        return KVRejected(subject=subject, target=data[subject], error=_str(data, "error"), **common)
    if op == "list":
        names = data.get("value") or []
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ValueError("a list's 'value' must be an array of key names")
        return KVList(prefix=_str(data, "prefix", ""), names=tuple(names),
                      list_complete=bool(data.get("list_complete", True)), **common)  # fmt: skip
    version: Any = UNKNOWN
    if "keys" in data and op in READ_OPS:
        keys = data["keys"]
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise ValueError("'keys' must be an array of strings")
        values = data.get("value") or {}
        if not isinstance(values, dict):
            raise ValueError("a bulk read's 'value' must be an object")
        if "version" in data:
            versions = data["version"] or {}
            if not isinstance(versions, dict):
                raise ValueError("a bulk read's 'version' must be an object")
            version = {key: _version(versions.get(key)) for key in keys}
        decoded = {key: decode_value(values.get(key)) for key in keys}
        return KVBulkRead(keys=tuple(keys), value=decoded, version=version, **common)
    if "version" in data:
        version = _version(data["version"])
    value = decode_value(data.get("value"))
    metadata = _metadata_text(data.get("metadata"))
    if op in WRITE_OPS:
        expiration = data.get("expiration")
        if expiration is not None and (isinstance(expiration, bool) or not isinstance(expiration, int)):
            raise ValueError("'expiration' must be an integer")
        return KVWrite(key=_str(data, "key"), value=value, metadata=metadata, expiration=expiration,
                       version=version, **common)  # fmt: skip
    return KVRead(key=_str(data, "key"), value=value, metadata=metadata, version=version, **common)


@attrs.frozen(kw_only=True, slots=True)
class KVColumns:
    """The single-key reads and writes of part of a history, one sequence per field (what ``KVRead`` and
    ``KVWrite`` hold, minus metadata and expiry), for the checkers' table to take in without an object per
    operation. Each field is read by iterating it (``kv_columns`` gives lists, ``row_columns`` views of the rows)."""

    writing: Collection[bool]
    ns: Collection[str]
    key: Collection[str]
    edge: Collection[str]
    request: Collection[str | None]
    version: Collection[Version]
    invoke: Collection[float]
    missing: Callable[[list[int]], list[bool]]
    """Whether the given operations' values are missing (a delete, or a read of nothing)."""
    complete: Callable[[list[int]], list[float]]
    """When the given operations (writes) completed."""
    value_keys: Callable[[list[int]], list[object]]
    """The ``value_key`` of the given operations' values (asked only of those matched by value)."""


class _Field(Collection[Any]):
    """One field of every row, read in C as it is iterated (``map`` over the rows): no list, no Python loop."""

    __slots__ = ("_read", "_rows")

    def __init__(self, rows: Sequence[Any], read: Callable[[Sequence[Any]], Iterator[Any]]) -> None:
        self._rows, self._read = rows, read

    def __iter__(self) -> Iterator[Any]:
        return self._read(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, item: object) -> bool:
        return any(value is item or value == item for value in self)


_SHORT = 64
"""Values up to this many characters (or bytes) key themselves; longer ones by a digest, so that matching reads to
writes by value holds a few bytes per value, not the value."""


def _text_key(text: str) -> object:
    if len(text) <= _SHORT:
        return text
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest())


def value_key(value: bytes | None) -> object:
    """A small key for a stored value, equal for equal values (a 128-bit digest stands for a long value, so two
    long values are told apart unless their digests collide): valid UTF-8 keys as its text, the rest as bytes."""
    if value is None:
        return None
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        if len(value) <= _SHORT:
            return value
        return int.from_bytes(hashlib.blake2b(value, digest_size=16).digest())
    return _text_key(text)


def _json_key(value: Any) -> object:
    """``value_key`` of the value a row's JSON ``value`` encodes (already checked by ``kv_columns``)."""
    if type(value) is str:
        return value if len(value) <= _SHORT else _text_key(value)
    return value_key(decode_value(value))


def row_columns(rows: Sequence[KVRead | KVWrite], kinds: Sequence[type] | None = None) -> KVColumns:
    """The columns of single-key rows, as views of them (``kinds``: each row's type, if already known)."""

    def field(name: str) -> _Field:
        return _Field(rows, partial(map, attrgetter(name)))

    def writes(kinds: Iterable[type]) -> Iterator[bool]:
        return map(is_, kinds, repeat(KVWrite))

    return KVColumns(
        writing=_Field(rows, lambda rows: writes(map(type, rows))) if kinds is None else _Field(kinds, writes),
        ns=field("ns"),
        key=field("key"),
        edge=field("edge"),
        request=field("request"),
        version=field("version"),
        invoke=field("invoke"),
        missing=lambda chosen: [rows[i].value is None for i in chosen],
        complete=lambda chosen: [rows[i].complete for i in chosen],
        value_keys=lambda chosen: [value_key(rows[i].value) for i in chosen],
    )


SINGLE_KEY_OPS = READ_OPS | WRITE_OPS
_ABSENT: Any = object()
_NUMBERS = {int, float}
_RECORDED = itemgetter("op", "key", "id", "ns", "edge", "version", "value", "invoke", "complete")
"""The fields of every single-key row ``to_json`` writes (``request`` too, when there is one)."""


def kv_columns(objects: Sequence[Any]) -> tuple[KVColumns, list[int]] | None:
    """The columns of the single-key reads and writes among ``objects`` (JSON values of a history's lines), and
    the indices of the other objects, which the caller hands to ``row_from_json``.

    A fast path for histories of millions of rows: each field is checked a column at a time, as ``row_from_json``
    checks it row by row. ``None`` when an object is not a JSON object, or a single-key row that is not plainly
    valid: ``row_from_json``, line by line, then names what is wrong (or reads a row this path leaves to it).
    """
    try:  # rows as to_json writes them: every field there, read in one call a row
        ops, keys, ids, ns, edges, versions, values, invokes, completes = zip(*map(_RECORDED, objects), strict=True)
        plain = set(ops) <= SINGLE_KEY_OPS and not any(map(contains, objects, repeat("error")))
        plain = plain and not any(map(contains, objects, repeat("keys")))
    except (KeyError, TypeError, ValueError):  # a field left out, not an object, or no objects at all
        plain = False
    if plain:
        rows: Sequence[Any] = objects
        others: list[int] = []
    else:
        try:
            single = [
                item.get("op") in SINGLE_KEY_OPS and "error" not in item and "keys" not in item for item in objects
            ]
        except (AttributeError, TypeError):  # not an object, or an op that is not a string: row_from_json says so
            return None
        rows = objects if all(single) else [item for item, keep in zip(objects, single, strict=True) if keep]
        others = [] if rows is objects else [index for index, keep in enumerate(single) if not keep]
        try:
            keys = tuple(map(itemgetter("key"), rows))
        except KeyError:
            return None
        ops, ids, ns, edges, versions, values, invokes, completes = (
            tuple(map(dict.get, rows, repeat(name), repeat(default)))
            for name, default in (("op", None), ("id", _ABSENT), ("ns", ""), ("edge", ""), ("version", UNKNOWN),
                                  ("value", None), ("invoke", 0.0), ("complete", _ABSENT))
        )  # fmt: skip
    requests = list(map(dict.get, rows, repeat("request")))
    writing = list(map(WRITE_OPS.__contains__, ops))
    complete_types = set(map(type, completes))
    strings = {str}
    if not (
        set(map(type, keys)) <= strings
        and set(map(type, ids)) <= {int, object}  # object: absent (the row's position is its id)
        and set(map(type, ns)) <= strings
        and set(map(type, edges)) <= strings
        and set(map(type, requests)) <= {str, type(None)}
        and set(map(type, versions)) <= {int, type(None), Unknown}
        and set(map(type, invokes)) <= _NUMBERS
        and complete_types <= {int, float, object}
        and _plain_values(values)
        and set(map(type, map(dict.get, compress(rows, writing), repeat("expiration")))) <= {int, type(None)}
    ):
        return None
    if object in complete_types:
        completes = tuple(invoke if done is _ABSENT else done for done, invoke in zip(completes, invokes, strict=True))
    columns = KVColumns(
        writing=writing, ns=ns, key=keys, edge=edges, request=requests, version=versions,
        invoke=invokes, missing=lambda chosen: [values[i] is None for i in chosen],
        complete=lambda chosen: [completes[i] for i in chosen],
        value_keys=lambda chosen: [_json_key(values[i]) for i in chosen],
    )  # fmt: skip
    return columns, others


def _plain_values(values: Sequence[Any]) -> bool:
    """Whether every value is one ``decode_value`` accepts: text that is UTF-8 (no lone surrogate from a ``\\u``
    escape), ``{"base64": ...}`` or null."""
    kinds = set(map(type, values))
    if not kinds <= {str, type(None), dict}:
        return False
    texts = values if dict not in kinds else [value for value in values if type(value) is str]
    try:
        "".join(filter(None, texts)).encode("utf-8")  # one encode for them all: a lone surrogate fails it
        for value in values if dict in kinds else ():
            if type(value) is dict:
                decode_value(value)
    except ValueError:
        return False
    return True

"""The REST API's key-value endpoints: values, metadata, keys and the bulk operations.

Writes enter at the central store (origin ``CENTRAL``) and reach the edges through the same propagation model
as binding writes; reads answer from the central store, which holds every write at once. Every operation is a
call of the store's one operation path (``workersim.core.store``: validate, admit, apply, record), run at its
turn in the conductor's order, so faults, limits and the history treat REST calls exactly as binding calls;
their rows say ``"edge": "central"``. What is checked here is only what HTTP carries: the JSON shapes, the query
parameters, and (before a body is read) the key.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from ..core import jsontext
from ..core.errors import KVError
from ..core.listing import decode_cursor, list_result
from ..core.store import PutItem
from ..core.validation import (
    check_backend_key,
    check_bulk_request,
    check_value_size,
    list_limit,
    metadata_json,
    to_int32,
)
from ..core.versions import CENTRAL, Version
from ..sim.engine import Engine
from ._accounts import Account, Namespace
from ._asgi import OCTETS, Reply, Request, success
from ._errors import INVALID_LIMIT, ApiError, bad_request, from_kv, key_not_found
from ._multipart import parse_multipart

T = TypeVar("T")

BULK_PAIRS = 10_000
"""The most pairs one bulk write or delete may carry."""
MULTIPART_OVERHEAD = 64 * 1024
"""Room in a multipart body beyond the value itself: boundaries, part headers and the metadata part."""
SMALL_BODY = 1024 * 1024
"""The bound on JSON bodies that carry no values (a bulk get's list of keys)."""


@attrs.frozen
class Call:
    """A routed, authenticated request: the account it acts on and the path's namespace id and key."""

    request: Request
    account: Account
    namespace_id: str = ""
    key: str = ""

    def namespace(self) -> Namespace:
        """The namespace the path names; a 404 if the account has none by that id."""
        return self.account.namespace(self.namespace_id)


def _optional(item: dict[str, Any], index: int, name: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = item.get(name)
    # bool is a subclass of int: a flag must be a bool, and a number must not be one.
    if value is not None and (not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))):
        raise bad_request(f"body[{index}].{name} must be {what}, got {type(value).__name__}")
    return value


def _parse_metadata(data: bytes) -> Any:
    # The SDK sends a str metadata raw as text/plain rather than as JSON; keep such text as a JSON string.
    text = data.decode("utf-8", "replace")
    try:
        return jsontext.parse(text)
    except ValueError:
        return text


def _stored_metadata(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class KVEndpoints:
    """The handlers of ``values``, ``metadata``, ``keys`` and ``bulk`` over one simulation's engine."""

    def __init__(self, engine: Engine, bulk_body_limit: int) -> None:
        self._engine = engine
        self._store = engine.store
        self._limits = engine.store.limits
        self._bulk_body_limit = bulk_body_limit

    # --- shared --------------------------------------------------------------------------------------------

    async def _run(self, call: Call, operation: Callable[..., T], **arguments: Any) -> T:
        """``operation(now, ns=<the call's keyspace>, origin/edge=CENTRAL, **arguments)`` at its turn; a Workers KV
        rule it breaks is answered 4xx (the store has recorded the rejection)."""

        def act(now: int) -> T:
            # The namespace is looked up at the turn: it may have been deleted while the call waited.
            return operation(now, ns=call.namespace().keyspace, **arguments)

        try:
            return await self._engine.apply(act)
        except (KVError, TypeError) as error:
            raise from_kv(error) from None

    async def _early(self, call: Call, op: str, subject: str, target: Any, check: Callable[[], T]) -> T:
        """``check()``'s result, run before a body is read; a rule it breaks is recorded as a rejected call and
        answered 4xx."""
        try:
            return check()
        except (KVError, TypeError) as error:
            await self._run(
                call, self._store.reject, op=op, subject=subject, target=target, error=error, origin=CENTRAL
            )
            raise AssertionError("unreachable") from None  # pragma: no cover - reject raises

    # --- values/<key> ----------------------------------------------------------------------------------------

    async def put_value(self, call: Call) -> Reply:
        """Store the body (raw, or the ``value`` part of a multipart body, with an optional ``metadata`` part)
        under the key; ``expiration`` and ``expiration_ttl`` come from the query."""
        call.namespace()
        key, query = call.key, call.request.query

        def check_query() -> tuple[int | None, int | None]:
            check_backend_key("PUT", key, self._limits)
            expiration, ttl = query.get("expiration"), query.get("expiration_ttl")
            return (None if expiration is None else to_int32(expiration), None if ttl is None else to_int32(ttl))

        expiration, ttl = await self._early(call, "put", "key", key, check_query)
        value, metadata = await self._read_value(call.request)
        text = await self._early(call, "put", "key", key, lambda: metadata_json(metadata))
        await self._run(
            call,
            self._store.put,
            key=key,
            value=value,
            origin=CENTRAL,
            metadata=text,
            expiration=expiration,
            expiration_ttl=ttl,
        )
        return success({})

    async def _read_value(self, request: Request) -> tuple[bytes, Any]:
        content_type = request.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/form-data"):
            parts = parse_multipart(await request.body(self._limits.value_bytes + MULTIPART_OVERHEAD), content_type)
            value = parts.get("value")
            if value is None:
                raise bad_request(f"the multipart body has no 'value' part (parts: {', '.join(parts) or 'none'})")
            metadata = parts.get("metadata")
            return value.data, None if metadata is None else _parse_metadata(metadata.data)
        declared = request.declared_length()
        if declared is not None:
            try:
                check_value_size(declared, self._limits)
            except KVError as error:
                raise from_kv(error) from None
        return await request.body(self._limits.value_bytes), None

    async def get_value(self, call: Call) -> Reply:
        """The value's raw bytes, with an ``expiration`` header when it expires; a 404 (10009) if missing."""
        version = await self._read(call, "get")
        assert version.value is not None
        headers: tuple[tuple[bytes, bytes], ...] = (OCTETS,)
        if version.expiration is not None:
            headers += ((b"expiration", str(version.expiration).encode("ascii")),)
        return Reply(200, version.value, headers)

    async def get_metadata(self, call: Call) -> Reply:
        """The key's metadata (``null`` when it has none); a 404 (10009) if the key is missing."""
        version = await self._read(call, "getWithMetadata")
        return success(_stored_metadata(version.metadata))

    async def _read(self, call: Call, op: str) -> Version:
        """The key's live version in the central store, recorded as ``op``; a 404 if there is none."""
        live = await self._run(call, self._store.get, key=call.key, edge=CENTRAL, op=op)
        if live is None:
            raise key_not_found()
        return Version(*live)

    async def delete_value(self, call: Call) -> Reply:
        """Delete the key (a missing key is fine)."""
        await self._run(call, self._store.delete, key=call.key, origin=CENTRAL)
        return success({})

    # --- keys --------------------------------------------------------------------------------------------------

    async def list_keys(self, call: Call) -> Reply:
        """A page of keys (``prefix``, ``limit``, ``cursor``); ``result_info.cursor`` is ``""`` on the last."""
        call.namespace()
        query = call.request.query
        limit = self._limit(query.get("limit"))
        cursor = query.get("cursor")
        found, complete = await self._run(
            call,
            self._store.list,
            edge=CENTRAL,
            prefix=query.get("prefix", ""),
            after=decode_cursor(cursor) if cursor else None,
            limit=limit,
        )
        page = list_result(found, complete)
        keys = page["keys"]
        return success(keys, {"count": len(keys), "cursor": page.get("cursor", "")})

    def _limit(self, text: str | None) -> int:
        if text is None:
            return self._limits.list_keys
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < 1:
            raise ApiError(
                400, INVALID_LIMIT, f"Invalid key_count_limit of {text}. Please specify an integer greater than 0."
            )
        try:
            return list_limit(int(number), self._limits)
        except KVError as error:
            raise ApiError(error.status, INVALID_LIMIT, error.detail) from None

    # --- bulk --------------------------------------------------------------------------------------------------

    async def _bulk_body(self, call: Call, what: str) -> list[Any]:
        call.namespace()
        return await call.request.json_array(self._bulk_body_limit, BULK_PAIRS, what)

    async def bulk_write(self, call: Call) -> Reply:
        """Write up to 10,000 pairs ``{key, value, base64?, expiration?, expiration_ttl?, metadata?}``: all are
        checked first, then all are written at one instant."""
        body = await self._bulk_body(call, "{key, value} objects")
        items = [self._bulk_item(index, item) for index, item in enumerate(body)]
        await self._run(call, self._store.put_many, items=items, origin=CENTRAL)
        return success({"successful_key_count": len(items), "unsuccessful_keys": []})

    @staticmethod
    def _bulk_item(index: int, item: Any) -> PutItem:
        """One pair with its JSON types checked, its value decoded to bytes and its metadata serialised."""
        if not isinstance(item, dict):
            raise bad_request(f"body[{index}] must be an object with 'key' and 'value', got {type(item).__name__}")
        for name in ("key", "value"):
            if not isinstance(item.get(name), str):
                got = "nothing" if name not in item else type(item[name]).__name__
                raise bad_request(f"body[{index}].{name} must be a string, got {got}")
        encoded = _optional(item, index, "base64", bool, "true or false")
        number = (int, float)
        expiration = _optional(item, index, "expiration", number, "a number of UNIX seconds")
        ttl = _optional(item, index, "expiration_ttl", number, "a number of seconds")
        if encoded:
            try:
                value = base64.b64decode(item["value"], validate=True)
            except (binascii.Error, ValueError):
                raise bad_request(f"body[{index}].value is not valid base64") from None
        else:
            value = item["value"].encode("utf-8")
        try:
            return PutItem(
                key=item["key"],
                value=value,
                metadata=metadata_json(item.get("metadata")),
                expiration=None if expiration is None else to_int32(expiration),
                expiration_ttl=None if ttl is None else to_int32(ttl),
            )
        except TypeError as error:
            raise bad_request(f"body[{index}]: {error}") from None

    async def bulk_delete(self, call: Call) -> Reply:
        """Delete up to 10,000 keys given as a JSON array of names (``POST bulk/delete`` or ``DELETE bulk``)."""
        keys = await self._bulk_body(call, "key names")
        for index, key in enumerate(keys):
            if not isinstance(key, str):
                raise bad_request(f"body[{index}] must be a key name (a string), got {type(key).__name__}")
        await self._run(call, self._store.delete_many, keys=keys, origin=CENTRAL)
        return success({"successful_key_count": len(keys), "unsuccessful_keys": []})

    async def bulk_get(self, call: Call) -> Reply:
        """Up to 100 keys ``{"keys", "type"?: "text"|"json", "withMetadata"?: bool}``: ``{"values": {key: value}}``
        with ``null`` for missing keys; with metadata each value is ``{"value", "metadata", "expiration"?}``."""
        call.namespace()
        body = await call.request.json(SMALL_BODY)
        if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise bad_request("the body must be a JSON object with 'keys': an array of key names")
        keys = body["keys"]
        kind = body.get("type", "text")
        with_metadata = body.get("withMetadata", False)
        kind = "text" if kind is None else kind
        with_metadata = False if with_metadata is None else with_metadata
        if not all(isinstance(key, str) for key in keys):
            raise bad_request("'keys' must be an array of strings")
        if not isinstance(kind, str) or not isinstance(with_metadata, bool):
            raise bad_request("'type' must be a string and 'withMetadata' true or false")
        op = "getWithMetadata" if with_metadata else "get"
        await self._early(call, op, "keys", keys, lambda: check_bulk_request(len(keys), kind, self._limits))
        values = await self._run(
            call,
            self._store.get_many,
            keys=keys,
            edge=CENTRAL,
            kind=kind,
            with_metadata=with_metadata,
            with_expiration=True,
            op=op,
        )
        return success({"values": values})

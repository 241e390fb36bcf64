"""The REST API's key-value endpoints: values, metadata, keys and the bulk operations.

Writes enter at the central store (origin ``CENTRAL``) and reach the edges through the same propagation model
as binding writes; reads answer from the central store, which holds every write at once. Every operation runs
through ``sim.apply`` (the conductor's order) and is recorded in ``sim.history`` like a binding call, with
``"edge": "central"``. Everything is validated before anything is written: a bulk write checks all its pairs,
then writes them all.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ..core.bulk import bulk_read
from ..core.errors import KVError
from ..core.history import encode_value
from ..core.validation import (
    check_backend_key,
    check_bulk_request,
    check_key_length,
    check_metadata_size,
    check_value_size,
    list_limit,
    metadata_json,
    put_expiration,
    to_int32,
)
from ..core.versions import CENTRAL, Version
from ..kv.binding import decode_cursor, list_result
from ._accounts import Account, Namespace
from ._asgi import OCTETS, Reply, Request, success
from ._errors import INVALID_LIMIT, ApiError, bad_request, from_kv, key_not_found
from ._multipart import parse_multipart

if TYPE_CHECKING:
    from ..sim.simulation import Simulation

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


@attrs.frozen
class _Pair:
    """One checked pair of a bulk write."""

    key: str
    value: bytes
    metadata: str | None
    expiration: int | None
    expiration_ttl: int | None


def _each(check: Callable[[Any], T], items: list[Any]) -> list[T]:
    """``check(item)`` for every item, naming the item's place in the body in any error it raises."""
    results = []
    for index, item in enumerate(items):
        try:
            results.append(check(item))
        except KVError as error:
            raise KVError(error.method, error.status, f"body[{index}]: {error.detail}") from None
        except TypeError as error:
            raise TypeError(f"body[{index}]: {error}") from None
    return results


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
        return json.loads(text)
    except ValueError:
        return text


def _stored_metadata(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class KVEndpoints:
    """The handlers of ``values``, ``metadata``, ``keys`` and ``bulk`` over one simulation."""

    def __init__(self, sim: Simulation, bulk_body_limit: int) -> None:
        self._sim = sim
        self._limits = sim.limits
        self._bulk_body_limit = bulk_body_limit

    # --- shared --------------------------------------------------------------------------------------------

    def _record(self, now: int, namespace: Namespace, op: str, fields: dict[str, Any]) -> None:
        seconds = now / 1000
        self._sim.history.append(
            {"edge": "central", "ns": namespace.keyspace, "op": op, **fields, "invoke": seconds, "complete": seconds}
        )

    async def _validated(self, call: Call, op: str, subject: dict[str, Any], check: Callable[[], T]) -> T:
        """``check()``'s result; a Workers KV rule it breaks is recorded as a rejected call and answered 4xx."""
        try:
            return check()
        except (KVError, TypeError) as error:
            reason = f"{type(error).__name__}: {error}"

            def reject(now: int) -> None:
                self._record(now, call.namespace(), op, {**subject, "error": reason})

            await self._sim.apply(reject)
            raise from_kv(error) from None

    def _unix_ms(self, now: int) -> int:
        return self._sim.cluster.epoch_ms + now

    def _expirations(
        self, namespace: Namespace, now: int, subject: dict[str, Any], pairs: list[tuple[int | None, int | None]]
    ) -> list[int | None]:
        """Each write's absolute expiry, checked against the time of the write; a rejection is recorded."""
        unix_s = self._unix_ms(now) // 1000
        try:
            return [put_expiration(expiration, ttl, unix_s, self._limits) for expiration, ttl in pairs]
        except KVError as error:
            self._record(now, namespace, "put", {**subject, "error": f"KVError: {error}"})
            raise

    def _write(
        self,
        now: int,
        namespace: Namespace,
        key: str,
        value: bytes | None,
        metadata: str | None = None,
        expiration: int | None = None,
    ) -> None:
        space = self._sim.cluster.namespace(namespace.keyspace)
        version = space.write(key, value, origin=CENTRAL, now=now, metadata=metadata, expiration=expiration)
        if value is None:
            self._record(now, namespace, "delete", {"key": key, "value": None, "version": version.seq})
            return
        fields: dict[str, Any] = {"key": key, "value": encode_value(value), "metadata": _stored_metadata(metadata)}
        if expiration is not None:
            fields["expiration"] = expiration
        self._record(now, namespace, "put", {**fields, "version": version.seq})

    # --- values/<key> ----------------------------------------------------------------------------------------

    async def put_value(self, call: Call) -> Reply:
        """Store the body (raw, or the ``value`` part of a multipart body, with an optional ``metadata`` part)
        under the key; ``expiration`` and ``expiration_ttl`` come from the query."""
        call.namespace()
        key, query = call.key, call.request.query
        subject = {"key": key}

        def check_query() -> tuple[int | None, int | None]:
            check_backend_key("PUT", key, self._limits)
            expiration, ttl = query.get("expiration"), query.get("expiration_ttl")
            return (None if expiration is None else to_int32(expiration), None if ttl is None else to_int32(ttl))

        expiration, ttl = await self._validated(call, "put", subject, check_query)
        value, metadata = await self._read_value(call.request)

        def check_body() -> str | None:
            text = metadata_json(metadata)
            check_metadata_size(text, self._limits)
            check_value_size(len(value), self._limits)
            return text

        metadata_text = await self._validated(call, "put", subject, check_body)

        def write(now: int) -> None:
            namespace = call.namespace()
            [expires] = self._expirations(namespace, now, subject, [(expiration, ttl)])
            self._write(now, namespace, key, value, metadata_text, expires)

        await self._sim.apply(write)
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
            check_value_size(declared, self._limits)
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
        key = call.key
        await self._validated(call, op, {"key": key}, lambda: check_backend_key("GET", key, self._limits))

        def read(now: int) -> Version | None:
            namespace = call.namespace()
            version = self._sim.cluster.namespace(namespace.keyspace).read(key, None, now)
            live = version if version is not None and version.live_at(self._unix_ms(now)) else None
            self._record(
                now,
                namespace,
                op,
                {
                    "key": key,
                    "value": None if live is None else encode_value(live.value),
                    "metadata": None if live is None else _stored_metadata(live.metadata),
                    "version": None if version is None else version.seq,
                },
            )
            return live

        live = await self._sim.apply(read)
        if live is None:
            raise key_not_found()
        return live

    async def delete_value(self, call: Call) -> Reply:
        """Delete the key (a missing key is fine)."""
        key = call.key
        await self._validated(call, "delete", {"key": key}, lambda: check_backend_key("DELETE", key, self._limits))
        await self._sim.apply(lambda now: self._write(now, call.namespace(), key, None))
        return success({})

    # --- keys --------------------------------------------------------------------------------------------------

    async def list_keys(self, call: Call) -> Reply:
        """A page of keys (``prefix``, ``limit``, ``cursor``); ``result_info.cursor`` is ``""`` on the last."""
        call.namespace()
        query = call.request.query
        prefix = query.get("prefix", "")
        limit = self._limit(query.get("limit"))
        await self._validated(call, "list", {"prefix": prefix}, lambda: check_key_length("GET", prefix, self._limits))
        cursor = query.get("cursor")
        after = decode_cursor(cursor) if cursor else None

        def scan(now: int) -> dict[str, Any]:
            namespace = call.namespace()
            space = self._sim.cluster.namespace(namespace.keyspace)
            found, complete = space.list(None, now, prefix=prefix, after=after, limit=limit)
            self._record(
                now,
                namespace,
                "list",
                {"prefix": prefix, "value": [name for name, _ in found], "list_complete": complete},
            )
            return list_result(found, complete)

        page = await self._sim.apply(scan)
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
        body = await call.request.json(self._bulk_body_limit)
        if not isinstance(body, list):
            raise bad_request(f"the body must be a JSON array of {what}, got {type(body).__name__}")
        if len(body) > BULK_PAIRS:
            raise bad_request(f"a bulk request takes at most {BULK_PAIRS} items, got {len(body)}")
        return body

    async def bulk_write(self, call: Call) -> Reply:
        """Write up to 10,000 pairs ``{key, value, base64?, expiration?, expiration_ttl?, metadata?}``: all are
        checked first, then all are written at one instant."""
        items = await self._bulk_body(call, "{key, value} objects")
        raw = [self._bulk_item(index, item) for index, item in enumerate(items)]
        subject = {"keys": [item["key"] for item in raw]}
        pairs = await self._validated(call, "put", subject, lambda: _each(self._pair, raw))

        def write(now: int) -> None:
            namespace = call.namespace()
            expirations = self._expirations(
                namespace, now, subject, [(pair.expiration, pair.expiration_ttl) for pair in pairs]
            )
            for pair, expires in zip(pairs, expirations, strict=True):
                self._write(now, namespace, pair.key, pair.value, pair.metadata, expires)

        await self._sim.apply(write)
        return success({"successful_key_count": len(pairs), "unsuccessful_keys": []})

    @staticmethod
    def _bulk_item(index: int, item: Any) -> dict[str, Any]:
        """One pair with its JSON types checked and its value decoded to bytes."""
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
        return {**item, "value": value, "expiration": expiration, "expiration_ttl": ttl}

    def _pair(self, item: dict[str, Any]) -> _Pair:
        check_backend_key("PUT", item["key"], self._limits)
        expiration, ttl = item["expiration"], item["expiration_ttl"]
        metadata = metadata_json(item.get("metadata"))
        check_metadata_size(metadata, self._limits)
        check_value_size(len(item["value"]), self._limits)
        return _Pair(
            item["key"],
            item["value"],
            metadata,
            None if expiration is None else to_int32(expiration),
            None if ttl is None else to_int32(ttl),
        )

    async def bulk_delete(self, call: Call) -> Reply:
        """Delete up to 10,000 keys given as a JSON array of names (``POST bulk/delete`` or ``DELETE bulk``)."""
        keys = await self._bulk_body(call, "key names")
        for index, key in enumerate(keys):
            if not isinstance(key, str):
                raise bad_request(f"body[{index}] must be a key name (a string), got {type(key).__name__}")

        def check(key: str) -> str:
            return check_backend_key("DELETE", key, self._limits)

        await self._validated(call, "delete", {"keys": keys}, lambda: _each(check, keys))

        def remove(now: int) -> None:
            namespace = call.namespace()
            for key in keys:
                self._write(now, namespace, key, None)

        await self._sim.apply(remove)
        return success({"successful_key_count": len(keys), "unsuccessful_keys": []})

    async def bulk_get(self, call: Call) -> Reply:
        """Up to 100 keys ``{"keys", "type"?: "text"|"json", "withMetadata"?: bool}``: ``{"values": {key: value}}``
        with ``null`` for missing keys; with metadata each value is ``{"value", "metadata", "expiration"?}``."""
        call.namespace()
        body = await call.request.json(SMALL_BODY)
        if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise bad_request("the body must be a JSON object with 'keys': an array of key names")
        keys = body["keys"]
        kind = body.get("type") or "text"
        with_metadata = body.get("withMetadata") or False
        if not all(isinstance(key, str) for key in keys):
            raise bad_request("'keys' must be an array of strings")
        if not isinstance(kind, str) or not isinstance(with_metadata, bool):
            raise bad_request("'type' must be a string and 'withMetadata' true or false")
        op = "getWithMetadata" if with_metadata else "get"
        await self._validated(call, op, {"keys": keys}, lambda: check_bulk_request(len(keys), kind, self._limits))

        def read(now: int) -> dict[str, Any]:
            namespace = call.namespace()
            space = self._sim.cluster.namespace(namespace.keyspace)
            try:
                found = bulk_read(
                    space,
                    keys,
                    edge=None,
                    now=now,
                    kind=kind,
                    with_metadata=with_metadata,
                    limits=self._limits,
                    with_expiration=True,
                )
            except KVError as error:
                self._record(now, namespace, op, {"keys": keys, "error": f"KVError: {error}"})
                raise
            self._record(
                now, namespace, op, {"keys": list(found.versions), "value": found.seen, "version": found.versions}
            )
            return found.values

        return success({"values": await self._sim.apply(read)})

"""Bulk get: many keys read at once, checked and parsed key by key as the Workers KV backend does."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from .errors import KVError
from .history import encode_value
from .limits import Limits
from .replicas import Keyspace
from .validation import check_backend_key, check_bulk_size, check_cache_ttl

NON_JSON = "At least one of the requested keys corresponds to a non-json value"


@attrs.frozen
class BulkRead:
    """What a bulk get returns, and what it saw (for the history)."""

    values: dict[str, Any]
    """Per key: the value (``text`` or parsed ``json``), ``{"value", "metadata"[, "expiration"]}`` with metadata,
    or ``None`` when missing."""
    seen: dict[str, Any]
    """Per key: the stored value as a history records it."""
    versions: dict[str, int | None]
    """Per key: the version read (``None`` when nothing has arrived)."""


def bulk_read(
    space: Keyspace,
    keys: Sequence[str],
    *,
    edge: int | None,
    now: int,
    kind: str,
    with_metadata: bool,
    limits: Limits,
    cache_ttl: int | None = None,
    with_expiration: bool = False,
) -> BulkRead:
    """Read ``keys`` at ``edge`` (``None``: the central store) at ``now``.

    Each key is validated, read and parsed before the next is looked at, so the first problem in request order
    is the one reported; then the total size is checked. Raises ``KVError`` (method ``GET_BULK``).
    """
    unix_ms = space.cluster.epoch_ms + now
    values: dict[str, Any] = {}
    seen: dict[str, Any] = {}
    versions: dict[str, int | None] = {}
    total = 0
    for key in keys:
        if key in versions:
            continue
        check_backend_key("GET_BULK", key, limits)
        check_cache_ttl("GET_BULK", cache_ttl, limits)
        version = space.read(key, edge, now, cache_ttl=cache_ttl, method="GET_BULK")
        versions[key] = None if version is None else version.seq
        if version is None or version.value is None or not version.live_at(unix_ms):
            values[key] = seen[key] = None
            continue
        text = version.value.decode("utf-8", "replace")
        seen[key] = encode_value(version.value)
        total += len(text.encode("utf-16-le")) // 2  # the backend counts JS string length: UTF-16 units
        value: Any = text
        if kind == "json":
            try:
                value = json.loads(text)
            except ValueError:
                raise KVError("GET_BULK", 400, NON_JSON) from None
        if with_metadata:
            value = {"value": value, "metadata": None if version.metadata is None else json.loads(version.metadata)}
            if with_expiration and version.expiration is not None:
                value["expiration"] = version.expiration
        values[key] = value
    check_bulk_size(total, limits)
    return BulkRead(values, seen, versions)

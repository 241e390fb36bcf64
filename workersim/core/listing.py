"""``list`` results and cursors: the shape of a page of keys, shared by the binding and the REST API."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

from .versions import EXPIRATION, METADATA, Stored


def list_result(
    found: Sequence[tuple[str, Stored]],
    complete: bool,
    *,
    entry_type: Callable[..., dict[str, Any]] = dict,
    parse_metadata: Callable[[str], Any] = json.loads,
) -> dict[str, Any]:
    """The JS shape of a list page: ``cursor`` only while incomplete, ``expiration``/``metadata`` only if set.
    Each key's entry is made by ``entry_type`` and its metadata parsed by ``parse_metadata`` (the binding makes
    JavaScript-like values of them)."""
    keys = []
    for name, version in found:
        entry = entry_type(name=name)
        expiration, metadata = version[EXPIRATION], version[METADATA]
        if expiration is not None:
            entry["expiration"] = expiration
        if metadata is not None:
            entry["metadata"] = parse_metadata(metadata)
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

"""Workers KV's validation rules and their exact wording, as pure functions.

Client-side rules raise ``TypeError`` (as workerd does before sending anything); backend rules raise ``KVError``
worded ``KV <METHOD> failed: <status> <text>``. Nothing here changes state, so a caller that validates first and
writes after can never half-write.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .errors import KVError
from .limits import Limits

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
TYPES = ("text", "arrayBuffer", "json", "stream")
BULK_TYPES = ("text", "json")


def to_int32(value: Any) -> int:
    """Coerce an option the way the Workers runtime turns a JS value into a C++ ``int``.

    Numbers are truncated toward zero; strings are parsed as numbers; anything that is not a number (or NaN,
    or infinite) becomes 0; a result outside the 32-bit range is a ``TypeError``.
    """
    if isinstance(value, bool):
        number: float = int(value)
    elif isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip()) if value.strip() else 0.0
        except ValueError:
            number = 0.0
    else:
        number = 0.0
    if isinstance(number, float):
        if not math.isfinite(number):
            return 0
        number = math.trunc(number)
    if not INT32_MIN <= number <= INT32_MAX:
        raise TypeError(f"Value out of range. Must be between {INT32_MIN} and {INT32_MAX} (inclusive).")
    return int(number)


_NAMES_REFUSED = ("", ".", "..")
"""Key names refused whatever their length (each with its own error)."""


def key_text(key: Any) -> str:
    """A key as the binding receives it: a ``str``, or an ``int`` as its decimal string (workerd turns a JS number
    key into a string, and Python Workers code passes ints through, e.g. ``get(user_id)``); anything else is a
    ``TypeError``."""
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise TypeError(f"KV key must be a string, got {type(key).__name__}.")


def check_key(method: str, key: Any, limits: Limits) -> str:
    """Validate a key as workerd does before a single-key call; return it as text (see ``key_text``)."""
    if type(key) is str and len(key) * 4 <= limits.key_bytes and key not in _NAMES_REFUSED:
        return key  # the common key, which none of the checks below refuses (see check_backend_key)
    text = key_text(key)
    if text == "":
        raise TypeError("Key name cannot be empty.")
    if text in (".", ".."):
        raise TypeError(f'"{text}" is not allowed as a key name.')
    check_key_length(method, text, limits)
    return text


def check_key_length(method: str, key: str, limits: Limits) -> None:
    """The 414 for keys (and list prefixes) longer than the key limit in UTF-8 bytes."""
    if len(key) * 4 <= limits.key_bytes:
        return  # no character takes more than 4 bytes: skip encoding the common short key
    size = len(key.encode("utf-8"))
    if size > limits.key_bytes:
        raise KVError(method, 414, f"UTF-8 encoded length of {size} exceeds key length limit of {limits.key_bytes}.")


def check_backend_key(method: str, key: Any, limits: Limits) -> str:
    """Validate a key as the KV backend does (reached through bulk get and the REST API); return it."""
    if type(key) is str and len(key) * 4 <= limits.key_bytes and key not in _NAMES_REFUSED:
        # The common key: text of at most key_bytes / 4 characters (4 UTF-8 bytes each at most), not a refused
        # name. None of the checks below refuses it.
        return key
    if not isinstance(key, str):
        raise TypeError(f"KV key must be a string, got {type(key).__name__}.")
    if key == "":
        raise KVError(method, 400, "Key names must not be empty")
    if key in (".", ".."):
        raise KVError(method, 400, f'Illegal key name "{key}". Please use a different name.')
    check_key_length(method, key, limits)
    return key


def check_cache_ttl(method: str, cache_ttl: int | None, limits: Limits) -> None:
    """``cacheTtl`` must be at least the minimum (30 seconds today)."""
    if cache_ttl is not None and cache_ttl < limits.min_cache_ttl:
        raise KVError(
            method, 400, f"Invalid cache_ttl of {cache_ttl}. Cache TTL must be at least {limits.min_cache_ttl}."
        )


def put_expiration(expiration: int | None, expiration_ttl: int | None, now_s: int, limits: Limits) -> int | None:
    """The absolute expiry (UNIX seconds) a put asks for, checked against ``now_s``; a TTL wins over an
    absolute expiration when both are given, as in Workers KV."""
    minimum = limits.min_expiration_ttl
    if expiration_ttl is not None:
        if expiration_ttl <= 0:
            raise KVError(
                "PUT", 400, f"Invalid expiration_ttl of {expiration_ttl}. Please specify integer greater than 0."
            )
        if expiration_ttl < minimum:
            raise KVError(
                "PUT",
                400,
                f"Invalid expiration_ttl of {expiration_ttl}. Expiration TTL must be at least {minimum}.",
            )
        return now_s + expiration_ttl
    if expiration is not None:
        if expiration <= now_s:
            raise KVError(
                "PUT",
                400,
                f"Invalid expiration of {expiration}. Please specify integer greater than the current number of "
                "seconds since the UNIX epoch.",
            )
        if expiration < now_s + minimum:
            raise KVError(
                "PUT",
                400,
                f"Invalid expiration of {expiration}. Expiration times must be at least {minimum} seconds in "
                "the future.",
            )
    return expiration


def metadata_json(metadata: Any) -> str | None:
    """Serialise metadata as JS ``JSON.stringify`` would (compact, non-ASCII kept); ``None`` means none."""
    if metadata is None:
        return None
    try:
        return json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"KV metadata must be JSON-serializable: {exc}") from None
    except RecursionError:
        raise TypeError("KV metadata must be JSON-serializable: it is nested too deeply") from None


def check_put(
    key: Any,
    metadata: str | None,
    expiration: int | None,
    expiration_ttl: int | None,
    size: int,
    unix_ms: int,
    limits: Limits,
    *,
    key_checked: bool = False,
) -> int | None:
    """The backend's rules for one write of ``size`` bytes at ``unix_ms`` (UNIX milliseconds), in its order: the
    key (unless ``key_checked``: the client's rules, ``check_key``, passed it), the expiration, the metadata, the
    value. Returns the absolute expiry (UNIX seconds)."""
    if not key_checked:
        check_backend_key("PUT", key, limits)
    if expiration is not None or expiration_ttl is not None:
        expiration = put_expiration(expiration, expiration_ttl, unix_ms // 1000, limits)
    if metadata is not None:
        check_metadata_size(metadata, limits)
    if size > limits.value_bytes:  # as check_value_size, whose error this is: a call less on every write
        check_value_size(size, limits)
    return expiration


def check_metadata_size(metadata: str | None, limits: Limits) -> None:
    """Metadata may take at most the metadata limit in UTF-8 bytes of compact JSON."""
    if metadata is None:
        return
    size = len(metadata.encode("utf-8"))
    if size > limits.metadata_bytes:
        raise KVError("PUT", 413, f"Metadata length of {size} exceeds limit of {limits.metadata_bytes}.")


def check_value_size(size: int, limits: Limits) -> None:
    """Values may take at most the value limit in bytes."""
    if size > limits.value_bytes:
        raise KVError("PUT", 413, f"Value length of {size} exceeds limit of {limits.value_bytes}.")


def list_limit(limit: int | None, limits: Limits) -> int:
    """The page size of a list: absent or not positive means the maximum (workerd only sends ``limit > 0``)."""
    if limit is None or limit <= 0:
        return limits.list_keys
    if limit > limits.list_keys:
        raise KVError(
            "GET",
            400,
            f"Invalid key_count_limit of {limit}. Please specify an integer less than {limits.list_keys}.",
        )
    return limit


def check_bulk_request(count: int, type_: str, limits: Limits) -> None:
    """A bulk get asks for 1 to 100 keys, as text or json, checked in the backend's order."""
    if type_ not in BULK_TYPES:
        raise KVError("GET_BULK", 400, f'"{type_}" is not a valid type. Use "json" or "text"')
    if count > limits.bulk_get_keys:
        raise KVError("GET_BULK", 400, f"You can request a maximum of {limits.bulk_get_keys} keys")
    if count < 1:
        raise KVError("GET_BULK", 400, "You must request a minimum of 1 key")


def check_bulk_size(total: int, limits: Limits) -> None:
    """The values a bulk get returns may add up to at most the bulk limit (25 MiB)."""
    if total > limits.bulk_get_bytes:
        mb = limits.bulk_get_bytes / (1024 * 1024)
        shown = str(int(mb)) if mb.is_integer() else repr(mb)
        raise KVError("GET_BULK", 413, f"Total size of request exceeds the limit of {shown}MB")

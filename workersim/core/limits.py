"""Size and count limits of Workers KV."""

from __future__ import annotations

import attrs

_MIB = 1024 * 1024


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"Limits.{attribute.name} must be a positive integer, got {value!r}")


def _field(default: int) -> int:
    return attrs.field(default=default, validator=_positive, kw_only=True)


@attrs.frozen
class Limits:
    """The limits a simulation enforces.

    The defaults follow the seed documents where they speak (2 MiB values, 20 namespaces per account) and
    Cloudflare's published limits everywhere else; ``Limits.current()`` gives today's published limits.
    """

    key_bytes: int = _field(512)
    value_bytes: int = _field(2 * _MIB)
    metadata_bytes: int = _field(1024)
    min_expiration_ttl: int = _field(60)
    min_cache_ttl: int = _field(30)
    list_keys: int = _field(1000)
    bulk_get_keys: int = _field(100)
    bulk_get_bytes: int = _field(25 * _MIB)
    namespaces: int = _field(20)

    @classmethod
    def current(cls) -> Limits:
        """Cloudflare's limits as published today: 25 MiB values and 1000 namespaces per account."""
        return cls(value_bytes=25 * _MIB, namespaces=1000)

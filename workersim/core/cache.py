"""The edge-cache consistency model of today's Workers KV (opt-in; push propagation is the default)."""

from __future__ import annotations

import attrs


def _ttl(_instance: object, attribute: attrs.Attribute, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"EdgeCache.{attribute.name} must be a positive number of seconds, got {value!r}")


@attrs.frozen
class EdgeCache:
    """A central store plus a cache at every edge, as Workers KV works today.

    A write goes to the central store and to the writing edge's cache at once. A read at an edge answers from
    that edge's cache while the cached entry is younger than the read's ``cacheTtl`` (``default_ttl`` seconds
    when not given); otherwise it fetches from the central store and caches the answer, a missing key included
    (negative caching). So another edge sees a write only once its cached entry has aged past ``cacheTtl``.
    While the central store is down, or the edge is cut off from it by a partition, a read that must fetch and
    every write at that edge fail with a 503.
    """

    default_ttl: int = attrs.field(default=60, validator=_ttl)

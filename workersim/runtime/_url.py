"""Absolute URLs, checked and normalised the way the Fetch API's URL parser shows them."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit, urlunsplit


def absolute_url(url: object, what: str) -> str:
    """``url`` with its scheme and host lower-cased and an empty path made ``/``; a ``TypeError`` unless it is an
    absolute ``http``/``https`` URL (a Worker has no base URL to resolve a relative one against)."""
    if not isinstance(url, str):
        raise TypeError(f"{what} needs a URL string, got {type(url).__name__} {url!r}")
    return _normalise(url, what)


@functools.lru_cache(maxsize=4096)
def _normalise(url: str, what: str) -> str:
    # Cached: a worker is usually asked for the same few URLs again and again, and parsing is the costly part.
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError as error:
        raise TypeError(f"Invalid URL {url!r}: {error}") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise TypeError(f"Invalid URL {url!r}: {what} needs an absolute http(s) URL such as 'https://example.com/path'")
    netloc = parts.netloc.rpartition("@")
    authority = netloc[0] + netloc[1] + netloc[2].lower()
    return urlunsplit((parts.scheme.lower(), authority, parts.path or "/", parts.query, parts.fragment))

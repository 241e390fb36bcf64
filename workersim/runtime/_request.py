"""``Request``: an incoming HTTP request as a Worker sees it."""

from __future__ import annotations

import re

from ._body import Body, BodyInit, body_bytes
from ._headers import Headers, HeadersInit
from ._url import absolute_url

_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# The Fetch API upper-cases these six whatever case they come in, and refuses the forbidden three.
_NORMALISED = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
_FORBIDDEN = frozenset({"CONNECT", "TRACE", "TRACK"})


def _method(method: object) -> str:
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise TypeError(f"Invalid HTTP method {method!r}")
    upper = method.upper()
    if upper in _FORBIDDEN:
        raise TypeError(f"Forbidden HTTP method {method!r}")
    return upper if upper in _NORMALISED else method


class Request(Body):
    """An HTTP request, as the Fetch API and Cloudflare's Python Workers shape it.

    ``Request(url, method="GET", headers=None, body=None)``, or ``Request(other_request, ...)`` to copy one with
    changes. ``.url`` (absolute), ``.method`` (upper-case for the standard methods), ``.headers``
    (a case-insensitive ``Headers``), and the body, read once: ``await .text()``, ``await .json()``,
    ``await .bytes()``.
    """

    __slots__ = ("_url", "_method", "_headers")

    def __init__(
        self,
        input: str | Request,  # noqa: A002 - the Fetch API's name
        *,
        method: str | None = None,
        headers: HeadersInit | None = None,
        body: BodyInit = None,
    ) -> None:
        if isinstance(input, Request):
            url = input.url
            method = input.method if method is None else method
            headers = input.headers if headers is None else headers
            data = input._copy_body() if body is None else body_bytes(body, "Request")
        else:
            url = absolute_url(input, "Request")
            data = body_bytes(body, "Request")
        self._url = url
        self._method = _method("GET" if method is None else method)
        self._headers = Headers(headers)
        if data is not None and self._method in ("GET", "HEAD"):
            raise TypeError(f"Request with a {self._method} method cannot have a body.")
        super().__init__(data)

    def __repr__(self) -> str:
        return f"Request(method={self._method!r}, url={self._url!r})"

    @property
    def url(self) -> str:
        """The absolute URL, e.g. ``"https://example.com/path?q=1"``."""
        return self._url

    @property
    def method(self) -> str:
        """The HTTP method, e.g. ``"GET"``."""
        return self._method

    @property
    def headers(self) -> Headers:
        """The request headers (case-insensitive names)."""
        return self._headers

    async def json(self) -> object:
        """The body parsed as JSON."""
        return await self._read_json()

    def clone(self) -> Request:
        """A copy whose body can be read independently (the body must not have been read yet)."""
        return Request(self)

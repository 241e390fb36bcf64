"""``Request``: an incoming HTTP request as a Worker sees it."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ._body import BodyInit, Message, ReadableStream, body_bytes
from ._cf import edge_headers, visitor_country
from ._formdata import FormData
from ._headers import Fields, Headers, HeadersInit
from ._jsffi import JsBuffer, JsObject, JsProxy, parse_json
from ._url import absolute_url

_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# The Fetch API upper-cases these six whatever case they come in, and refuses the forbidden three.
_NORMALISED = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
_FORBIDDEN = frozenset({"CONNECT", "TRACE", "TRACK"})
_NO_CF: Mapping[str, Any] = MappingProxyType({})
"""The ``cf`` template of a request made without any: an empty ``JsObject`` once read."""


def _method(method: object) -> str:
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise TypeError(f"Invalid HTTP method {method!r}")
    upper = method.upper()
    if upper in _FORBIDDEN:
        raise TypeError(f"Forbidden HTTP method {method!r}")
    return upper if upper in _NORMALISED else method


@functools.lru_cache(maxsize=1024)
def _arrival(url: str, index: int, country: str) -> tuple[str, Fields]:
    # Cached: the same few URLs come back at each edge.
    checked = absolute_url(url, "Request")
    return checked, edge_headers(index, country, checked.partition(":")[0])


class Request(Message):
    """An HTTP request, as the Fetch API and Cloudflare's Python Workers shape it.

    ``Request(url, method="GET", headers=None, body=None)``, or ``Request(other_request, ...)`` to copy one with
    changes. ``.url`` (absolute), ``.method`` (upper-case for the standard methods), ``.headers``
    (a case-insensitive ``Headers``), and the body, read once: ``await .text()``, ``await .json()``,
    ``await .bytes()``.
    """

    __slots__ = ("_url", "_method", "_cf")
    _cf: JsObject | Mapping[str, Any]
    """Its ``cf`` properties, or a template of them shared with other requests and copied when first read."""

    def __init__(
        self,
        input: str | Request | JsRequest,  # noqa: A002 - the Fetch API's name
        *,
        method: str | None = None,
        headers: HeadersInit | None = None,
        body: BodyInit = None,
    ) -> None:
        if isinstance(input, JsRequest):
            input = input.python_request
        if isinstance(input, Request):
            url = input.url
            method = input.method if method is None else method
            headers = input.headers if headers is None else headers
            data = input._copy_body() if body is None else body_bytes(body, "Request")
            # Its own copy of the other's properties (a template stays shared until read, as in `_at_edge`).
            cf = JsObject(input._cf) if isinstance(input._cf, JsObject) else input._cf
        else:
            url = absolute_url(input, "Request")
            data = None if body is None else body_bytes(body, "Request")
            cf = _NO_CF
        self._url = url
        self._method = "GET" if method is None else _method(method)
        self._headers = () if headers is None else Headers(headers)
        if data is not None and self._method in ("GET", "HEAD"):
            raise TypeError(f"Request with a {self._method} method cannot have a body.")
        self._body = data
        self._cf = cf

    @classmethod
    def _arriving(cls, url: str, cf: Mapping[str, Any], index: int, country: str) -> Request:
        """``Request(url)`` as it arrives at the ``index``-th edge (after ``_at_edge(cf, index, country)``), made
        in one step: what ``sim.fetch(url)`` serves, on every request (tests check that the two agree)."""
        request = cls.__new__(cls)
        request._url, request._headers = _arrival(url, index, country)
        request._method = "GET"
        request._body = None
        request._cf = cf
        return request

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
    def cf(self) -> JsObject:
        """Cloudflare's ``cf`` properties of an incoming request: ``colo`` (the serving edge), ``country``,
        ``city``, ``asn``, ``timezone``... (``request.cf.colo`` or ``request.cf["colo"]``); empty on a request the
        worker made itself."""
        cf = self._cf
        if not isinstance(cf, JsObject):
            cf = self._cf = JsObject(cf)  # the shared template, copied at the first look
        return cf

    @cf.setter
    def cf(self, properties: Any) -> None:
        self._cf = JsObject(properties)

    def _at_edge(self, defaults: Mapping[str, Any], index: int, country: str) -> None:
        """Give the request what Cloudflare adds at the ``index``-th edge: the ``cf`` properties ``defaults`` (the
        edge's, never changed: a request copies them only when its code reads ``cf``) under any it carries
        already, and the ``CF-*`` headers it does not carry yet (``country``: the defaults' visitor's)."""
        if self._cf is _NO_CF:
            self._cf = defaults
        else:
            merged = {**defaults, **self.cf.to_py()}
            self._cf = JsObject(merged)
            country = visitor_country(merged)
        fields = edge_headers(index, country, self._url.partition(":")[0])
        if self._headers == ():  # a new request's: they are its headers as they stand
            self._headers = fields
        else:
            self.headers._extend_absent(fields)

    async def json(self) -> object:
        """The body parsed as JSON."""
        return await self._read_json()

    def clone(self) -> Request:
        """A copy whose body can be read independently (the body must not have been read yet)."""
        return Request(self)

    async def form_data(self) -> FormData:
        """The body as a form (``application/x-www-form-urlencoded`` or ``multipart/form-data``); a
        ``TypeError`` for any other body."""
        return FormData.from_body(await self.bytes(), self.headers.get("content-type") or "")

    formData = form_data  # noqa: N815 - JavaScript's name

    @property
    def js_object(self) -> JsRequest:
        """The request as JavaScript holds it (what ``asgi.fetch`` and ``env.ASSETS.fetch`` take on Cloudflare)."""
        return JsRequest(self)


class JsRequest(JsProxy):
    """A request as JavaScript holds it: what an older ``on_fetch`` receives and ``Request.js_object`` gives.

    ``url``, ``method``, ``headers`` (``headers.get(name)``), ``cf``, ``bodyUsed``; ``await text()``,
    ``await json()`` (a JavaScript value: attribute access and ``to_py()``), ``await arrayBuffer()``; ``clone()``.
    """

    __slots__ = ("python_request",)
    js_type = "Request"

    def __init__(self, request: Request) -> None:
        self.python_request = request

    @property
    def url(self) -> str:
        """The absolute URL."""
        return self.python_request.url

    @property
    def method(self) -> str:
        """The method."""
        return self.python_request.method

    @property
    def headers(self) -> Headers:
        """The headers."""
        return self.python_request.headers

    @property
    def cf(self) -> JsObject:
        """Cloudflare's ``cf`` properties (``colo``, ``country``...)."""
        return self.python_request.cf

    @property
    def bodyUsed(self) -> bool:  # noqa: N802 - JavaScript's name
        """Whether the body has been read."""
        return self.python_request.body_used

    @property
    def js_object(self) -> JsRequest:
        """The request itself (what ``asgi.fetch`` and bindings take)."""
        return self

    async def text(self) -> str:
        """The body as text."""
        return await self.python_request.text()

    async def json(self) -> Any:
        """The body parsed as JSON, as a JavaScript value (a ``JsException`` ``SyntaxError`` if it is not JSON)."""
        return parse_json(await self.python_request.text())

    @property
    def body(self) -> ReadableStream | None:
        """The body as a stream (``None`` when there is none): another message's body, unread."""
        return self.python_request.body

    async def arrayBuffer(self) -> JsBuffer:  # noqa: N802 - JavaScript's name
        """The body as an ``ArrayBuffer`` (``.to_bytes()``)."""
        return JsBuffer(await self.python_request.bytes())

    async def bytes(self) -> bytes:
        """The body as bytes."""
        return await self.python_request.bytes()

    async def formData(self) -> FormData:  # noqa: N802 - JavaScript's name
        """The body as a form."""
        return await self.python_request.form_data()

    def clone(self) -> JsRequest:
        """A copy whose body can be read separately."""
        return JsRequest(self.python_request.clone())

    def __repr__(self) -> str:
        return f"JsRequest(method={self.method!r}, url={self.url!r})"

"""``import js``: the JavaScript globals a Python Worker reaches through Pyodide, backed by workersim's own objects.

``Response.new``, ``Headers.new``, ``Request.new``, ``URL.new``, ``URLSearchParams.new``, ``JSON``, ``Object``,
``console``, ``Date``, ``crypto``, ``Math.random``, ``fetch``, ``Uint8Array``, ``TextEncoder``/``TextDecoder``:
enough for a worker's logic. Each isolate gets its own module, bound to its edge's host: the simulated clock, the
isolate's seeded randomness, the simulation's log and its outbound routes. Cloudflare's globals that it does not
simulate (``HTMLRewriter``, ``WebSocketPair``, ``caches``...) can be imported, and using one raises a
``NotImplementedError`` that says so; any other missing name raises an ``AttributeError`` listing what there is.
"""

from __future__ import annotations

import json
import math
import random
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import attrs

from ..kv.streams import ReadableStream as KVStream
from ._body import ReadableStream
from ._headers import Headers
from ._jsffi import JsArray, JsBuffer, JsMap, JsObject, JsProxy, from_entries, parse_json, to_py
from ._outbound import Fetch
from ._request import JsRequest, Request
from ._response import Response
from ._unsimulated import NotSimulated

_DEFAULT_PORTS = {"http": "80", "https": "443"}


@attrs.frozen(kw_only=True)
class JsHost:
    """What an isolate's JavaScript globals are bound to."""

    now_ms: Callable[[], float]
    """The simulated UNIX time in milliseconds (``Date.now()``)."""
    rng: random.Random
    """The isolate's seeded generator (``crypto``, ``Math.random``)."""
    log: Callable[[str, str], None]
    """Where ``console.<level>(text)`` goes."""
    fetch: Fetch
    """Outbound requests."""


def console_text(value: Any) -> str:
    """One ``console.log`` argument as JavaScript's console shows it."""
    if isinstance(value, str):
        return value
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | JsObject):
        return json.dumps(to_py(value), default=str, separators=(",", ":"))
    return str(value)


def _stringify(value: Any, replacer: Any = None, space: Any = None) -> str | None:
    if value is None:
        return None  # JSON.stringify(undefined) is undefined
    indent = space if isinstance(space, int | str) and space else None
    separators = (",", ": ") if indent is not None else (",", ":")
    return json.dumps(to_py(value), indent=indent, separators=separators, ensure_ascii=False)


def _init_fields(init: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """A ``Response``/``Request`` init as plain fields, from a dict, a converted object or keyword arguments."""
    fields: dict[str, Any] = {}
    if isinstance(init, JsObject):
        init = init.to_py()
    if isinstance(init, JsRequest):
        init = init.python_request
    if isinstance(init, Response):
        fields = {"status": init.status, "statusText": init.status_text, "headers": init.headers}
    elif isinstance(init, Request):
        # A request read as an init dictionary, as JavaScript reads one: its method, headers and body stream.
        fields = {"method": init.method, "headers": init.headers, "body": init.body}
    elif isinstance(init, Mapping):
        fields = dict(init)
    elif init is not None:
        raise TypeError(f"an init must be an object of options such as {{status, headers}}, got {init!r}")
    fields.update(options)
    return fields


def _headers(value: Any) -> Headers | None:
    if value is None or isinstance(value, Headers):
        return value
    if isinstance(value, JsObject):
        value = value.to_py()
    if isinstance(value, Mapping):
        return Headers({str(key): str(item) for key, item in value.items()})
    return Headers([(str(name), str(item)) for name, item in value])


def _body(body: Any) -> str | bytes | ReadableStream | None:
    if body is None or isinstance(body, str | bytes | ReadableStream):
        return body
    if isinstance(body, JsBuffer | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, KVStream):  # a get(key, "stream") read
        return body.take()
    if isinstance(body, URLSearchParams):
        return str(body)
    if isinstance(body, JsProxy):
        raise TypeError(f"Unsupported body type: a {body.js_type} is not simulated as a body")
    # Any other Python value reaches JavaScript as a proxy, and the Fetch API turns a body it does not know into
    # text with toString(), which for a Python object is str(): Response.new({"a": 1}) has the body "{'a': 1}".
    return str(body)


class _ResponseClass:
    """JavaScript's ``Response``: ``Response.new(body, init)``, ``Response.json(data, init)``,
    ``Response.redirect(url, status)``."""

    @staticmethod
    def new(body: Any = None, init: Any = None, **options: Any) -> Response:
        """``new Response(body, init)``; ``init`` may be a dict, a converted object or keyword arguments."""
        fields = _init_fields(init, options)
        status = fields.get("status")
        data = _body(body)
        if not data and status in (101, 204, 205, 304):
            data = None  # `Response.new("", status=204)`: an empty body is no body
        return Response(
            data,
            status=None if status is None else int(status),
            status_text=str(fields.get("statusText", "")),
            headers=_headers(fields.get("headers")),
        )

    @staticmethod
    def json(data: Any, init: Any = None, **options: Any) -> Response:
        """``Response.json(data, init)``: ``data`` as JSON with ``content-type: application/json``."""
        fields = _init_fields(init, options)
        headers = _headers(fields.get("headers")) or Headers()
        if "content-type" not in headers:
            headers.set("content-type", "application/json")
        status = fields.get("status")
        text = json.dumps(to_py(data), separators=(",", ":"), ensure_ascii=False)
        return Response(text, status=None if status is None else int(status), headers=headers)

    @staticmethod
    def redirect(url: str, status: int = 302) -> Response:
        """``Response.redirect(url, status)``."""
        return Response.redirect(url, status)


class _HeadersClass:
    """JavaScript's ``Headers``: ``Headers.new(init)`` from pairs (``dict.items()``), a dict or an object."""

    @staticmethod
    def new(init: Any = None) -> Headers:
        """``new Headers(init)``."""
        return _headers(init) or Headers()


class _RequestClass:
    """JavaScript's ``Request``: ``Request.new(input, init)``."""

    @staticmethod
    def new(resource: Any, init: Any = None, **options: Any) -> Request:
        """``new Request(input, init)`` with ``method``, ``headers`` and ``body`` options."""
        return make_request(resource, init, options)


def make_request(resource: Any, init: Any, options: Mapping[str, Any]) -> Request:
    """A ``Request`` from what ``fetch``/``Request.new`` take: a URL (text or ``URL``), a request, and options."""
    fields = _init_fields(init, options)
    if isinstance(resource, JsRequest):
        resource = resource.python_request
    elif isinstance(resource, URL):
        resource = resource.href
    body = fields.get("body")
    return Request(
        resource,
        method=fields.get("method"),
        headers=_headers(fields.get("headers")),
        body=None if body is None else _body(body),
    )


class JsResponse(Response):
    """A response as JavaScript's ``fetch`` gives it: ``await json()`` is a JavaScript value (``.to_py()``,
    attribute access), ``await arrayBuffer()`` a buffer; a worker can return it as it is."""

    __slots__ = ()

    @classmethod
    def of(cls, response: Response) -> JsResponse:
        """``response`` as JavaScript holds it (its body moves over unread)."""
        return cls(response._copy_body(), response.status, response.status_text, response.headers)

    async def json(self) -> Any:  # an instance method only, as in JavaScript
        """The body parsed as JSON, as a JavaScript value (a ``JsException`` ``SyntaxError`` if it is not JSON)."""
        return parse_json(await self.text())

    async def arrayBuffer(self) -> JsBuffer:  # noqa: N802 - JavaScript's name
        """The body as an ``ArrayBuffer``."""
        return JsBuffer(await self.bytes())

    @property
    def statusText(self) -> str:  # noqa: N802 - JavaScript's name
        """The reason phrase."""
        return self.status_text

    redirected = False
    """Whether the response came through a redirect: outbound requests do not follow redirects here."""


class URLSearchParams(JsProxy):
    """JavaScript's ``URLSearchParams``: ``get`` (``None`` when missing), ``getAll``, ``has``, ``set``,
    ``append``, ``delete``, ``toString()``, iteration over ``[name, value]`` pairs."""

    __slots__ = ("_pairs", "_owner")
    js_type = "URLSearchParams"

    def __init__(self, init: Any = "", owner: URL | None = None) -> None:
        if isinstance(init, str):
            pairs = parse_qsl(init.removeprefix("?"), keep_blank_values=True)
        elif isinstance(init, Mapping):
            pairs = [(str(k), str(v)) for k, v in init.items()]
        else:
            pairs = [(str(k), str(v)) for k, v in init]
        self._pairs: list[tuple[str, str]] = pairs
        self._owner = owner

    def _changed(self) -> None:
        if self._owner is not None:
            self._owner._set_query(str(self))

    def get(self, name: str) -> str | None:
        """The first value of ``name``, or ``None`` (JavaScript's ``null``)."""
        return next((value for key, value in self._pairs if key == name), None)

    def getAll(self, name: str) -> JsArray:  # noqa: N802 - JavaScript's name
        """Every value of ``name``."""
        return JsArray(value for key, value in self._pairs if key == name)

    def has(self, name: str) -> bool:
        """Whether ``name`` is present."""
        return any(key == name for key, _ in self._pairs)

    # Pyodide maps subscripting and `in` onto an object's own get/set/has, as for a Map: `params["q"]` is
    # `params.get("q")` (None when missing, since get gives null, not undefined), `params["q"] = v` is set.
    __getitem__ = get
    __contains__ = has

    def set(self, name: str, value: Any) -> None:
        """Replace every value of ``name`` with ``value``."""
        index = next((i for i, (key, _) in enumerate(self._pairs) if key == name), len(self._pairs))
        self._pairs = [pair for pair in self._pairs if pair[0] != name]
        self._pairs.insert(min(index, len(self._pairs)), (name, str(value)))
        self._changed()

    __setitem__ = set

    def append(self, name: str, value: Any) -> None:
        """Add a value for ``name``."""
        self._pairs.append((name, str(value)))
        self._changed()

    def delete(self, name: str) -> None:
        """Remove every value of ``name``."""
        self._pairs = [pair for pair in self._pairs if pair[0] != name]
        self._changed()

    def keys(self) -> Iterator[str]:
        """The names, repeated ones included."""
        return iter([key for key, _ in self._pairs])

    def values(self) -> Iterator[str]:
        """The values."""
        return iter([value for _, value in self._pairs])

    def entries(self) -> Iterator[JsArray]:
        """The ``[name, value]`` pairs."""
        return iter([JsArray(pair) for pair in self._pairs])

    __iter__ = entries

    @property
    def size(self) -> int:
        """The number of pairs."""
        return len(self._pairs)

    def toString(self) -> str:  # noqa: N802 - JavaScript's name
        """The query in ``application/x-www-form-urlencoded`` form, without ``?``."""
        return urlencode(self._pairs)

    __str__ = toString

    def to_py(self, *, depth: int = -1, default_converter: Callable[..., Any] | None = None) -> Any:
        """The pairs as a ``dict`` (the last value of a repeated name wins)."""
        return dict(self._pairs)


class URL(JsProxy):
    """JavaScript's ``URL``: ``href``, ``protocol``, ``host``, ``hostname``, ``port``, ``pathname``, ``search``,
    ``hash``, ``origin``, ``searchParams``, ``toString()``."""

    __slots__ = ("_parts", "searchParams")
    js_type = "URL"

    def __init__(self, url: Any, base: Any = None) -> None:
        text = url.href if isinstance(url, URL) else str(url)
        if base is not None:
            text = urljoin(base.href if isinstance(base, URL) else str(base), text)
        self._parts = _url_parts(text)
        self.searchParams = URLSearchParams(self._parts[3], owner=self)

    def _set_query(self, query: str) -> None:
        scheme, netloc, path, _, fragment = self._parts
        self._parts = (scheme, netloc, path, query, fragment)

    def _set_host(self, hostname: str | None, port: str | None) -> None:
        """Replace the host name or the port (``None`` keeps it), as the URL standard's setters do: a default port
        is dropped, and the user information before ``@`` is kept."""
        scheme, netloc, path, query, fragment = self._parts
        userinfo, at, _ = netloc.rpartition("@")
        hostname = self.hostname if hostname is None else hostname.lower()
        port = self.port if port is None else port
        if port == _DEFAULT_PORTS.get(scheme):
            port = ""
        self._parts = (scheme, f"{userinfo}{at}{hostname}{':' + port if port else ''}", path, query, fragment)

    @property
    def href(self) -> str:
        """The whole URL."""
        return urlunsplit(self._parts)

    @href.setter
    def href(self, value: str) -> None:
        self._parts = _url_parts(str(value))
        self.searchParams._pairs = URLSearchParams(self._parts[3])._pairs

    @property
    def protocol(self) -> str:
        """The scheme with its colon, e.g. ``"https:"``."""
        return self._parts[0] + ":"

    @protocol.setter
    def protocol(self, value: str) -> None:
        # The URL standard ignores a scheme that is not valid, and a switch between a special scheme (http, https)
        # and any other; only http <-> https can change here.
        scheme = str(value).partition(":")[0].lower()
        if scheme in _DEFAULT_PORTS:
            self._parts = (scheme, *self._parts[1:])
            self._set_host(None, None)

    @property
    def host(self) -> str:
        """Host name and (non-default) port."""
        return self._parts[1].rpartition("@")[2]

    @host.setter
    def host(self, value: str) -> None:
        parsed = _setter_host(str(value))
        if parsed is not None:
            hostname, port = parsed
            # "b.example:" or "b.example:x" keeps the port: only digits after the colon change it.
            self._set_host(hostname, _port_digits(port) if port else None)

    @property
    def hostname(self) -> str:
        """The host name."""
        host = self.host
        return host.rsplit(":", 1)[0] if ":" in host and not host.endswith("]") else host

    @hostname.setter
    def hostname(self, value: str) -> None:
        parsed = _setter_host(str(value))
        # The URL standard leaves the URL as it was for an empty host, and for a value with a port ("b.example:80").
        if parsed is not None and parsed[1] is None:
            self._set_host(parsed[0], None)

    @property
    def port(self) -> str:
        """The port, or ``""`` for the scheme's default."""
        host = self.host
        return host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else ""

    @port.setter
    def port(self, value: Any) -> None:
        port = _port_digits(str(value))
        if port is not None:
            self._set_host(None, port)

    @property
    def pathname(self) -> str:
        """The path, e.g. ``"/a/b"``."""
        return self._parts[2]

    @pathname.setter
    def pathname(self, value: str) -> None:
        scheme, netloc, _, query, fragment = self._parts
        path = str(value)
        if scheme in _DEFAULT_PORTS and not path.startswith("/"):
            path = "/" + path
        self._parts = (scheme, netloc, _quote_path(scheme, path), query, fragment)

    @property
    def search(self) -> str:
        """The query with its ``?``, or ``""``."""
        return "?" + self._parts[3] if self._parts[3] else ""

    @search.setter
    def search(self, value: str) -> None:
        query = quote(str(value).removeprefix("?"), safe=_QUERY_SAFE)
        self._set_query(query)
        self.searchParams._pairs = URLSearchParams(query)._pairs

    @property
    def hash(self) -> str:
        """The fragment with its ``#``, or ``""``."""
        return "#" + self._parts[4] if self._parts[4] else ""

    @hash.setter
    def hash(self, value: str) -> None:
        self._parts = (*self._parts[:4], quote(str(value).removeprefix("#"), safe=_FRAGMENT_SAFE))

    @property
    def origin(self) -> str:
        """Scheme and host, e.g. ``"https://example.com"``."""
        return f"{self._parts[0]}://{self.host}"

    def toString(self) -> str:  # noqa: N802 - JavaScript's name
        """The whole URL."""
        return self.href

    toJSON = toString  # noqa: N815
    __str__ = toString

    def __repr__(self) -> str:
        return f"URL({self.href!r})"


def _url_parts(text: str) -> tuple[str, str, str, str, str]:
    """``text`` split into its normalised scheme, authority, path, query and fragment; a ``TypeError`` (JavaScript's
    ``Invalid URL``) when it is not an absolute URL."""
    parts = urlsplit(text)
    if not parts.scheme or (parts.scheme in _DEFAULT_PORTS and not parts.netloc):
        raise TypeError(f"Invalid URL: {text}")
    netloc = parts.netloc.lower()
    scheme = parts.scheme.lower()
    if parts.port is not None and str(parts.port) == _DEFAULT_PORTS.get(scheme):
        netloc = netloc.rsplit(":", 1)[0]
    path = parts.path or ("/" if scheme in _DEFAULT_PORTS else "")
    query = quote(parts.query, safe=_QUERY_SAFE)
    return (scheme, netloc, _quote_path(scheme, path), query, quote(parts.fragment, safe=_FRAGMENT_SAFE))


# What the URL standard leaves as it is in a query and in a fragment: printable ASCII but the characters of its
# special-query and fragment percent-encode sets (space, anything else and non-ASCII are percent-encoded as UTF-8).
_QUERY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\"#<>'")
_FRAGMENT_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"<>`')
_SINGLE_DOT = frozenset({".", "%2e"})
_DOUBLE_DOT = frozenset({"..", ".%2e", "%2e.", "%2e%2e"})


def _quote_path(scheme: str, path: str) -> str:
    """``path`` as the URL standard parses it for ``scheme``: in an http(s) URL, ``\\`` is ``/`` and the ``.`` and
    ``..`` segments are resolved (``/a/../b`` is ``/b``)."""
    if scheme in _DEFAULT_PORTS:
        kept: list[str] = []
        segments = path.replace("\\", "/").split("/")[1:]
        for i, segment in enumerate(segments):
            dots = segment.lower()
            if dots in _DOUBLE_DOT and kept:
                kept.pop()
            if dots not in _SINGLE_DOT | _DOUBLE_DOT:
                kept.append(segment)
            elif i == len(segments) - 1:  # "/a/." and "/a/b/.." end with a slash
                kept.append("")
        path = "/" + "/".join(kept)
    return quote(path, safe="/%:@!$&'()*+,;=~-._")


_FORBIDDEN_HOST = frozenset("\x00\t\n\r #/:<>?@[\\]^|")


def _setter_host(value: str) -> tuple[str, str | None] | None:
    """The host name at the start of ``value`` and what follows a ``:`` after it (``None``: no ``:``), as the URL
    standard's ``host`` and ``hostname`` setters read them: the host ends at ``/``, ``?``, ``#`` or ``\\``, a ``:``
    inside an IPv6 address's brackets is part of it. ``None`` when there is no valid host, which leaves the URL
    as it was."""
    value = re.split(r"[/?#\\]", value, maxsplit=1)[0]
    match = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[^:]*)(?::(.*))?", value)
    if match is None or not match[1]:
        return None
    hostname = match[1]
    if not hostname.startswith("[") and not _FORBIDDEN_HOST.isdisjoint(hostname):
        return None
    return hostname, match[2]


def _port_digits(value: str) -> str | None:
    """The port the URL standard's ``port`` setter takes from ``value``: its leading digits (``""`` clears the
    port), or ``None`` when it starts with something else or is out of range, which leaves the URL unchanged."""
    digits = re.match(r"[0-9]*", value)
    assert digits is not None
    if not digits.group():
        return "" if not value else None
    number = int(digits.group())
    return str(number) if number <= 65535 else None


class _Date(JsProxy):
    """A JavaScript ``Date``: ``getTime()``, ``valueOf()``, ``toISOString()``."""

    __slots__ = ("_ms",)
    js_type = "Date"

    def __init__(self, ms: float) -> None:
        self._ms = float(ms)

    def getTime(self) -> float:  # noqa: N802 - JavaScript's name
        """Milliseconds since the UNIX epoch."""
        return self._ms

    valueOf = getTime  # noqa: N815

    def toISOString(self) -> str:  # noqa: N802 - JavaScript's name
        """``2026-01-01T00:00:00.000Z``."""
        moment = datetime.fromtimestamp(self._ms / 1000, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    toJSON = toISOString  # noqa: N815
    __str__ = toISOString


def _namespace(name: str, **members: Any) -> Any:
    return type(name, (), {key: staticmethod(value) if callable(value) else value for key, value in members.items()})


_CLOUDFLARE_GLOBALS = frozenset({"HTMLRewriter", "WebSocketPair", "WebSocket", "caches", "EventSource", "scheduler"})
"""Globals of the Workers runtime that workersim does not simulate."""


class JsModule(ModuleType):
    """One isolate's ``js`` module. Cloudflare's globals it does not simulate are stand-ins whose use raises a
    ``NotImplementedError``; other missing names raise an ``AttributeError``."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in _CLOUDFLARE_GLOBALS:
            # `from js import HTMLRewriter` at a module's top loads, as on Cloudflare; only a use fails.
            return NotSimulated(name, f"js.{name} is not simulated by workersim", NotImplementedError)
        raise AttributeError(
            f"js.{name} is not simulated by workersim: the simulated JavaScript globals are "
            f"{', '.join(sorted(k for k in self.__dict__ if not k.startswith('_')))}"
        )


def js_module(host: JsHost) -> JsModule:
    """A ``js`` module bound to ``host``."""

    def log_at(level: str) -> Callable[..., None]:
        def log(*values: Any) -> None:
            host.log(level, " ".join(console_text(value) for value in values))

        return log

    def random_uuid() -> str:
        return str(uuid.UUID(int=host.rng.getrandbits(128), version=4))

    def get_random_values(array: Any) -> Any:
        for index in range(len(array)):
            array[index] = host.rng.getrandbits(8)
        return array

    async def fetch(resource: Any, init: Any = None, **options: Any) -> Response:
        return JsResponse.of(await host.fetch(make_request(resource, init, options)))

    def new_date(ms: float | None = None) -> _Date:
        return _Date(host.now_ms() if ms is None else ms)

    module = JsModule("js", "The JavaScript globals, as workersim simulates them.")
    module.__dict__.update(
        Response=_ResponseClass,
        Headers=_HeadersClass,
        Request=_RequestClass,
        URL=_namespace("URL", new=URL),
        URLSearchParams=_namespace("URLSearchParams", new=URLSearchParams),
        JSON=_namespace("JSON", stringify=_stringify, parse=parse_json),
        Object=_namespace(
            "Object",
            new=JsObject,
            fromEntries=from_entries,
            keys=lambda obj: obj.object_keys() if isinstance(obj, JsObject) else JsArray(obj.keys()),
            values=lambda obj: obj.object_values() if isinstance(obj, JsObject) else JsArray(obj.values()),
            entries=lambda obj: (
                obj.object_entries() if isinstance(obj, JsObject) else JsArray(JsArray(p) for p in obj.items())
            ),
            assign=lambda target, *sources: _assign(target, sources),
        ),
        Array=_namespace("Array", new=lambda *items: JsArray(items), isArray=lambda v: isinstance(v, list)),
        Map=_namespace("Map", new=lambda entries=(): JsMap(entries)),
        console=_namespace(
            "console",
            log=log_at("log"),
            info=log_at("info"),
            warn=log_at("warn"),
            error=log_at("error"),
            debug=log_at("debug"),
        ),  # fmt: skip
        Date=_namespace("Date", now=lambda: math.floor(host.now_ms()), new=new_date),
        Math=_namespace(
            "Math",
            random=host.rng.random,
            floor=math.floor,
            ceil=math.ceil,
            abs=abs,
            min=min,
            max=max,
            round=lambda x: math.floor(x + 0.5),
            PI=math.pi,
        ),  # fmt: skip
        crypto=_namespace("crypto", randomUUID=random_uuid, getRandomValues=get_random_values),
        Uint8Array=_namespace("Uint8Array", new=JsBuffer),
        ArrayBuffer=_namespace("ArrayBuffer", new=JsBuffer),
        TextEncoder=_namespace("TextEncoder", new=lambda: _namespace("encoder", encode=_encode)),
        TextDecoder=_namespace("TextDecoder", new=lambda label="utf-8": _namespace("decoder", decode=_decode)),
        fetch=fetch,
    )
    return module


def _assign(target: JsObject, sources: Iterable[Any]) -> JsObject:
    for source in sources:
        for name, value in (source.to_py() if isinstance(source, JsObject) else source).items():
            target[name] = value
    return target


def _encode(text: str = "") -> JsBuffer:
    return JsBuffer(text.encode("utf-8"))


def _decode(data: Any = b"") -> str:
    return bytes(data).decode("utf-8", "replace")

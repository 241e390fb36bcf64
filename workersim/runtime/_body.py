"""The body shared by ``Request`` and ``Response``: given as text or bytes, read once, as in the Fetch API."""

from __future__ import annotations

import builtins
import enum
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

import trio

from ..core.errors import BodyUsedError
from ..kv.streams import ReadableStream as KVStream
from ._headers import Fields, Headers
from ._jsffi import JsBuffer, JsProxy


def body_bytes(body: object, owner: str) -> bytes | None:
    """``body`` as bytes (``None`` for no body); anything else is the ``TypeError`` Python Workers raise."""
    if body is None:
        return None
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, ReadableStream | KVStream):  # KVStream: a get(key, "stream") read
        return body.take()
    if isinstance(body, JsBuffer):  # an ArrayBuffer or Uint8Array, which the SDK hands to JavaScript as it is
        return body.to_bytes()
    raise TypeError(
        f"Unsupported type in {owner}: {type(body).__name__} (a body is str, bytes, an ArrayBuffer, a stream or None)"
    )


class ReadableStream(JsProxy):
    """A message's ``body`` as JavaScript's ``ReadableStream``, which is what ``response.body`` is on Cloudflare,
    in Python and JavaScript alike. Its use is to become another message's body (``Response(response.body,
    headers=...)``, ``Response.new(response.body, response)``): that reads it, so the message it came from is used
    up, as in JavaScript. ``async for chunk in stream`` reads it as ``Uint8Array`` chunks."""

    __slots__ = ("_owner",)
    js_type = "ReadableStream"

    def __init__(self, owner: Body) -> None:
        self._owner = owner

    @property
    def locked(self) -> bool:
        """Whether the stream has been read."""
        return self._owner.body_used

    def take(self) -> bytes:
        """The bytes of the stream, read to the end (once: a second read raises ``BodyUsedError``)."""
        return self._owner._take()

    async def __aiter__(self) -> AsyncIterator[JsBuffer]:
        await trio.lowlevel.checkpoint()
        data = self.take()
        if data:
            yield JsBuffer(data)


BodyInit = str | bytes | bytearray | memoryview | ReadableStream | None
"""What a body can be made of: text (sent as UTF-8), bytes-like data, another message's ``body`` stream, or
``None`` for no body."""


class _Read(enum.Enum):
    """What a body holds once it has been read."""

    READ = "read"


class Body:
    """Read-once body methods: ``await text()``, ``await bytes()`` and (in subclasses) ``await json()``.

    A subclass's constructor sets ``_body`` (no ``__init__`` to call here: one call less for every message)."""

    __slots__ = ("_body",)
    _body: builtins.bytes | None | Literal[_Read.READ]
    """The body's bytes (``None`` for no body), or ``READ`` once they have been read."""

    @property
    def body_used(self) -> bool:
        """Whether the body has been read (``bodyUsed`` in JavaScript)."""
        return self._body is _Read.READ

    bodyUsed = body_used  # noqa: N815 - the Fetch API's name

    @property
    def body(self) -> ReadableStream | None:
        """The body as a stream (``None`` when there is no body), as ``.body`` is on Cloudflare: pass it as another
        message's body to move the bytes over unread."""
        return None if self._body is None else ReadableStream(self)

    def _take(self) -> builtins.bytes:
        body = self._body
        if body is _Read.READ:
            raise BodyUsedError(
                f"Body already used: the body of this {type(self).__name__} was read before; a body can be read "
                "only once (call clone() before the first read to read it twice)"
            )
        if body is None:
            # As in the Fetch API, reading no body gives empty content and does not use it up.
            return b""
        self._body = _Read.READ
        return body

    def _copy_body(self) -> builtins.bytes | None:
        body = self._body
        if body is _Read.READ:
            raise BodyUsedError(f"Body already used: cannot clone a {type(self).__name__} whose body was read")
        return body

    async def bytes(self) -> bytes:
        """The whole body as ``bytes``."""
        await trio.lowlevel.checkpoint()
        return self._take()

    async def text(self) -> str:
        """The whole body decoded as UTF-8 (malformed bytes become U+FFFD, as in the Fetch API)."""
        await trio.lowlevel.checkpoint()
        return self._take().decode("utf-8", "replace")

    async def _read_json(self) -> Any:
        return json.loads(await self.text())


class Message(Body):
    """What ``Request`` and ``Response`` share: a body and headers.

    The ``Headers`` object is made when the headers are first looked at: most requests a simulation serves are
    never asked for theirs, and until then ``_headers`` holds the fields (checked already) as a tuple."""

    __slots__ = ("_headers",)
    _headers: Headers | Fields

    @property
    def headers(self) -> Headers:
        """The headers (case-insensitive names)."""
        headers = self._headers
        if isinstance(headers, tuple):  # not isinstance(headers, Headers): an ABC's check costs a call
            headers = self._headers = Headers._checked(headers)
        return headers

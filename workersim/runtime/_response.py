"""``Response``: what a Worker's fetch handler returns."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from ._body import BodyInit, Message, body_bytes
from ._headers import Fields, Headers, HeadersInit
from ._url import absolute_url

TEXT_PLAIN = "text/plain;charset=UTF-8"
"""The content type the Fetch API gives a text body when none is set."""
_TEXT_TYPE: Fields = (("content-type", TEXT_PLAIN),)
_NULL_BODY_STATUSES = frozenset({101, 204, 205, 304})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def _status(status: object) -> int:
    if isinstance(status, bool) or not isinstance(status, int):
        raise TypeError(f"status must be an int, got {type(status).__name__} {status!r}")
    if not 200 <= status <= 599:
        raise ValueError(
            f"Responses may only be constructed with status codes in the range 200 to 599, inclusive (got {status})."
        )
    return status


class _JsonMember:
    """``Response.json`` is two things, as in the Fetch API and Python Workers: on the class it builds a JSON
    response (``Response.json({"ok": True}, status=201)``); on a response it reads the body
    (``await response.json()``)."""

    def __get__(self, instance: Response | None, owner: type[Response]) -> Callable[..., Any]:
        if instance is None:
            return functools.partial(_json_response, owner)
        return instance._read_json


class Response(Message):
    """An HTTP response, as the Fetch API and Cloudflare's Python Workers shape it.

    ``Response(body=None, status=200, status_text="", headers=None)``; ``Response.json(obj, status=, headers=)``
    and ``Response.redirect(url, status=302)`` build the common kinds. ``.status``, ``.status_text``, ``.ok``,
    ``.headers`` (a case-insensitive ``Headers``), and the body, read once: ``await .text()``,
    ``await .json()``, ``await .bytes()``. A text body gets ``content-type: text/plain;charset=UTF-8`` unless
    ``headers`` sets one.
    """

    __slots__ = ("_status", "_status_text")

    json = _JsonMember()

    @classmethod
    def from_json(
        cls, data: Any, status: int | None = None, status_text: str = "", headers: HeadersInit | None = None
    ) -> Response:
        """``Response.from_json(data, status=, status_text=, headers=)``: the SDK's name for ``Response.json(data)``."""
        return _json_response(cls, data, status, status_text, headers)

    def __init__(
        self,
        body: BodyInit = None,
        status: int | None = None,
        status_text: str = "",
        headers: HeadersInit | None = None,
    ) -> None:
        if isinstance(body, str):  # the usual body first
            data: bytes | None = body.encode("utf-8")
            implied: Fields = _TEXT_TYPE
        else:
            data = body_bytes(body, "Response")
            implied = ()
        code = 200
        if status is not None:
            code = _status(status)
            if data is not None and code in _NULL_BODY_STATUSES:
                raise TypeError(f"Response with null body status {code} cannot have body")
        if not isinstance(status_text, str):
            raise TypeError(f"status_text must be a str, got {type(status_text).__name__}")
        self._status = code
        self._status_text = status_text
        if headers is None:
            self._headers = implied
        else:
            fields = self._headers = Headers(headers)
            fields._extend_absent(implied)
        self._body = data

    def _set_ray(self, value: str) -> None:
        """Set the ``CF-Ray`` field to ``value`` (checked already), as the dispatcher does on every response. Fields
        still pending are only those the constructor added (a content type at most), so it joins them as it is."""
        headers = self._headers
        if isinstance(headers, tuple):
            self._headers = headers + (("cf-ray", value),)
        else:
            headers._set_checked("cf-ray", value)

    def __repr__(self) -> str:
        shown = [f"status={self._status}"]
        if "content-type" in self.headers:
            shown.append(f"content_type={self.headers['content-type']!r}")
        return f"Response({', '.join(shown)})"

    @property
    def status(self) -> int:
        """The HTTP status code."""
        return self._status

    @property
    def status_text(self) -> str:
        """The reason phrase given to the constructor (``""`` by default, as in the Fetch API)."""
        return self._status_text

    @property
    def ok(self) -> bool:
        """Whether the status is in 200..299."""
        return 200 <= self._status <= 299

    def clone(self) -> Response:
        """A copy whose body can be read independently (the body must not have been read yet)."""
        return Response(self._copy_body(), self._status, self._status_text, self.headers)

    def replace_body(self, body: BodyInit) -> Response:
        """A new response with this one's status, reason phrase and headers and ``body`` (the Python Workers SDK's
        ``replace_body``); this response is left as it was."""
        return Response(body, self._status, self._status_text, self.headers)

    async def string(self) -> str:
        """The body as text (Pyodide's ``FetchResponse.string``, the same as ``text()``)."""
        return await self.text()

    @staticmethod
    def redirect(url: str, status: int = 302) -> Response:
        """A redirect to the absolute ``url`` with ``status`` 301, 302 (default), 303, 307 or 308."""
        if status not in _REDIRECT_STATUSES:
            raise ValueError(f"Invalid redirect status code {status!r}: use 301, 302, 303, 307 or 308")
        return Response(None, status, headers={"location": absolute_url(url, "Response.redirect")})


def _json_response(
    cls: type[Response], data: Any, status: int | None = None, status_text: str = "", headers: HeadersInit | None = None
) -> Response:
    """``Response.json(data, status=, status_text=, headers=)``: ``data`` as JSON, ``application/json`` unless
    ``headers`` sets a content type."""
    fields = Headers(headers)
    if "content-type" not in fields:
        fields.append("content-type", "application/json")
    return cls(json.dumps(data), status, status_text, fields)

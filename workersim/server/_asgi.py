"""Raw ASGI plumbing for the servers: the request as the REST API's routing sees it, bounded and paced body reads,
JSON envelopes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import attrs
import trio

from ..core import jsontext
from ._errors import BAD_REQUEST, ApiError

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON = (b"content-type", b"application/json")
OCTETS = (b"content-type", b"application/octet-stream")


class ClientGone(Exception):
    """The client went away before its request body arrived: there is nobody left to answer."""


class BodyTooLarge(Exception):
    """A request body over the server's limit, found out before more than the limit was held: ``declared`` is the
    size the client announced when that alone gave it away."""

    def __init__(self, declared: int | None) -> None:
        super().__init__(declared)
        self.declared = declared


@attrs.frozen(kw_only=True)
class BodyPacing:
    """How the servers read a request body that arrives slowly in many small pieces, as a client trickling it (a
    slowloris) sends it. Handling each piece as it comes costs the server two task steps a piece, which every
    other request then waits behind: twenty clients sending a byte a millisecond made a small PUT take about 10
    times as long as on an idle server. So once ``after`` pieces in a row were each under ``small`` bytes and came
    in at under ``slow`` bytes a second, the reader waits ``wait`` seconds (of the server's trio clock) before it
    takes the next piece: the bytes gather meanwhile (in hypercorn's queue, then in the socket), and the next read
    takes them at once. A body that comes in a piece or two (almost every request), in large pieces, or quickly in
    small ones (a chunked upload of short lines) is never made to wait; a slow one ends a few waits later than it
    would have."""

    small: int = 4096
    after: int = 8
    slow: float = 65536.0
    wait: float = 0.005

    def scaled(self, rate: float) -> BodyPacing:
        """The same pacing on a trio clock that runs ``rate`` times as fast as the real one (``dev --time-scale``)."""
        return attrs.evolve(self, wait=self.wait * rate, slow=self.slow / rate)


async def read_body(receive: Receive, limit: int, *, declared: int | None = None, pacing: BodyPacing) -> bytes:
    """The whole body, read as it streams in, paced as ``pacing`` says; ``BodyTooLarge`` as soon as it is known to
    exceed ``limit`` bytes (``declared``: the announced size), before more than ``limit`` bytes are held;
    ``ClientGone`` if the client disconnects first."""
    if declared is not None and declared > limit:
        raise BodyTooLarge(declared)
    chunks: list[bytes] = []
    size = 0
    run = run_bytes = 0  # the small pieces in a row, and their bytes
    run_start = 0.0  # when the first of them came
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(None)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
        if len(chunk) >= pacing.small:
            run = 0
            continue
        now = trio.current_time()
        if not run:
            run_start, run_bytes = now, 0
        run += 1
        run_bytes += len(chunk)
        if run >= pacing.after and run_bytes < pacing.slow * (now - run_start):
            await trio.sleep(pacing.wait)


@attrs.define
class _BodyProgress:
    """Whether a request's body has been read to its end (the one mutable part of a request)."""

    read: bool = False


SINGLE_HEADERS = frozenset({"authorization", "x-auth-email", "x-auth-key", "content-length", "content-type"})
"""Headers a request may carry once at most."""


@attrs.frozen
class Request:
    """One request: the path split on ``/`` before each segment is percent-decoded (so ``%2F`` inside a key
    stays part of the key), the query (first value of each name) and the headers (lower-case names)."""

    method: str
    segments: tuple[str, ...]
    query: dict[str, str]
    headers: dict[str, str]
    receive: Receive = attrs.field(repr=False)
    pacing: BodyPacing = attrs.field(factory=BodyPacing, repr=False)
    _progress: _BodyProgress = attrs.field(factory=_BodyProgress, repr=False)

    @classmethod
    def from_scope(cls, scope: Scope, receive: Receive, pacing: BodyPacing | None = None) -> Request:
        """Build the request from an ASGI HTTP scope; its body is read as ``pacing`` says (by default,
        ``BodyPacing()``)."""
        raw = scope.get("raw_path") or scope["path"].encode("utf-8")
        try:
            # unquote (not unquote_plus): a literal "+" in a key is a plus.
            segments = tuple(unquote(part.decode("latin-1"), errors="strict") for part in raw.split(b"/")[1:])
        except UnicodeDecodeError:
            raise ApiError(400, BAD_REQUEST, "Could not URL-decode the path: it is not UTF-8") from None
        query: dict[str, str] = {}
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
            query.setdefault(name, value)
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            if name in SINGLE_HEADERS and name in headers:
                # Two credentials, or two lengths: which one counts would be a guess, so neither does.
                raise ApiError(400, BAD_REQUEST, f"the {name} header was sent more than once; send it once")
            headers[name] = raw_value.decode("latin-1")
        return cls(scope["method"], segments, query, headers, receive, pacing or BodyPacing())

    def unread_body(self) -> bool:
        """Whether the client sent a body that was not read to its end (it was refused on the way)."""
        announced = self.declared_length() or "transfer-encoding" in self.headers
        return bool(announced) and not self._progress.read

    def declared_length(self) -> int | None:
        """The body size the client announced in Content-Length, if it announced one."""
        text = self.headers.get("content-length")
        return int(text) if text is not None and text.isdigit() else None

    async def body(self, limit: int) -> bytes:
        """The whole body (``read_body``); a 413 as soon as it is known to exceed ``limit`` bytes, before more than
        ``limit`` bytes are held."""
        try:
            body = await read_body(self.receive, limit, declared=self.declared_length(), pacing=self.pacing)
        except BodyTooLarge as error:
            size = "" if error.declared is None else f" of {error.declared} bytes"
            raise ApiError(413, BAD_REQUEST, f"Request body{size} exceeds the limit of {limit} bytes.") from None
        self._progress.read = True
        return body

    async def json(self, limit: int) -> Any:
        """The body parsed as JSON; a 400 that says where it is malformed."""
        return await self._parsed(limit, jsontext.parse)

    async def json_array(self, limit: int, max_items: int, what: str) -> list[Any]:
        """The body as a JSON array of at most ``max_items`` ``what``: a longer one is refused (400) having built
        no more than that many items, whatever the size of the body."""
        try:
            return await self._parsed(limit, lambda text: jsontext.parse_array(text, max_items))  # type: ignore[no-any-return]
        except jsontext.TooManyItems:
            raise ApiError(400, BAD_REQUEST, f"a bulk request takes at most {max_items} {what}") from None

    async def _parsed(self, limit: int, parse: Callable[[str], Any]) -> Any:
        body = await self.body(limit)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, BAD_REQUEST, "the request body is not UTF-8 text") from None
        try:
            return parse(text)
        except json.JSONDecodeError as error:
            raise ApiError(400, BAD_REQUEST, f"the request body is not valid JSON: {error}") from None


@attrs.frozen
class Reply:
    """A response to send: status, headers and the whole body."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = (JSON,)

    def closing(self) -> Reply:
        """The same reply, closing the connection after it: the client is still sending a body nobody will
        read, so the connection cannot carry another request."""
        return attrs.evolve(self, headers=(*self.headers, (b"connection", b"close")))

    async def send(self, send: Send) -> None:
        """Send the response over ASGI."""
        headers = [*self.headers, (b"content-length", str(len(self.body)).encode("ascii"))]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def _dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def success(result: Any, result_info: dict[str, Any] | None = None) -> Reply:
    """A 200 with Cloudflare's envelope around ``result`` (never a 204: the SDK cannot parse an empty body)."""
    envelope: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        envelope["result_info"] = result_info
    return Reply(200, _dumps(envelope))


def failure(error: ApiError) -> Reply:
    """The envelope of a refused request, with its status and headers."""
    envelope = {
        "success": False,
        "errors": [{"code": error.code, "message": error.message}],
        "messages": [],
        "result": None,
    }
    extra = tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in error.headers)
    return Reply(error.status, _dumps(envelope), (JSON, *extra))


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer an ASGI lifespan scope: nothing to set up or tear down, so acknowledge startup and shutdown."""
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})

"""``ReadableStream``: the body of a ``get(key, "stream")`` and one of the value kinds ``put`` accepts."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable

import trio

_CHUNK = 64 * 1024


class ReadableStream:
    """An async iterable of ``bytes`` chunks that can be read once, like a JS ``ReadableStream``.

    Build one from ``bytes``, an iterable of bytes chunks or an async iterable of bytes chunks. Read it with
    ``async for chunk in stream`` or ``await stream.read_all()``.
    """

    def __init__(self, source: bytes | bytearray | memoryview | Iterable[bytes] | AsyncIterable[bytes]) -> None:
        if isinstance(source, bytes | bytearray | memoryview):
            data = bytes(source)
            self._source: Iterable[bytes] | AsyncIterable[bytes] = [
                data[i : i + _CHUNK] for i in range(0, len(data), _CHUNK)
            ]
        else:
            self._source = source
        self._locked = False

    @property
    def locked(self) -> bool:
        """Whether the stream has already been (or is being) read."""
        return self._locked

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._locked:
            raise TypeError("This ReadableStream is currently locked to a reader.")
        self._locked = True
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        if isinstance(self._source, AsyncIterable):
            async for chunk in self._source:
                yield chunk
        else:
            for chunk in self._source:
                await trio.lowlevel.checkpoint()
                yield chunk

    def take(self) -> bytes:
        """The whole stream at once, when its bytes are already in memory (a ``get(key, "stream")`` read), as a
        message body takes it: ``Response(stream)``. A stream fed by an async source is a ``TypeError`` here,
        since workersim's message bodies are whole."""
        if self._locked:
            raise TypeError("This ReadableStream is currently locked to a reader.")
        if isinstance(self._source, AsyncIterable):
            raise TypeError("a ReadableStream fed by an async source cannot be a message body in workersim")
        self._locked = True
        return b"".join(self._source)

    async def read_all(self) -> bytes:
        """Read the whole stream and return its bytes."""
        parts = [bytes(chunk) async for chunk in self]
        return b"".join(parts)

"""ReadableStream: read once, from bytes or from (async) iterables."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import workersim


async def test_bytes_are_read_back_in_chunks() -> None:
    data = bytes(range(256)) * 1000
    chunks = [chunk async for chunk in workersim.ReadableStream(data)]
    assert len(chunks) > 1 and b"".join(chunks) == data


async def test_a_stream_is_read_once() -> None:
    stream = workersim.ReadableStream(b"abc")
    assert await stream.read_all() == b"abc"
    assert stream.locked
    with pytest.raises(TypeError, match="locked"):
        await stream.read_all()


async def test_async_sources_pass_through() -> None:
    async def source() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    assert await workersim.ReadableStream(source()).read_all() == b"ab"

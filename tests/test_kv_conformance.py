"""Conformance of the KV binding with the reference (shared/reference/kv-semantics.md, sections 1, 2 and 5).

Every test runs on one edge, so eventual consistency plays no part: these are the single-location rules and
their exact error messages. The clock mirrors Miniflare's tests: UNIX time 1000 s when the simulation starts.
Where DESIGN.md departs from JavaScript on purpose (bad put values, unknown option names, unknown types), the
test follows DESIGN.md and says so.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio

import workersim
from workersim import KVError, Limits, ReadableStream
from workersim.core.errors import JsException
from workersim.sim import engine

START = 1000  # mirror Miniflare's fake clock: now = 1000 s

UNKNOWN_TYPE = 'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'
BAD_VALUE = "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values."
RANGE = "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."
TTL_POSITIVE = "Invalid expiration_ttl of {}. Please specify integer greater than 0."
TTL_MIN = "Invalid expiration_ttl of {}. Expiration TTL must be at least 60."
EXP_PAST = (
    "Invalid expiration of {}. Please specify integer greater than the current number of seconds since the UNIX epoch."
)
EXP_MIN = "Invalid expiration of {}. Expiration times must be at least 60 seconds in the future."
KEY_513 = "UTF-8 encoded length of 513 exceeds key length limit of 512."


@pytest.fixture
def make_sim():
    def make(**kw: Any) -> workersim.Simulation:
        return workersim.Simulation(edges=("SFO",), kv_namespaces=("NS",), seed=1, start_time=START, **kw)

    return make


def kv_of(sim: workersim.Simulation) -> Any:
    return sim.env("SFO").NS


def check_kv_error(error: BaseException, method: str, status: int, detail: str) -> None:
    """``error`` is exactly the backend error ``KV <method> failed: <status> <detail>``."""
    assert type(error) is KVError
    assert str(error) == f"KV {method} failed: {status} {detail}"
    assert error.method == method
    assert error.status == status


async def raises_kv(awaitable: Any, method: str, status: int, detail: str) -> None:
    message = f"KV {method} failed: {status} {detail}"
    with pytest.raises(KVError, match=re.escape(message)) as info:
        await awaitable
    check_kv_error(info.value, method, status, detail)


async def raises_type(awaitable: Any, message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(message)) as info:
        await awaitable
    assert_js_type_error(info.value)
    assert str(info.value) == message


def assert_js_type_error(error: BaseException) -> None:
    """A client-side refusal: JavaScript's TypeError, which a Python Worker catches as a JsException named
    "TypeError" (Pyodide), and never a backend KVError."""
    assert isinstance(error, TypeError) and isinstance(error, JsException) and not isinstance(error, KVError)
    assert error.name == "TypeError"


async def agen(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await trio.lowlevel.checkpoint()
        yield chunk


async def read_stream(stream: Any) -> bytes:
    assert isinstance(stream, ReadableStream)
    return b"".join([bytes(chunk) async for chunk in stream])


# --- 2.1 key validation (single-key get / getWithMetadata / put / delete) -----------------------------------

KEY_METHODS = [("get", "GET"), ("getWithMetadata", "GET"), ("put", "PUT"), ("delete", "DELETE")]


def call(kv: Any, method: str, key: Any) -> Any:
    if method == "put":
        return kv.put(key, "value")
    return getattr(kv, method)(key)


@pytest.mark.parametrize(("method", "_wire"), KEY_METHODS)
@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "Key name cannot be empty."),
        (".", '"." is not allowed as a key name.'),
        ("..", '".." is not allowed as a key name.'),
    ],
    ids=["empty", "dot", "dotdot"],
)
async def test_key_name_type_errors(make_sim, autojump_clock, method, _wire, key, message):
    async with make_sim() as sim:
        await raises_type(call(kv_of(sim), method, key), message)


@pytest.mark.parametrize(("method", "wire"), KEY_METHODS)
@pytest.mark.parametrize("key", ["x" * 513, "€" * 171], ids=["513-ascii", "171-euro"])
async def test_key_longer_than_512_bytes_is_414(make_sim, autojump_clock, method, wire, key):
    async with make_sim() as sim:
        await raises_kv(call(kv_of(sim), method, key), wire, 414, KEY_513)


@pytest.mark.parametrize(("method", "_wire"), KEY_METHODS)
@pytest.mark.parametrize("key", ["x" * 512, "€" * 170 + "xx"], ids=["512-ascii", "512-euro"])
async def test_key_of_512_bytes_is_allowed(make_sim, autojump_clock, method, _wire, key):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put(key, "value")
        result = await call(kv, method, key)
        expected = {
            "get": "value",
            "getWithMetadata": {"value": "value", "metadata": None, "cacheStatus": None},
            "put": None,
            "delete": None,
        }[method]
        assert result == expected


async def test_key_validation_order_range_before_key(make_sim, autojump_clock):
    # 2.4: option coercion happens while unwrapping arguments, before the key is looked at.
    async with make_sim() as sim:
        await raises_type(kv_of(sim).put("", "v", expirationTtl=2**31), RANGE)


async def test_keys_are_case_sensitive(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "lower")
        await kv.put("KEY", "upper")
        assert await kv.get("key") == "lower"
        assert await kv.get("KEY") == "upper"


# --- 1.1 get: types and option forms -------------------------------------------------------------------------

JSON_TEXT = '{"field":"value"}'


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((), {}, JSON_TEXT),
        (("text",), {}, JSON_TEXT),
        (({"type": "text"},), {}, JSON_TEXT),
        ((), {"type": "text"}, JSON_TEXT),
        (({},), {}, JSON_TEXT),
        (({"type": None, "cacheTtl": 3600},), {}, JSON_TEXT),
        (("json",), {}, {"field": "value"}),
        (({"type": "json"},), {}, {"field": "value"}),
        ((), {"type": "json"}, {"field": "value"}),
        (({"type": "json", "cacheTtl": 3600},), {}, {"field": "value"}),
        ((), {"type": "json", "cacheTtl": 30}, {"field": "value"}),
        (("arrayBuffer",), {}, JSON_TEXT.encode()),
        (({"type": "arrayBuffer"},), {}, JSON_TEXT.encode()),
        ((), {"type": "arrayBuffer"}, JSON_TEXT.encode()),
    ],
)
async def test_get_types_and_forms(make_sim, autojump_clock, args, kwargs, expected):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", JSON_TEXT)
        result = await kv.get("key", *args, **kwargs)
        # The plain type (a subclass that also answers JavaScript-style access, as Pyodide's proxies do).
        assert isinstance(result, type(expected))
        assert result == expected


@pytest.mark.parametrize(("args", "kwargs"), [(("stream",), {}), (({"type": "stream"},), {}), ((), {"type": "stream"})])
async def test_get_stream(make_sim, autojump_clock, args, kwargs):
    data = bytes([255, 0, 10, 20, 30, 200])
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", data)
        assert await read_stream(await kv.get("key", *args, **kwargs)) == data


async def test_get_array_buffer_round_trips_every_byte(make_sim, autojump_clock):
    data = bytes([0, 1, 2, 127, 128, 254, 255])
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", data)
        assert await kv.get("key", "arrayBuffer") == data


async def test_get_returns_value(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value")
        assert await kv.get("key") == "value"


@pytest.mark.parametrize("type_", [None, "text", "json", "arrayBuffer", "stream"])
async def test_get_missing_is_none_for_every_type(make_sim, autojump_clock, type_):
    async with make_sim() as sim:
        kv = kv_of(sim)
        assert await kv.get("missing", type_) is None
        assert await kv.get("missing", {"type": type_}) is None
        assert await kv.getWithMetadata("missing", type_) == {"value": None, "metadata": None, "cacheStatus": None}


async def test_get_json_of_non_json_raises(make_sim, autojump_clock):
    # 1.1: JSON.parse of a non-JSON value rejects (a SyntaxError in JS; Python's json error is a ValueError).
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value")
        with pytest.raises(ValueError):
            await kv.get("key", "json")


# --- 2.3 get options: cacheTtl and type ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "getWithMetadata"])
@pytest.mark.parametrize(
    ("cache_ttl", "shown"), [(10, 10), ("not a number", 0), (29, 29), (29.9, 29), (0, 0), (-5, -5)]
)
async def test_cache_ttl_below_30_is_rejected(make_sim, autojump_clock, method, cache_ttl, shown):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value")
        detail = f"Invalid cache_ttl of {shown}. Cache TTL must be at least 30."
        await raises_kv(getattr(kv, method)("key", {"cacheTtl": cache_ttl}), "GET", 400, detail)
        # validated before the read: also for a missing key, and in keyword form
        await raises_kv(getattr(kv, method)("missing", cacheTtl=cache_ttl), "GET", 400, detail)


@pytest.mark.parametrize("cache_ttl", [30, 60, 3600])
async def test_cache_ttl_accepted_and_ignored(make_sim, autojump_clock, cache_ttl):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value")
        assert await kv.get("key", {"cacheTtl": cache_ttl}) == "value"
        assert await kv.get("key", cacheTtl=cache_ttl) == "value"
        result = await kv.getWithMetadata("key", {"cacheTtl": cache_ttl})
        assert result == {"value": "value", "metadata": None, "cacheStatus": None}


@pytest.mark.parametrize("cache_ttl", [2**31, -(2**31) - 1])
async def test_cache_ttl_outside_int32_is_range_type_error(make_sim, autojump_clock, cache_ttl):
    async with make_sim() as sim:
        await raises_type(kv_of(sim).get("key", {"cacheTtl": cache_ttl}), RANGE)


@pytest.mark.parametrize(
    ("method", "key", "option"),
    [
        ("get", "missing", "banana"),
        ("get", "key", "banana"),
        ("get", "key", {"type": "map"}),
        ("getWithMetadata", "missing", "banana"),
        ("getWithMetadata", "key", {"type": "map"}),
    ],
)
async def test_unknown_type_is_type_error_up_front(make_sim, autojump_clock, method, key, option):
    # DESIGN.md departure: an unknown type is a TypeError even for a missing key (JS only notices on a hit).
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value")
        await raises_type(getattr(kv, method)(key, option), UNKNOWN_TYPE)


# --- DESIGN.md departure: unknown option names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "name"),
    [
        ("get", ("key", {"cachettl": 60}), {}, "cachettl"),
        ("get", ("key",), {"typ": "json"}, "typ"),
        ("getWithMetadata", ("key", {"Type": "json"}), {}, "Type"),
        ("get", (["key"], {"cache_ttl": 60}), {}, "cache_ttl"),
        ("put", ("key", "v"), {"expirationTTL": 60}, "expirationTTL"),
        ("put", ("key", "v", {"ttl": 60}), {}, "ttl"),
        ("list", ({"perfix": "k"},), {}, "perfix"),
        ("list", (), {"limt": 1}, "limt"),
    ],
)
async def test_unknown_option_is_type_error_naming_it(make_sim, autojump_clock, method, args, kwargs, name):
    async with make_sim() as sim:
        kv = kv_of(sim)
        with pytest.raises(TypeError) as info:
            await getattr(kv, method)(*args, **kwargs)
        assert_js_type_error(info.value)
        assert re.search(rf"\b{re.escape(name)}\b", str(info.value))
        assert await kv.get("key") is None  # a put with a misspelt option stored nothing


# --- 1.1 / 2.7 bulk get ------------------------------------------------------------------------------------


async def test_bulk_get_returns_values_and_none_for_missing(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key1", "value1")
        result = await kv.get(["key1", "key2"])
        assert list(result.items()) == [("key1", "value1"), ("key2", None)]


async def test_bulk_get_keeps_request_order(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("a", "b", "c"):
            await kv.put(key, key.upper())
        result = await kv.get(["c", "a", "missing", "b"], {})
        assert list(result.items()) == [("c", "C"), ("a", "A"), ("missing", None), ("b", "B")]


async def test_bulk_get_duplicate_keys_collapse(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("a", "A")
        await kv.put("b", "B")
        result = await kv.get(["a", "b", "a"])
        assert list(result.items()) == [("a", "A"), ("b", "B")]


async def test_bulk_get_100_keys_ok(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("k7", "seven")
        keys = [f"k{i}" for i in range(100)]
        result = await kv.get(keys)
        assert list(result) == keys
        assert result["k7"] == "seven"
        assert sum(value is None for value in result.values()) == 99


@pytest.mark.parametrize(
    ("keys", "option", "detail"),
    [
        ([f"k{i}" for i in range(101)], None, "You can request a maximum of 100 keys"),
        ([], None, "You must request a minimum of 1 key"),
        (["key"], {"type": "invalid"}, '"invalid" is not a valid type. Use "json" or "text"'),
        (["key"], "arrayBuffer", '"arrayBuffer" is not a valid type. Use "json" or "text"'),
        (["key"], {"type": "stream"}, '"stream" is not a valid type. Use "json" or "text"'),
        ([""], None, "Key names must not be empty"),
        (["."], None, 'Illegal key name ".". Please use a different name.'),
        ([".."], None, 'Illegal key name "..". Please use a different name.'),
        (["ok", "", "."], None, "Key names must not be empty"),
        (["key"], {"cacheTtl": 10}, "Invalid cache_ttl of 10. Cache TTL must be at least 30."),
        # 2.7 order: type, then > 100, then < 1, then per key (key checks, then cacheTtl)
        ([], "arrayBuffer", '"arrayBuffer" is not a valid type. Use "json" or "text"'),
        ([""] * 101, None, "You can request a maximum of 100 keys"),
        (["ok", ""], {"cacheTtl": 10}, "Invalid cache_ttl of 10. Cache TTL must be at least 30."),
        (["", "ok"], {"cacheTtl": 10}, "Key names must not be empty"),
    ],
)
async def test_bulk_get_400_errors(make_sim, autojump_clock, keys, option, detail):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value")
        await raises_kv(kv.get(keys, option), "GET_BULK", 400, detail)


@pytest.mark.parametrize("key", ["x" * 513, "€" * 171], ids=["513-ascii", "171-euro"])
async def test_bulk_get_long_key_is_414(make_sim, autojump_clock, key):
    async with make_sim() as sim:
        await raises_kv(kv_of(sim).get(["ok", key]), "GET_BULK", 414, KEY_513)


async def test_bulk_get_with_metadata_validates_keys(make_sim, autojump_clock):
    async with make_sim() as sim:
        detail = 'Illegal key name ".". Please use a different name.'
        await raises_kv(kv_of(sim).getWithMetadata(["."]), "GET_BULK", 400, detail)


async def test_bulk_get_cache_ttl_30_ok(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value")
        assert await kv.get(["key"], {"cacheTtl": 30}) == {"key": "value"}


@pytest.mark.parametrize(("args", "kwargs"), [(("json",), {}), (({"type": "json"},), {}), ((), {"type": "json"})])
async def test_bulk_get_json(make_sim, autojump_clock, args, kwargs):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key1", '{"example": "ex"}')
        assert await kv.get(["key1"]) == {"key1": '{"example": "ex"}'}
        result = await kv.get(["key1", "missing"], *args, **kwargs)
        assert list(result.items()) == [("key1", {"example": "ex"}), ("missing", None)]


@pytest.mark.parametrize("bad", ["example", ""], ids=["text", "empty"])
async def test_bulk_get_json_of_non_json_value(make_sim, autojump_clock, bad):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key1", '{"example": "ex"}')
        await kv.put("key2", bad)
        detail = "At least one of the requested keys corresponds to a non-json value"
        await raises_kv(kv.get(["key1", "key2"], "json"), "GET_BULK", 400, detail)


async def test_bulk_get_json_error_comes_before_later_key_errors(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("bad", "not json")
        detail = "At least one of the requested keys corresponds to a non-json value"
        await raises_kv(kv.get(["bad", ""], "json"), "GET_BULK", 400, detail)


@pytest.mark.parametrize("method", ["get", "getWithMetadata"])
async def test_bulk_get_over_size_limit(make_sim, autojump_clock, method):
    async with make_sim(limits=Limits(bulk_get_bytes=1024)) as sim:
        kv = kv_of(sim)
        await kv.put("key1", "x" * 1024)
        await kv.put("key2", "y" * 1024)
        detail = "Total size of request exceeds the limit of 0.0009765625MB"
        await raises_kv(getattr(kv, method)(["key1", "key2"]), "GET_BULK", 413, detail)
        # exactly the limit is fine
        assert (await kv.get(["key1", "missing"])) == {"key1": "x" * 1024, "missing": None}


async def test_bulk_get_size_counts_utf16_units(make_sim, autojump_clock):
    # 2.7: the total is the JS string length (UTF-16 code units) of each found value.
    async with make_sim(limits=Limits(bulk_get_bytes=1024)) as sim:
        kv = kv_of(sim)
        await kv.put("euro", "€" * 1000)  # 3000 UTF-8 bytes, 1000 UTF-16 units
        await kv.put("emoji", "😀" * 513)  # 513 code points, 1026 UTF-16 units
        assert await kv.get(["euro"]) == {"euro": "€" * 1000}
        detail = "Total size of request exceeds the limit of 0.0009765625MB"
        await raises_kv(kv.get(["emoji"]), "GET_BULK", 413, detail)


async def test_bulk_get_hides_expired_keys(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value", expirationTtl=60)
        await trio.sleep(60)
        assert await kv.get(["key"]) == {"key": None}


# --- 1.2 getWithMetadata -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "expected"),
    [(None, '{"a":1}'), ("text", '{"a":1}'), ("json", {"a": 1}), ("arrayBuffer", b'{"a":1}')],
)
async def test_get_with_metadata_single(make_sim, autojump_clock, type_, expected):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", '{"a":1}', metadata={"testing": True})
        result = await kv.getWithMetadata("key", type_)
        assert result == {"value": expected, "metadata": {"testing": True}, "cacheStatus": None}
        assert isinstance(result["value"], type(expected))


async def test_get_with_metadata_stream(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", b"\x01\x02\x03", metadata={"testing": True})
        result = await kv.getWithMetadata("key", {"type": "stream"})
        assert set(result) == {"value", "metadata", "cacheStatus"}
        assert await read_stream(result["value"]) == b"\x01\x02\x03"
        assert result["metadata"] == {"testing": True}
        assert result["cacheStatus"] is None


@pytest.mark.parametrize("options", [{}, {"metadata": None}], ids=["absent", "null"])
async def test_get_with_metadata_without_metadata(make_sim, autojump_clock, options):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value", options)
        assert await kv.getWithMetadata("key") == {"value": "value", "metadata": None, "cacheStatus": None}
        assert (await kv.list())["keys"] == [{"name": "key"}]


async def test_bulk_get_with_metadata(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key1", "value1", expiration=1500, metadata={"testing": True})
        await kv.put("key2", "value2")
        result = await kv.getWithMetadata(["key1", "key2", "key3"])
        assert list(result.items()) == [
            ("key1", {"value": "value1", "metadata": {"testing": True}}),
            ("key2", {"value": "value2", "metadata": None}),
            ("key3", None),
        ]


@pytest.mark.parametrize("metadata", [123, "example", 0, False, ""])
async def test_bulk_get_with_metadata_scalar_metadata(make_sim, autojump_clock, metadata):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key1", "value1", metadata=metadata)
        result = await kv.getWithMetadata(["key1"])
        assert result == {"key1": {"value": "value1", "metadata": metadata}}
        assert isinstance(result["key1"]["metadata"], type(metadata))


async def test_bulk_get_with_metadata_missing_is_none(make_sim, autojump_clock):
    async with make_sim() as sim:
        assert await kv_of(sim).getWithMetadata(["key1"]) == {"key1": None}


async def test_bulk_get_with_metadata_falsy_values_keep_metadata(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("empty", "", metadata={"testing": True})
        await kv.put("zero", "0", metadata={"testing": 0})
        await kv.put("false", "false", metadata={"testing": False})
        assert await kv.getWithMetadata(["empty"]) == {"empty": {"value": "", "metadata": {"testing": True}}}
        result = await kv.getWithMetadata(["zero", "false"], "json")
        assert result == {
            "zero": {"value": 0, "metadata": {"testing": 0}},
            "false": {"value": False, "metadata": {"testing": False}},
        }
        assert result["zero"]["value"] is not False and result["false"]["value"] is False


# --- 1.3 / 2.5 put -------------------------------------------------------------------------------------------


def _value_kinds() -> list[Any]:
    return [
        pytest.param(lambda: "\x01\x02\x03", id="str"),
        pytest.param(lambda: b"\x01\x02\x03", id="bytes"),
        pytest.param(lambda: bytearray(b"\x01\x02\x03"), id="bytearray"),
        pytest.param(lambda: memoryview(b"\x01\x02\x03"), id="memoryview"),
        pytest.param(lambda: memoryview(bytearray(b"\x00\x01\x02\x03\x04"))[1:4], id="memoryview-slice"),
        pytest.param(lambda: ReadableStream(b"\x01\x02\x03"), id="stream"),
        pytest.param(lambda: ReadableStream([b"\x01", b"\x02\x03"]), id="stream-chunks"),
        pytest.param(lambda: agen(b"\x01", b"", b"\x02\x03"), id="async-generator"),
    ]


@pytest.mark.parametrize("make_value", _value_kinds())
async def test_put_value_kinds(make_sim, autojump_clock, make_value):
    async with make_sim() as sim:
        kv = kv_of(sim)
        assert await kv.put("key", make_value()) is None
        assert await kv.get("key", "arrayBuffer") == b"\x01\x02\x03"


async def test_put_snapshots_bytearray_at_call_time(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        buffer = bytearray(b"abc")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(kv.put, "key", buffer)
            for _ in range(3):
                await trio.lowlevel.checkpoint()
            assert len(sim.history) == 0  # the put has been called but not applied yet
            buffer[:] = b"xyz"
        assert len(sim.history) == 1
        assert await kv.get("key") == "abc"
        buffer[:] = b"123"
        assert await kv.get("key") == "abc"


@pytest.mark.parametrize(
    "empty", ["", b"", bytearray(), ReadableStream(b"")], ids=["str", "bytes", "bytearray", "stream"]
)
async def test_put_empty_value(make_sim, autojump_clock, empty):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", empty)
        assert await kv.get("key") == ""
        assert await kv.get("key", "arrayBuffer") == b""


async def test_put_overrides_existing_key(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value1")
        assert await kv.get("key") == "value1"
        await kv.put("key", "value2", expiration=1500, metadata={"testing": True})
        assert await kv.getWithMetadata("key") == {
            "value": "value2",
            "metadata": {"testing": True},
            "cacheStatus": None,
        }
        assert (await kv.list())["keys"] == [{"name": "key", "expiration": 1500, "metadata": {"testing": True}}]


@pytest.mark.parametrize(
    ("options", "expiration"),
    [
        ({"expiration": 1500}, 1500),
        ({"expiration": 1060}, 1060),  # now + 60: the earliest allowed
        ({"expiration": 1500.9}, 1500),  # truncated toward zero
        ({"expirationTtl": 60}, 1060),
        ({"expirationTtl": 60.9}, 1060),
        ({"expirationTtl": 1000}, 2000),
        ({"expiration": 5, "expirationTtl": 120}, 1120),  # the TTL wins, an invalid expiration is ignored
        ({"expiration": 1500, "expirationTtl": 200}, 1200),
    ],
)
async def test_put_expiration_stored_absolute(make_sim, autojump_clock, options, expiration):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value", options)
        await kv.put("kw", "value", **options)
        assert (await kv.list())["keys"] == [
            {"name": "key", "expiration": expiration},
            {"name": "kw", "expiration": expiration},
        ]


@pytest.mark.parametrize(
    ("ttl", "detail"),
    [
        (0, TTL_POSITIVE.format(0)),
        ("nan", TTL_POSITIVE.format(0)),
        (float("nan"), TTL_POSITIVE.format(0)),
        (float("inf"), TTL_POSITIVE.format(0)),
        (-1, TTL_POSITIVE.format(-1)),
        (0.5, TTL_POSITIVE.format(0)),
        (30, TTL_MIN.format(30)),
        (59, TTL_MIN.format(59)),
        (59.9, TTL_MIN.format(59)),
    ],
)
async def test_put_invalid_expiration_ttl(make_sim, autojump_clock, ttl, detail):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await raises_kv(kv.put("key", "value", {"expirationTtl": ttl}), "PUT", 400, detail)
        await raises_kv(kv.put("key", "value", expirationTtl=ttl, expiration=1500), "PUT", 400, detail)
        assert await kv.get("key") is None


@pytest.mark.parametrize(
    ("expiration", "detail"),
    [
        ("nan", EXP_PAST.format(0)),
        (float("nan"), EXP_PAST.format(0)),
        (0, EXP_PAST.format(0)),
        (-5, EXP_PAST.format(-5)),
        (999, EXP_PAST.format(999)),
        (1000, EXP_PAST.format(1000)),  # now
        (1001, EXP_MIN.format(1001)),
        (1030, EXP_MIN.format(1030)),
        (1059, EXP_MIN.format(1059)),  # now + 59
    ],
)
async def test_put_invalid_expiration(make_sim, autojump_clock, expiration, detail):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await raises_kv(kv.put("key", "value", {"expiration": expiration}), "PUT", 400, detail)
        assert await kv.get("key") is None


async def test_put_expiration_is_checked_against_current_time(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await trio.sleep(100)  # now = 1100
        await raises_kv(kv.put("key", "v", expiration=1100), "PUT", 400, EXP_PAST.format(1100))
        await raises_kv(kv.put("key", "v", expiration=1159), "PUT", 400, EXP_MIN.format(1159))
        await kv.put("key", "v", expiration=1160)
        await kv.put("ttl", "v", expirationTtl=60)
        assert (await kv.list())["keys"] == [{"name": "key", "expiration": 1160}, {"name": "ttl", "expiration": 1160}]


@pytest.mark.parametrize("option", ["expiration", "expirationTtl"])
@pytest.mark.parametrize("value", [2**31, -(2**31) - 1])
async def test_put_expiration_outside_int32_is_range_type_error(make_sim, autojump_clock, option, value):
    async with make_sim() as sim:
        await raises_type(kv_of(sim).put("key", "value", {option: value}), RANGE)


@pytest.mark.parametrize(
    ("metadata", "size"),
    [
        ({"key": "x" * 1014}, 1024),
        ({"key": "x" * 1015}, 1025),
        ({"k": "€" * 338}, 1022),  # non-ASCII kept as UTF-8 (3 bytes each), not escaped
        ({"k": "€" * 339}, 1025),
        ({"a": "x" * 1010, "b": 1}, 1024),  # compact JSON: no spaces after ':' and ','
        ({"a": "x" * 1011, "b": 1}, 1025),
        ("x" * 1022, 1024),
        ("x" * 1023, 1025),
    ],
)
async def test_put_metadata_size(make_sim, autojump_clock, metadata, size):
    async with make_sim() as sim:
        kv = kv_of(sim)
        if size <= 1024:
            await kv.put("key", "value", metadata=metadata)
            assert (await kv.getWithMetadata("key"))["metadata"] == metadata
        else:
            detail = f"Metadata length of {size} exceeds limit of 1024."
            await raises_kv(kv.put("key", "value", metadata=metadata), "PUT", 413, detail)
            assert await kv.get("key") is None


def _sized_values() -> list[Any]:
    return [
        pytest.param(lambda n: "x" * n, id="str"),
        pytest.param(lambda n: b"x" * n, id="bytes"),
        pytest.param(lambda n: ReadableStream([b"x" * 100] * (n // 100) + [b"x" * (n % 100)]), id="stream"),
        pytest.param(lambda n: agen(*([b"x" * 7] * (n // 7) + [b"x" * (n % 7)])), id="async-generator"),
    ]


@pytest.mark.parametrize("make_value", _sized_values())
async def test_put_value_size(make_sim, autojump_clock, make_value):
    async with make_sim(limits=Limits(value_bytes=1024)) as sim:
        kv = kv_of(sim)
        await kv.put("ok", make_value(1024))
        assert await kv.get("ok", "arrayBuffer") == b"x" * 1024
        detail = "Value length of 1025 exceeds limit of 1024."
        await raises_kv(kv.put("big", make_value(1025)), "PUT", 413, detail)
        # a stream is counted to its end, so the reported length is the true total
        await raises_kv(kv.put("big", make_value(3000)), "PUT", 413, "Value length of 3000 exceeds limit of 1024.")
        assert await kv.get("big") is None


async def test_put_value_size_counts_utf8_bytes(make_sim, autojump_clock):
    async with make_sim(limits=Limits(value_bytes=1024)) as sim:
        kv = kv_of(sim)
        await raises_kv(kv.put("key", "€" * 342), "PUT", 413, "Value length of 1026 exceeds limit of 1024.")


@pytest.mark.parametrize(
    ("value", "options", "detail", "status"),
    [
        ("x" * 2000, {"expirationTtl": 30, "metadata": {"k": "x" * 2000}}, TTL_MIN.format(30), 400),
        ("x" * 2000, {"expiration": 1030, "metadata": {"k": "x" * 2000}}, EXP_MIN.format(1030), 400),
        ("x" * 2000, {"metadata": {"k": "x" * 2000}}, "Metadata length of 2008 exceeds limit of 1024.", 413),
    ],
)
async def test_put_validation_order(make_sim, autojump_clock, value, options, detail, status):
    # 2.5: key, then expiration(Ttl), then metadata size, then value size.
    async with make_sim(limits=Limits(value_bytes=1024)) as sim:
        await raises_kv(kv_of(sim).put("key", value, options), "PUT", status, detail)


@pytest.mark.parametrize(
    "value",
    [42, 4.2, None, True, {"a": 1}, ["a"], object()],
    ids=["int", "float", "None", "bool", "dict", "list", "object"],
)
async def test_put_bad_value_type(make_sim, autojump_clock, value):
    # DESIGN.md departure: no silent str() of non-string primitives.
    async with make_sim() as sim:
        kv = kv_of(sim)
        await raises_type(kv.put("key", value), BAD_VALUE)
        assert await kv.get("key") is None


# --- 1.4 delete ----------------------------------------------------------------------------------------------


async def test_delete_existing_key(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value")
        assert await kv.get("key") == "value"
        assert await kv.delete("key") is None
        assert await kv.get("key") is None
        assert await kv.getWithMetadata("key") == {"value": None, "metadata": None, "cacheStatus": None}
        assert await kv.list() == {"keys": [], "list_complete": True, "cacheStatus": None}


async def test_delete_missing_key(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        assert await kv.delete("key") is None
        assert await kv.get("key") is None


# --- 1.5 / 2.6 / 5 list --------------------------------------------------------------------------------------


def names(result: dict[str, Any]) -> list[str]:
    return [entry["name"] for entry in result["keys"]]


async def test_list_sorted_exact_shape(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("key3", "key1", "key2"):
            await kv.put(key, "value")
        result = await kv.list()
        assert result == {
            "keys": [{"name": "key1"}, {"name": "key2"}, {"name": "key3"}],
            "list_complete": True,
            "cacheStatus": None,
        }
        assert "cursor" not in result


async def test_list_sorts_by_utf8_bytes(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put(", ", "value")
        await kv.put("!", "value")
        assert await kv.list() == {"keys": [{"name": "!"}, {"name": ", "}], "list_complete": True, "cacheStatus": None}


async def test_list_sorts_astral_after_bmp_like_utf8(make_sim, autojump_clock):
    # UTF-8 byte order (not JS UTF-16 order): U+FFFF (EF BF BF) < U+1F600 (F0 9F 98 80).
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("\U0001f600", "\uffff", "z", "é", "Z"):
            await kv.put(key, "value")
        assert names(await kv.list()) == ["Z", "z", "é", "\uffff", "\U0001f600"]


@pytest.mark.parametrize("form", ["dict", "keyword"])
async def test_list_prefix(make_sim, autojump_clock, form):
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("section1key1", "section1key2", "section2key1"):
            await kv.put(key, "value")
        result = await (kv.list({"prefix": "section1"}) if form == "dict" else kv.list(prefix="section1"))
        assert result == {
            "keys": [{"name": "section1key1"}, {"name": "section1key2"}],
            "list_complete": True,
            "cacheStatus": None,
        }


async def test_list_prefix_is_case_sensitive(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("key1", "key2", "KEY1", "KEY2"):
            await kv.put(key, "value")
        assert names(await kv.list(prefix="KEY")) == ["KEY1", "KEY2"]


async def test_list_prefix_special_characters(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("key\\_%1", "key\\a", "key\\_%2", "key\\bbb", "key\\_%3"):
            await kv.put(key, "value")
        assert names(await kv.list(prefix="key\\_%")) == ["key\\_%1", "key\\_%2", "key\\_%3"]


@pytest.mark.parametrize("options", [{}, {"prefix": ""}, {"prefix": None, "cursor": None, "limit": None}])
async def test_list_absent_prefix_lists_all(make_sim, autojump_clock, options):
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("b", "a"):
            await kv.put(key, "value")
        assert await kv.list(options) == {
            "keys": [{"name": "a"}, {"name": "b"}],
            "list_complete": True,
            "cacheStatus": None,
        }


async def test_list_expiration_and_metadata_only_when_set(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key1", "value", expiration=1500)
        await kv.put("key2", "value", expiration=1600, metadata={"testing": 2})
        await kv.put("key3", "value", metadata={"testing": 3})
        await kv.put("key4", "value", metadata=None)
        await kv.put("key5", "value", expirationTtl=700)
        await kv.put("key6", "value", metadata=0)
        await kv.put("key7", "value", metadata="")
        await kv.put("key8", "value", metadata=False)
        assert await kv.list() == {
            "keys": [
                {"name": "key1", "expiration": 1500},
                {"name": "key2", "expiration": 1600, "metadata": {"testing": 2}},
                {"name": "key3", "metadata": {"testing": 3}},
                {"name": "key4"},
                {"name": "key5", "expiration": 1700},
                {"name": "key6", "metadata": 0},
                {"name": "key7", "metadata": ""},
                {"name": "key8", "metadata": False},
            ],
            "list_complete": True,
            "cacheStatus": None,
        }


@pytest.mark.parametrize("prefix", [None, "none"])
async def test_list_empty(make_sim, autojump_clock, prefix):
    async with make_sim() as sim:
        kv = kv_of(sim)
        if prefix is not None:
            await kv.put("key", "value")
        result = await kv.list(prefix=prefix)
        assert result == {"keys": [], "list_complete": True, "cacheStatus": None}


async def test_list_paginates(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("key1", "key2", "key3"):
            await kv.put(key, "value")
        page1 = await kv.list(limit=2)
        assert set(page1) == {"keys", "list_complete", "cursor", "cacheStatus"}
        assert page1["keys"] == [{"name": "key1"}, {"name": "key2"}]
        assert page1["list_complete"] is False
        assert isinstance(page1["cursor"], str) and page1["cursor"]
        assert page1["cacheStatus"] is None
        page2 = await kv.list({"limit": 2, "cursor": page1["cursor"]})
        assert page2 == {"keys": [{"name": "key3"}], "list_complete": True, "cacheStatus": None}


async def test_list_paginates_with_prefix(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("section1key1", "section1key2", "section1key3", "section2key1"):
            await kv.put(key, "value")
        page1 = await kv.list(prefix="section1", limit=2)
        assert names(page1) == ["section1key1", "section1key2"] and page1["list_complete"] is False
        page2 = await kv.list(prefix="section1", limit=2, cursor=page1["cursor"])
        assert page2 == {"keys": [{"name": "section1key3"}], "list_complete": True, "cacheStatus": None}


async def test_list_cursor_is_not_bound_to_prefix(make_sim, autojump_clock):
    # 5: the prefix is re-applied from each call's arguments; the cursor only means "after this key".
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("a1", "a2", "b1"):
            await kv.put(key, "value")
        page1 = await kv.list(prefix="a", limit=1)
        assert names(page1) == ["a1"]
        page2 = await kv.list(cursor=page1["cursor"])
        assert page2 == {"keys": [{"name": "a2"}, {"name": "b1"}], "list_complete": True, "cacheStatus": None}


async def test_list_paginates_with_variable_limit(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("key1", "key2", "key3"):
            await kv.put(key, "value")
        page1 = await kv.list(limit=1)
        assert names(page1) == ["key1"] and page1["list_complete"] is False
        page2 = await kv.list(limit=2, cursor=page1["cursor"])
        assert page2 == {"keys": [{"name": "key2"}, {"name": "key3"}], "list_complete": True, "cacheStatus": None}


async def test_list_returns_keys_inserted_while_paginating(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        for key in ("key1", "key3", "key5"):
            await kv.put(key, "value")
        page1 = await kv.list(limit=2)
        assert names(page1) == ["key1", "key3"] and page1["list_complete"] is False
        await kv.put("key2", "value")
        await kv.put("key4", "value")
        page2 = await kv.list(limit=2, cursor=page1["cursor"])
        assert page2 == {"keys": [{"name": "key4"}, {"name": "key5"}], "list_complete": True, "cacheStatus": None}


async def test_list_ignores_expired_keys(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        for i, key in enumerate(("key1", "key2", "key3"), 1):
            await kv.put(key, "value", expiration=START + 60 * i)
        await trio.sleep(130)
        assert await kv.list() == {
            "keys": [{"name": "key3", "expiration": 1180}],
            "list_complete": True,
            "cacheStatus": None,
        }


async def _fill(kv: Any, count: int) -> None:
    for i in range(count):
        await kv.put(f"k{i:04}", "v")


@pytest.mark.parametrize("limit", [0, -1, "nan", float("nan"), 0.5, None])
async def test_list_non_positive_limit_means_1000(make_sim, autojump_clock, limit):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await _fill(kv, 1001)
        result = await kv.list({"limit": limit})
        assert len(result["keys"]) == 1000
        assert result["keys"][-1] == {"name": "k0999"}
        assert result["list_complete"] is False
        rest = await kv.list(cursor=result["cursor"])
        assert rest == {"keys": [{"name": "k1000"}], "list_complete": True, "cacheStatus": None}


async def test_list_limit_1000_ok(make_sim, autojump_clock):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await _fill(kv, 1001)
        result = await kv.list(limit=1000)
        assert len(result["keys"]) == 1000 and result["list_complete"] is False


@pytest.mark.parametrize("limit", [1001, 5000])
async def test_list_limit_above_1000(make_sim, autojump_clock, limit):
    async with make_sim() as sim:
        detail = f"Invalid key_count_limit of {limit}. Please specify an integer less than 1000."
        await raises_kv(kv_of(sim).list({"limit": limit}), "GET", 400, detail)


async def test_list_limit_outside_int32_is_range_type_error(make_sim, autojump_clock):
    async with make_sim() as sim:
        await raises_type(kv_of(sim).list(limit=2**31), RANGE)


@pytest.mark.parametrize("prefix", ["x" * 513, "€" * 171], ids=["513-ascii", "171-euro"])
async def test_list_prefix_longer_than_512_bytes(make_sim, autojump_clock, prefix):
    async with make_sim() as sim:
        await raises_kv(kv_of(sim).list(prefix=prefix), "GET", 414, KEY_513)


@pytest.mark.parametrize("key", ["x" * 512, "€" * 170 + "xx"], ids=["512-ascii", "512-euro"])
async def test_list_accepts_512_byte_prefix(make_sim, autojump_clock, key):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put(key, "value")
        assert await kv.list(prefix=key) == {"keys": [{"name": key}], "list_complete": True, "cacheStatus": None}


# --- 5 expiry hides at exactly the expiration second ----------------------------------------------------------


@pytest.mark.parametrize("options", [{"expirationTtl": 60}, {"expiration": 1060}])
async def test_expiry_hides_at_exactly_the_expiration(make_sim, autojump_clock, options):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put("key", "value", options, metadata={"m": 1})
        await trio.sleep(59.5)  # now = 1059.5 < 1060
        assert await kv.get("key") == "value"
        assert await kv.get(["key"]) == {"key": "value"}
        assert (await kv.getWithMetadata("key"))["value"] == "value"
        assert names(await kv.list()) == ["key"]
        await trio.sleep(0.5)  # now = 1060 = expiration
        assert await kv.get("key") is None
        assert await kv.get("key", "stream") is None
        assert await kv.get(["key"]) == {"key": None}
        assert await kv.getWithMetadata("key") == {"value": None, "metadata": None, "cacheStatus": None}
        assert await kv.getWithMetadata(["key"]) == {"key": None}
        assert await kv.list() == {"keys": [], "list_complete": True, "cacheStatus": None}


# --- DESIGN 3 / 7: a rejected call changes nothing, and is recorded with an error ----------------------------

REJECTED = [
    pytest.param("get", ("",), {}, TypeError, id="get-empty-key"),
    pytest.param("get", ("x" * 513,), {}, KVError, id="get-long-key"),
    pytest.param("get", ("existing", {"cacheTtl": 10}), {}, KVError, id="get-cache-ttl"),
    pytest.param("get", ("existing", "banana"), {}, TypeError, id="get-unknown-type"),
    pytest.param("get", ("existing",), {"cachettl": 60}, TypeError, id="get-unknown-option"),
    pytest.param("getWithMetadata", ("..",), {}, TypeError, id="getWithMetadata-dotdot"),
    pytest.param("get", ([],), {}, KVError, id="bulk-no-keys"),
    pytest.param("get", (["existing", ""],), {}, KVError, id="bulk-empty-key"),
    pytest.param("get", (["existing"], "stream"), {}, KVError, id="bulk-bad-type"),
    pytest.param("get", (["existing", "text"], "json"), {}, KVError, id="bulk-non-json"),
    pytest.param("getWithMetadata", (["existing", "big"],), {}, KVError, id="bulk-too-big"),
    pytest.param("put", ("", "new"), {}, TypeError, id="put-empty-key"),
    pytest.param("put", (".", "new"), {}, TypeError, id="put-dot-key"),
    pytest.param("put", ("€" * 171, "new"), {}, KVError, id="put-long-key"),
    pytest.param("put", ("existing", "new"), {"expirationTtl": 30}, KVError, id="put-ttl"),
    pytest.param("put", ("existing", "new"), {"expiration": START}, KVError, id="put-expiration"),
    pytest.param("put", ("existing", "new"), {"expiration": 2**31}, TypeError, id="put-range"),
    pytest.param("put", ("existing", "new"), {"metadata": {"k": "x" * 1017}}, KVError, id="put-metadata"),
    pytest.param("put", ("existing", "n" * 1025), {}, KVError, id="put-value-size"),
    pytest.param("put", ("existing", ReadableStream(b"n" * 1025)), {}, KVError, id="put-stream-size"),
    pytest.param("put", ("existing", 42), {}, TypeError, id="put-bad-value"),
    pytest.param("put", ("existing", "new"), {"expirationTTL": 60}, TypeError, id="put-unknown-option"),
    pytest.param("delete", ("",), {}, TypeError, id="delete-empty-key"),
    pytest.param("delete", ("x" * 513,), {}, KVError, id="delete-long-key"),
    pytest.param("list", ({"limit": 1001},), {}, KVError, id="list-limit"),
    pytest.param("list", (), {"prefix": "x" * 513}, KVError, id="list-long-prefix"),
    pytest.param("list", (), {"prefx": "e"}, TypeError, id="list-unknown-option"),
]


async def _state(sim: workersim.Simulation, kv: Any) -> Any:
    listed = await kv.list()
    stored = {entry["name"]: await kv.getWithMetadata(entry["name"], "arrayBuffer") for entry in listed["keys"]}
    return listed, stored, engine(sim).store.cluster.namespace("NS").version_count()


@pytest.mark.parametrize(("method", "args", "kwargs", "error"), REJECTED)
async def test_rejected_call_changes_nothing(make_sim, autojump_clock, method, args, kwargs, error):
    async with make_sim(limits=Limits(value_bytes=1024, bulk_get_bytes=1024)) as sim:
        kv = kv_of(sim)
        await kv.put("existing", "old", expirationTtl=600, metadata={"m": 1})
        await kv.put("text", "not json")
        await kv.put("big", "b" * 1024)
        before = await _state(sim, kv)
        count = len(sim.history)
        with pytest.raises(error) as info:
            await getattr(kv, method)(*args, **kwargs)
        if error is TypeError:
            assert_js_type_error(info.value)
        else:
            assert type(info.value) is error
        assert len(sim.history) == count + 1
        row = sim.history[count]
        assert isinstance(row, workersim.KVRejected)
        assert row.op == method
        assert row.edge == "SFO"
        assert row.error == f"{error.__name__}: {info.value}"
        assert await _state(sim, kv) == before
        assert await kv.getWithMetadata("existing") == {"value": "old", "metadata": {"m": 1}, "cacheStatus": None}


# --- keys given as numbers (DESIGN.md, 2026-11-30) ----------------------------------------------------------


async def test_an_int_key_is_its_decimal_string(make_sim, autojump_clock):
    # workerd turns a JS number key into a string; Python Workers code passes ints through (get(user_id)).
    async with make_sim() as sim:
        kv = kv_of(sim)
        await kv.put(7, "seven")
        assert await kv.get("7") == "seven"
        assert await kv.get(7) == "seven"
        assert await kv.get([7, "8"]) == {"7": "seven", "8": None}
        await kv.delete(7)
        assert await kv.get("7") is None
    assert [row.key for row in sim.history if isinstance(row, workersim.KVWrite)] == ["7", "7"]


@pytest.mark.parametrize("key", [True, 4.2, None, b"k"], ids=["bool", "float", "None", "bytes"])
async def test_other_non_string_keys_stay_type_errors(make_sim, autojump_clock, key):
    async with make_sim() as sim:
        kv = kv_of(sim)
        await raises_type(kv.get(key), f"KV key must be a string, got {type(key).__name__}.")
        await raises_type(kv.put(key, "v"), f"KV key must be a string, got {type(key).__name__}.")
        await raises_type(kv.get([key]), f"KV key must be a string, got {type(key).__name__}.")

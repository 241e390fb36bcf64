"""History rows: typed rows, JSON Lines out and back byte for byte, and clear errors for what is not a history."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

import workersim
from workersim import History, HistoryFormatError, KVBulkRead, KVList, KVRead, KVRejected, KVWrite
from workersim.core.rows import UNKNOWN, decode_value, encode_value, row_from_json


def test_values_are_text_when_utf8_and_base64_otherwise() -> None:
    assert encode_value(b"caf\xc3\xa9") == "caf\u00e9"
    assert encode_value(b"\xff\x00") == {"base64": "/wA="}
    assert encode_value(None) is None
    for raw in (b"caf\xc3\xa9", b"\xff\x00", b"", None):
        assert decode_value(encode_value(raw)) == raw


async def test_jsonl_round_trip_is_byte_identical(tmp_path: Path, autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",), delays=workersim.FixedDelay(1))
    async with sim:
        kv = sim.env("SFO").KV
        await kv.put("k", b"\xff\x00", metadata={"\u00e9moji": "\U0001f913"}, expirationTtl=60)
        await kv.get(["k", "missing"])
        await kv.list(prefix="k")
        with pytest.raises(TypeError):
            await kv.put("", "x")
    put, bulk, listed, rejected = sim.history
    # The rows are typed, and hold what the calls did.
    assert isinstance(put, KVWrite) and put.value == b"\xff\x00" and put.version == 1
    assert put.expiration == int(sim.start_time) + 60
    assert isinstance(bulk, KVBulkRead) and bulk.value == {"k": b"\xff\x00", "missing": None}
    assert bulk.version == {"k": 1, "missing": None}
    assert isinstance(listed, KVList) and listed.names == ("k",) and listed.list_complete
    assert isinstance(rejected, KVRejected) and rejected.error == "TypeError: Key name cannot be empty."
    path = tmp_path / "history.jsonl"
    sim.history.to_jsonl(path)
    again = History.from_jsonl(path)
    assert again.rows == sim.history.rows
    copy = tmp_path / "copy.jsonl"
    again.to_jsonl(copy)
    assert copy.read_bytes() == path.read_bytes()
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == (
        '{"id":0,"edge":"SFO","ns":"KV","op":"put","key":"k","value":{"base64":"/wA="},'
        '"metadata":{"\u00e9moji":"\U0001f913"},"expiration":1767225660,"version":1,"invoke":0.0,"complete":0.0}'
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"id": 0, "op": "get", "key": "k"}\n[1, 2]\n', "line 2: expected a JSON object, got list"),
        ('{"id": 0, "op": "get", "key": "k"', "line 1: not JSON"),
        ('{"id": 0, "op": "shout", "key": "k"}', "line 1: unknown op 'shout'"),
        ('{"id": 0, "key": "k"}', "line 1: a row needs an 'op' string"),
        ('{"id": 0, "op": "put", "value": "v"}', "line 1: not a valid 'put' row: missing 'key'"),
        ('{"id": 0, "op": "get", "key": "k", "invoke": "soon"}', "'invoke' must be a number of seconds"),
        ('{"id": 0, "op": "get", "key": "k", "value": 7}', "a value must be text"),
    ],
)
def test_what_is_not_a_history_is_named_by_line(text: str, problem: str) -> None:
    with pytest.raises(HistoryFormatError, match=problem.replace("(", r"\(").replace("[", r"\[")):
        History.from_jsonl_text(text)


def test_rows_from_elsewhere_may_leave_out_versions() -> None:
    row = row_from_json({"op": "get", "edge": "SFO", "key": "k", "value": "v", "invoke": 1.5}, position=7)
    assert row == KVRead(id=7, edge="SFO", ns="", op="get", key="k", value=b"v", version=UNKNOWN, invoke=1.5,
                         complete=1.5)  # fmt: skip
    assert "version" not in row.to_json()


def _read(ident: int) -> KVRead:
    return KVRead(id=ident, edge="SFO", ns="KV", op="get", key="k", value=None, invoke=0.0, complete=0.0)


def test_a_limited_history_keeps_the_newest_rows_and_counts_on() -> None:
    history = History(limit=10)
    for i in range(100):
        history.append(_read(i))
    assert 10 <= len(history) <= 11
    assert history[-1] == _read(99)
    assert [row.id for row in history] == list(range(100 - len(history), 100))
    assert history.recorded == 100
    nothing = History(limit=0)
    nothing.append(_read(0))
    assert len(nothing) == 0 and nothing.recorded == 1
    with pytest.raises(ValueError, match="out of order"):
        nothing.append(_read(5))


def test_a_byte_budget_keeps_the_newest_rows_that_fit() -> None:
    from workersim.core.rows import KVWrite, row_size

    history = History(max_bytes=10_000)
    for ident in range(40):
        history.append(
            KVWrite(id=ident, edge="SFO", ns="KV", op="put", key=f"k{ident}", value=b"v" * 3000, version=ident + 1,
                    invoke=0.0, complete=0.0)
        )  # fmt: skip
        held = sum(map(row_size, history.rows))
        assert held == history.held_bytes <= 10_000
    assert history.recorded == 40 and history.rows[-1].id == 39  # ids keep counting; the newest row stays
    assert [row.id for row in history.rows] == list(range(40 - len(history.rows), 40))
    history.bound_bytes(None)
    kept = len(history.rows)
    history.append(KVWrite(id=40, edge="SFO", ns="KV", op="delete", key="k", value=None, version=41, invoke=0.0,
                           complete=0.0))  # fmt: skip
    assert len(history.rows) == kept + 1  # without a bound, nothing more is dropped


# A plan of what is added to a history: a packed row (the simulation's way) or a row object (anyone's), when the
# rows are read in between, and when a bound is set ("bound": to ``later``) or lifted, as a server does.
_steps = st.lists(st.sampled_from(["packed", "object", "read", "len", "bound", "unbound"]), max_size=30)


@given(steps=_steps, limit=st.none() | st.integers(0, 6), later=st.integers(0, 6))
def test_packed_rows_read_back_in_order_with_their_ids(steps: list[str], limit: int | None, later: int) -> None:
    from workersim.core.rows import FetchRow, pack_fetch

    history = History(limit=limit)
    bound = limit  # the limit in force, as the plan set it
    expected: list[FetchRow] = []  # the oracle: every row added, with its id, in the order the plan added it
    for step in steps:
        url = f"/{len(expected)}"
        if step == "packed":
            history.record(
                pack_fetch(edge="E", op="fetch", request=None, method="GET", url=url, invoke=0.0, complete=0.0)
            )
            expected.append(
                FetchRow(id=len(expected), edge="E", op="fetch", method="GET", url=url, invoke=0, complete=0)
            )
        elif step == "object":
            row = FetchRow(id=len(expected), edge="E", op="fetch", method="POST", url=url, invoke=0, complete=0)
            assert history.append(row) is row
            expected.append(row)
        elif step == "read":
            held = history.rows
            assert held == expected[len(expected) - len(held) :]
        elif step in ("bound", "unbound"):
            bound = history.limit = later if step == "bound" else None
        assert history.recorded == len(expected)
        if step in ("packed", "object") and bound is not None:  # a bounded history drops rows as they come
            assert len(history) <= max(bound + bound // 10, 1)
    rows = list(history)
    assert rows == expected[len(expected) - len(rows) :]
    assert [row.id for row in rows] == list(range(len(expected) - len(rows), len(expected)))
    if "bound" not in steps and limit is None:
        assert rows == expected  # never bounded: every row kept


async def test_a_history_read_during_a_run_holds_the_rows_so_far(autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",))
    async with sim:
        kv = sim.env("SFO").KV
        await kv.put("k", "1")
        held = sim.history.rows
        assert [row.op for row in held] == ["put"]
        await kv.get("k")
        assert len(sim.history) == 2  # counted without reading the rows
        assert [row.op for row in held] == ["put"]  # a list read earlier is not kept up to date ...
        assert [row.op for row in sim.history.rows] == ["put", "get"]  # ... reading again gives every row
        assert held is sim.history.rows  # (the same list, now grown)

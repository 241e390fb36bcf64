"""History rows: JSON Lines out and back, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

import workersim
from workersim.core import History, encode_value


def test_values_are_text_when_utf8_and_base64_otherwise() -> None:
    assert encode_value(b"caf\xc3\xa9") == "café"
    assert encode_value(b"\xff\x00") == {"base64": "/wA="}
    assert encode_value(None) is None


async def test_jsonl_round_trip_is_byte_identical(tmp_path: Path, autojump_clock: trio.abc.Clock) -> None:
    sim = workersim.Simulation(edges=("SFO", "LHR"), kv_namespaces=("KV",), delays=workersim.FixedDelay(1))
    async with sim:
        kv = sim.env("SFO").KV
        await kv.put("k", b"\xff\x00", metadata={"émoji": "🤓"}, expirationTtl=60)
        await kv.get(["k", "missing"])
        await kv.list(prefix="k")
        with pytest.raises(TypeError):
            await kv.put("", "x")
    path = tmp_path / "history.jsonl"
    sim.history.to_jsonl(path)
    again = History.from_jsonl(path)
    assert again.rows == sim.history.rows
    copy = tmp_path / "copy.jsonl"
    again.to_jsonl(copy)
    assert copy.read_bytes() == path.read_bytes()
    assert [row["id"] for row in again] == [0, 1, 2, 3]
    assert again[3]["error"] == "TypeError: Key name cannot be empty."


def test_from_jsonl_rejects_lines_that_are_not_objects() -> None:
    with pytest.raises(ValueError, match="line 2"):
        History.from_jsonl_text('{"id": 0}\n[1, 2]\n')


def test_a_limited_history_keeps_the_newest_rows_and_counts_on() -> None:
    history = History(limit=10)
    for i in range(100):
        history.append({"op": "get", "n": i})
    assert 10 <= len(history) <= 11
    assert history[-1] == {"id": 99, "op": "get", "n": 99}
    assert [row["id"] for row in history] == list(range(100 - len(history), 100))
    assert history.recorded == 100
    nothing = History(limit=0)
    nothing.append({"op": "get"})
    assert len(nothing) == 0 and nothing.recorded == 1

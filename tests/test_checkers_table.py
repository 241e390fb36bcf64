"""The checkers' columnar table (``workersim.checkers.table``) against the rule it computes all at once, and
``workersim check``'s streaming read of a file against reading its rows.

- The oracle for the columns is ``WriteIndex`` (``workersim.core.staleness``), which applies the rule one
  operation at a time: for every operation of a random history, which write it saw, the write that first made it
  stale, and what it matches once the whole history is known.
- A file read by ``OpTable.from_jsonl`` gives the same reports as its rows, whatever its lines look like, and a
  file that is not a history raises the very error ``History.from_lines`` raises.
"""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workersim.core.history as core_history
from workersim.checkers import check_all, check_anomalies, staleness
from workersim.checkers.table import PHANTOM, OpTable
from workersim.core.errors import HistoryFormatError
from workersim.core.history import History
from workersim.core.rows import AnyRow, row_from_json
from workersim.core.staleness import Op, WriteIndex, single_key_ops

GOLDEN = Path(__file__).parent / "golden"
MAX_DELAY = 10.0


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Rows with what the rule looks at: writes and deletes, reads with a version, without one, naming a version
    no write made (or a later write's), bulk reads, namespaces, requests, repeated and huge versions, values
    long and binary, times out of order."""
    keys = ["a", "b", "c"]
    values = [None, "x", "y", "z" * 80, {"base64": "//4="}]
    huge = draw(st.booleans())
    rows: list[dict[str, Any]] = []
    written: list[tuple[str, str, Any, int]] = []
    for i in range(draw(st.integers(1, 40))):
        ns, key = draw(st.sampled_from(["KV", "KV", "OTHER"])), draw(st.sampled_from(keys))
        row: dict[str, Any] = {
            "id": i,
            "edge": draw(st.sampled_from(["A", "B", "C"])),
            "ns": ns,
            "key": key,
            "request": draw(st.sampled_from([None, "r1", "r2", "r3"])),
            "invoke": draw(st.sampled_from([0.0, 1.0, 5.0, 12.0, 30.0])) + i * draw(st.sampled_from([0, 0.001])),
        }
        kind = draw(st.sampled_from(["put", "put", "get", "get", "get", "bulk"]))
        version_of = draw(st.sampled_from(["kept", "kept", "none", "absent", "ghost"]))
        if kind == "put":
            value = draw(st.sampled_from(values))
            version = draw(st.integers(1, 6)) + (1 << 70 if huge else 0)
            row.update(op="put" if value is not None else "delete", value=value, version=version)
            written.append((ns, key, value, version))
        else:
            same = [w for w in written if w[:2] == (ns, key)]
            seen = draw(st.sampled_from(same)) if same and draw(st.booleans()) else (ns, key, None, None)
            value = seen[2] if draw(st.integers(0, 4)) else draw(st.sampled_from(values))
            version = {"kept": seen[3], "none": None, "ghost": 99}.get(version_of)
            if kind == "bulk":
                row.pop("key")
                row.update(op="get", keys=[key, "c"], value={key: value, "c": None})
                if version_of != "absent":
                    row["version"] = {key: version, "c": None}
            else:
                row.update(op="get", value=value)
                if version_of != "absent":
                    row["version"] = version
        if kind == "put" and version_of == "absent":
            del row["version"]
        rows.append(row)
    return rows


def parse(rows: list[dict[str, Any]]) -> list[AnyRow]:
    return [row_from_json(row, i) for i, row in enumerate(rows)]


@given(histories())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_columns_are_the_rule_applied_one_operation_at_a_time(data: list[dict[str, Any]]) -> None:
    rows = parse(data)
    table = OpTable.of(rows)
    ops = list(single_key_ops(rows))
    assert len(table) == len(ops)
    index, position = WriteIndex(), {id(op): i for i, op in enumerate(ops)}
    seen: list[int | None] = []
    missed: list[Op | None] = []
    for op in ops:
        if op.kind == "write":
            seen.append(index.add(op))
            missed.append(None)
        else:
            seen.append(index.seen(op))
            missed.append(index.first_missed(op))
    for i, op in enumerate(ops):
        assert bool(table.writing[i]) == (op.kind == "write")
        assert int(table.seen[i]) == (PHANTOM if seen[i] is None else seen[i]), op.describe()
        assert int(table.missed[i]) == (-1 if missed[i] is None else position[id(missed[i])]), op.describe()
        if op.kind == "read":
            final = index.seen(op)
            assert int(table.final_seen[i]) == (PHANTOM if final is None else final), op.describe()
        assert table.op(i).describe() == op.describe()


def reports(history: Any) -> dict[str, Any]:
    return {
        "check_all": [report.to_json() for report in check_all(history, MAX_DELAY)],
        "check_anomalies": [report.to_json() for report in check_anomalies(history)],
        "staleness": staleness(history).to_json(),
    }


def from_file(text: bytes) -> dict[str, Any]:
    stream = io.BytesIO(text)
    return reports(OpTable.from_jsonl(stream))


@given(histories(), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_file_reports_what_its_rows_report(data: list[dict[str, Any]], end: str, spaced: bool) -> None:
    lines = [json.dumps(row, ensure_ascii=False) for row in data]
    if spaced:  # blank lines and spaces around values: read again by loads_line, as from_lines reads them
        lines = [f"  {line} " if i % 3 else f"{line}{end}" for i, line in enumerate(lines)]
    text = end.join(lines).encode("utf-8")
    assert from_file(text) == reports(parse(data))


def test_a_recorded_history_from_its_file_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Chunks far smaller than the file: lines cut across reads, every batch of the fast path and the bulk rows'.
    monkeypatch.setattr(core_history, "CHUNK_BYTES", 700)
    for path in sorted(GOLDEN.glob("*.jsonl")):
        text = path.read_bytes()
        assert from_file(text) == reports(History.from_jsonl_text(text.decode()).rows), path.name


def test_values_that_are_not_ascii_are_found_again_by_offset() -> None:
    rows = [
        {"id": 0, "edge": "A", "ns": "KV", "op": "put", "key": "k", "value": "café ☕", "version": 1, "invoke": 0.0},
        {"id": 1, "edge": "B", "ns": "KV", "op": "get", "key": "k", "value": "thé", "invoke": 1.0},
        {"id": 2, "edge": "B", "ns": "KV", "op": "get", "key": "k", "value": "naïve 🍵", "version": 7, "invoke": 2.0},
    ]
    text = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode("utf-8")
    found = from_file(text)
    assert found == reports(parse(rows))
    phantoms = next(r for r in found["check_all"] if r["name"] == "no_phantom_reads")["violations"]
    assert [v["ops"] for v in phantoms] == [[1], [2]] and "'naïve 🍵'" in phantoms[1]["message"]


def test_a_pipe_is_read_into_rows() -> None:
    # A stream that cannot seek back to a violation's line (workersim check <(zcat history.jsonl.gz)).
    text = (GOLDEN / "racing.jsonl").read_bytes()
    read, write = os.pipe()

    def feed() -> None:
        with open(write, "wb") as sink:
            sink.write(text)

    writer = threading.Thread(target=feed)
    writer.start()
    with open(read, "rb") as pipe:
        assert not pipe.seekable()
        found = reports(OpTable.from_jsonl(pipe))
    writer.join()
    assert found == reports(History.from_jsonl_text(text.decode()).rows)


BAD = {
    "truncated line": b'{"op": "put", "key": "k", "value": "v"}\n{"op": "get", "ke',
    "not an object": b'{"op": "put", "key": "k", "value": "v"}\n[1]\n',
    "no op": b'{"op": "put", "key": "k", "value": "v"}\n{"id": 1, "size": 3}\n',
    "no key": b'{"op": "get", "value": "v"}\n',
    "key not text": b'{"op": "get", "key": 3, "value": "v"}\n',
    "version not an int": b'{"op": "get", "key": "k", "value": "v", "version": "1"}\n',
    "version a bool": b'{"op": "put", "key": "k", "value": "v", "version": true}\n',
    "value a number": b'{"op": "put", "key": "k", "value": 5}\n',
    "bad base64": b'{"op": "put", "key": "k", "value": {"base64": "!!"}}\n',
    "lone surrogate": b'{"op": "put", "key": "k", "value": "\\ud800"}\n',
    "request a number": b'{"op": "get", "key": "k", "value": null, "request": 4}\n',
    "id a bool": b'{"op": "get", "key": "k", "value": null, "id": false}\n',
    "time as text": b'{"op": "get", "key": "k", "value": null, "invoke": "1"}\n',
    "expiration as text": b'{"op": "put", "key": "k", "value": "v", "expiration": "soon"}\n',
    "bulk keys not a list": b'{"op": "get", "keys": "k", "value": {}}\n',
    "two values": b'{"op": "get", "key": "k", "value": null} {"op": "get"}\n',
    "a value across lines": b'{"op": "get", "key": "k",\n "value": null}\n',
    "an error after a valid list": b'{"op": "list", "prefix": "", "value": []}\n{"op": "response"}\n',
    "not UTF-8, far in": b'{"op": "get", "key": "k", "value": null}\n' * 400 + b'{"op": "get", "key": "\xff"}\n',
    "not UTF-8 after a bad line": b'{"op": 1}\n{"op": "get", "key": "\xff"}\n',
    "carriage returns": b'{"op": "get", "key": "k", "value": null}\r{"op": "get"}\r\n',
}


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_a_file_that_is_not_a_history_fails_as_reading_its_rows_does(text: bytes) -> None:
    with pytest.raises((HistoryFormatError, UnicodeDecodeError)) as expected:
        History.from_lines(io.TextIOWrapper(io.BytesIO(text), encoding="utf-8"))
    with pytest.raises(type(expected.value)) as raised:
        OpTable.from_jsonl(io.BytesIO(text))
    assert str(raised.value) == str(expected.value)

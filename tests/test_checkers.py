"""The checkers find each kind of anomaly in a hand-made history, and name the operations involved."""

from __future__ import annotations

from typing import Any

from workersim.checkers import (
    bounded_staleness,
    check_all,
    convergence,
    monotonic_reads,
    no_phantom_reads,
    read_your_writes,
)
from workersim.core.rows import AnyRow, row_from_json


def fields(i: int, op: str, edge: str, key: str, value: Any, at: float, version: Any = None) -> dict[str, Any]:
    """A row as JSON, the way a history file written elsewhere holds it."""
    return {
        "id": i,
        "edge": edge,
        "ns": "KV",
        "op": op,
        "key": key,
        "value": value,
        "invoke": at,
        "complete": at,
        "version": version,
    }


def row(*args: Any) -> AnyRow:
    return row_from_json(fields(*args))


def rows(data: list[dict[str, Any]]) -> list[AnyRow]:
    return [row_from_json(item) for item in data]


GOOD_JSON = [
    fields(0, "put", "SFO", "k", "1", 0.0, 1),
    fields(1, "get", "LHR", "k", None, 0.5, None),
    fields(2, "get", "LHR", "k", "1", 2.0, 1),
    fields(3, "put", "LHR", "k", "2", 3.0, 2),
    fields(4, "get", "SFO", "k", "1", 3.5, 1),
    fields(5, "get", "SFO", "k", "2", 20.0, 2),
]
GOOD = rows(GOOD_JSON)


def test_a_consistent_history_passes_every_checker() -> None:
    assert all(report.ok for report in check_all(GOOD, max_delay=10))


def test_stale_beyond_max_delay_is_caught() -> None:
    history = [*GOOD[:4], row(4, "get", "SFO", "k", "1", 13.5, 1)]
    report = bounded_staleness(history, max_delay=10)
    assert not report.ok
    assert [v.ops for v in report.violations] == [(3, 4)]
    # The message names the read (SFO at 13.5 s, still '1') and the write it missed (LHR's '2' at 3 s).
    read, missed = report.violations[0].message.split(" is stale: ")
    assert read.startswith("op #4 (") and "SFO @13.500s" in read and "'1'" in read
    assert missed.startswith("op #3 (") and "LHR @3.000s" in missed and "'2'" in missed and "more than 10" in missed


def test_missing_own_write_is_caught() -> None:
    history = [row(0, "put", "SFO", "k", "1", 0.0, 1), row(1, "get", "SFO", "k", None, 0.0, None)]
    report = read_your_writes(history)
    assert [v.ops for v in report.violations] == [(0, 1)]


def test_going_back_in_time_is_caught() -> None:
    history = [*GOOD[:4], row(4, "get", "NRT", "k", "2", 3.2, 2), row(5, "get", "NRT", "k", "1", 3.5, 1)]
    assert [v.ops for v in monotonic_reads(history).violations] == [(4, 5)]


def test_a_value_nobody_wrote_is_caught() -> None:
    history = [row(0, "get", "SFO", "k", "ghost", 1.0, 99)]
    assert [v.ops for v in no_phantom_reads(history).violations] == [(0,)]


def test_divergence_after_quiet_is_caught() -> None:
    history = [*GOOD[:4], row(4, "get", "NRT", "k", "1", 14.0, 1)]
    assert [v.ops for v in convergence(history, max_delay=10).violations] == [(3, 4)]


def test_histories_without_versions_fall_back_to_values() -> None:
    bare_json = [{k: v for k, v in r.items() if k != "version"} for r in GOOD_JSON]
    bare = rows(bare_json)
    assert all(report.ok for report in check_all(bare, max_delay=10))
    stale = rows([*bare_json[:4], {**bare_json[4], "invoke": 13.5, "complete": 13.5}])
    assert [v.ops for v in bounded_staleness(stale, max_delay=10).violations] == [(3, 4)]


def test_bulk_reads_are_checked_per_key() -> None:
    history = [
        row(0, "put", "SFO", "a", "1", 0.0, 1),
        row_from_json(
            {
                "id": 1,
                "edge": "SFO",
                "ns": "KV",
                "op": "get",
                "keys": ["a", "b"],
                "value": {"a": None, "b": None},
                "version": {"a": None, "b": None},
                "invoke": 0.0,
                "complete": 0.0,
            }
        ),
    ]
    assert [v.ops for v in read_your_writes(history).violations] == [(0, 1)]


def test_reports_render_as_text_and_json() -> None:
    report = no_phantom_reads([row(0, "get", "SFO", "k", "ghost", 1.0, 99)])
    assert str(report).startswith("no_phantom_reads: 1 violation(s) (1 checked)")
    assert report.to_json()["violations"][0]["ops"] == [0]


def test_a_null_version_beside_a_value_is_matched_by_value() -> None:
    # No workersim run records a value with a null version; a history that does cannot hide a phantom behind it.
    history = [row(0, "put", "SFO", "k", "real", 0.0, 1), row(1, "get", "SFO", "k", "ghost", 1.0, None)]
    assert [v.ops for v in no_phantom_reads(history).violations] == [(1,)]
    honest = [row(0, "put", "SFO", "k", "real", 0.0, 1), row(1, "get", "LHR", "k", "real", 1.0, None)]
    assert no_phantom_reads(honest).ok

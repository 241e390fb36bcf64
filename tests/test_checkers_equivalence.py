"""The checkers' reports stay the same when their implementation changes (they were rewritten for speed), and the
anomalies planted in a hand-written history are the ones reported.

``tests/golden/checker_reports.json`` holds every report (``check_all``, ``check_anomalies``, ``staleness``) of
the golden histories and of ``PLANTED``, as written by the checkers before the rewrite (commit "benchmarks/
checkers.py", ``python tests/test_checkers_equivalence.py`` regenerates it). The planted test below is the oracle
that does not depend on that snapshot: it names the rows of each anomaly the history was written to hold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workersim.checkers import check_all, check_anomalies, staleness
from workersim.core.history import History
from workersim.core.rows import AnyRow, row_from_json

GOLDEN = Path(__file__).parent / "golden"
SNAPSHOT = GOLDEN / "checker_reports.json"
MAX_DELAY = 10.0


def kv(edge: str, op: str, key: str, value: Any, at: float, version: Any, request: str | None = None) -> dict[str, Any]:
    return {"edge": edge, "op": op, "key": key, "value": value, "invoke": at, "version": version, "request": request}


PLANTED_JSON: list[dict[str, Any]] = [
    # 0-4: a lost update of "n": r1 and r2 both read version 1 and both wrote.
    kv("A", "put", "n", "5", 0.0, 1),
    kv("A", "get", "n", "5", 5.0, 1, "r1"),
    kv("B", "get", "n", "5", 5.0, 1, "r2"),
    kv("A", "put", "n", "6", 5.0, 2, "r1"),
    kv("B", "put", "n", "6", 5.1, 3, "r2"),
    # 5-8: check-then-act on "user": r3 and r4 both read it missing and both created it.
    kv("A", "get", "user", None, 6.0, None, "r3"),
    kv("B", "get", "user", None, 6.0, None, "r4"),
    kv("A", "put", "user", "ada", 6.0, 4, "r3"),
    kv("B", "put", "user", "bob", 6.1, 5, "r4"),
    # 9-12: a stale write-back of "session": deleted at A, then r5 at B read the old value and wrote it back.
    kv("A", "put", "session", "s1", 7.0, 6),
    kv("A", "delete", "session", None, 8.0, 7),
    kv("B", "get", "session", "s1", 8.5, 6, "r5"),
    kv("B", "put", "session", "s1", 8.5, 8, "r5"),
    # 13: a phantom read: a value nobody wrote, with no version.
    kv("C", "get", "ghost", "boo", 9.0, None),
    # 14-15: read-your-writes broken at C.
    kv("C", "put", "own", "x", 10.0, 9),
    kv("C", "get", "own", None, 10.5, None),
    # 16-18: monotonic reads broken at D ("n": version 3 then version 2).
    kv("D", "get", "n", "6", 11.0, 3),
    kv("D", "get", "n", "6", 11.5, 2),
    kv("D", "get", "n", "5", 30.0, 1),  # also stale beyond max_delay and not converged
    # 19: a bulk read at C, seeing "own" only now.
    {
        "edge": "C",
        "op": "get",
        "keys": ["own", "user"],
        "value": {"own": "x", "user": "bob"},
        "version": {"own": 9, "user": 5},
        "invoke": 31.0,
    },
    # 20-22: rows the checkers pass over: a list, a rejected call, and a versionless read matched by value.
    {"edge": "A", "op": "list", "prefix": "", "value": ["n", "user"], "list_complete": True, "invoke": 31.0},
    {"edge": "A", "op": "put", "key": "", "error": "KV PUT failed: 400 x", "invoke": 31.0},
    {"edge": "B", "op": "get", "key": "user", "value": "bob", "invoke": 32.0},
]


def planted() -> list[AnyRow]:
    return [
        row_from_json({"ns": "KV", "complete": item["invoke"], **item, "id": i}) for i, item in enumerate(PLANTED_JSON)
    ]


def histories() -> dict[str, list[AnyRow]]:
    found = {path.name: list(History.from_jsonl_text(path.read_text()).rows) for path in sorted(GOLDEN.glob("*.jsonl"))}
    return {**found, "planted": planted()}


def reports(rows: list[AnyRow]) -> dict[str, Any]:
    return {
        "check_all": [report.to_json() for report in check_all(rows, MAX_DELAY)],
        "check_anomalies": [report.to_json() for report in check_anomalies(rows)],
        "staleness": staleness(rows).to_json(),
    }


@pytest.mark.parametrize("name", sorted(histories()))
def test_reports_are_the_ones_recorded_before_the_rewrite(name: str) -> None:
    assert reports(histories()[name]) == json.loads(SNAPSHOT.read_text())[name]


def test_the_planted_anomalies_are_the_ones_reported() -> None:
    found = {
        report["name"]: [tuple(v["ops"]) for v in report["violations"]]
        for part in ("check_all", "check_anomalies")
        for report in reports(planted())[part]
    }
    assert found == {
        "lost_updates": [(1, 3, 2, 4)],
        "check_then_act": [(5, 7, 6, 8)],
        "stale_write_backs": [(10, 11, 12)],
        "no_phantom_reads": [(13,)],
        "read_your_writes": [(14, 15)],
        "monotonic_reads": [(16, 17), (16, 18)],
        "bounded_staleness": [(4, 18)],
        "convergence": [(4, 18)],
    }
    stats = staleness(planted())
    # Stale: 11 (missed 10 by 0.5 s), 15 (missed 14 by 0.5 s), 17 (missed 4 by 6.4 s), 18 (missed 3 by 25 s).
    assert (stats.reads, stats.stale_reads, stats.p50, stats.max) == (13, 4, 6.4, 25.0)


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps({name: reports(rows) for name, rows in histories().items()}, indent=1) + "\n")

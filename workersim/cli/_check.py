"""The ``check`` command: every checker over a history file, read straight into the checkers' columns."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..checkers import OpTable, check_all, check_anomalies, staleness
from ..core.errors import HistoryFormatError
from ._common import unreadable


def _check(args: argparse.Namespace) -> int:
    try:
        stream = open(args.history, "rb")  # noqa: SIM115 - closed below, after the checkers read their violations
    except OSError as error:
        unreadable(args.history, error)
    with stream:
        try:  # the file straight into the columns every checker shares, without a row object per line
            table = OpTable.from_jsonl(stream)
        except (OSError, UnicodeDecodeError, HistoryFormatError) as error:
            unreadable(args.history, error)
        reports = check_all(table, args.max_delay) + check_anomalies(table)
        stats = staleness(table)
    if args.json:
        ok = all(report.ok for report in reports)
        print(json.dumps({"ok": ok, "reports": [r.to_json() for r in reports], "staleness": stats.to_json()}))
    else:
        for report in reports:
            print(report)
        print(stats)
    return 0 if all(report.ok for report in reports) else 1


def check_arguments(check: argparse.ArgumentParser) -> None:
    """Define the ``check`` command's arguments on its parser."""
    check.add_argument("history", type=Path, help="a history in JSON Lines (sim.history.to_jsonl, --history)")
    check.add_argument(
        "--max-delay",
        type=float,
        default=10.0,
        help="the propagation bound the run promised, in seconds (default %(default)s)",
    )
    check.add_argument("--json", action="store_true", help="print the reports as one JSON object")
    check.set_defaults(handler=_check)

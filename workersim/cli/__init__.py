"""The ``workersim`` command line: ``run`` a scenario, ``check`` or draw a recorded history, serve with ``dev``
and ``api``, control a running dev server with ``ctl``, move persisted data with ``export`` and ``import``,
``sweep`` a target across seeds and measure ``staleness`` curves."""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import NoReturn

from ..checkers import OpTable, check_all, check_anomalies, staleness
from ..core.errors import HistoryFormatError
from ..scenarios import load, names, summary
from ..sim.history import History
from ..viz import history_html, space_time_svg, timeline
from ._ctl import add_ctl
from ._servers import add_api, add_dev
from ._sweep import add_staleness, add_sweep
from ._transfer import add_transfer


def _run(args: argparse.Namespace) -> int:
    if args.list:
        for name in names():
            print(f"{name:<20} {summary(load(name))}")
        return 0
    if args.script is None:
        print("workersim run: give a scenario's name or a script's path (--list shows the scenarios)", file=sys.stderr)
        return UNREADABLE
    if args.script in names():
        sys.argv = [args.script, *args.args]
        load(args.script).main()
        return 0
    if not Path(args.script).is_file():
        print(
            f"workersim run: no scenario or file {args.script!r}; the scenarios are {', '.join(names())}",
            file=sys.stderr,
        )
        return UNREADABLE
    # As `python SCRIPT` would: the script's own folder first on the path, so it can import its neighbours.
    sys.argv = [args.script, *args.args]
    sys.path.insert(0, str(Path(args.script).resolve().parent))
    try:
        runpy.run_path(args.script, run_name="__main__")
    finally:
        sys.path.pop(0)
    return 0


UNREADABLE = 2
"""The exit status of ``check`` and ``timeline`` for a file that cannot be read or is not a history."""


def _load(path: Path) -> History:
    try:
        return History.from_jsonl(path)
    except (OSError, UnicodeDecodeError, HistoryFormatError) as error:
        _unreadable(path, error)


def _unreadable(path: Path, error: Exception) -> NoReturn:
    print(f"workersim: cannot read the history {path}: {error}", file=sys.stderr)
    raise SystemExit(UNREADABLE) from None


def _check(args: argparse.Namespace) -> int:
    try:
        stream = open(args.history, "rb")  # noqa: SIM115 - closed below, after the checkers read their violations
    except OSError as error:
        _unreadable(args.history, error)
    with stream:
        try:  # the file straight into the columns every checker shares, without a row object per line
            table = OpTable.from_jsonl(stream)
        except (OSError, UnicodeDecodeError, HistoryFormatError) as error:
            _unreadable(args.history, error)
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


def _timeline(args: argparse.Namespace) -> int:
    history = _load(args.history)
    print(timeline(history))
    if args.svg:
        args.svg.write_text(space_time_svg(history, title=args.history.name), encoding="utf-8")
        print(f"\nspace-time diagram: {args.svg}")
    if args.html:
        args.html.write_text(history_html(history, title=args.history.name), encoding="utf-8")
        print(f"\ninteractive page: {args.html}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="workersim", description="Simulate edge Workers and Workers KV.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('workersim')}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run a teaching scenario by name (stale_read; --list shows them all) or a Python script's path"
    )
    run.add_argument("script", nargs="?", help="a scenario's name, or the path of a Python script to run")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed on (--seed N, --svg FILE, --html FILE)")
    run.add_argument("--list", action="store_true", help="list the scenarios, one a line, with their summaries")
    run.set_defaults(handler=_run)
    check = commands.add_parser(
        "check",
        help="run the consistency and application checkers over a recorded history (exit 0: all hold, 1: a "
        "violation, 2: the file cannot be read or is not a history)",
    )
    check.add_argument("history", type=Path, help="a history in JSON Lines (sim.history.to_jsonl, --history)")
    check.add_argument(
        "--max-delay",
        type=float,
        default=10.0,
        help="the propagation bound the run promised, in seconds (default %(default)s)",
    )
    check.add_argument("--json", action="store_true", help="print the reports as one JSON object")
    check.set_defaults(handler=_check)
    show = commands.add_parser("timeline", help="print a recorded history as a timeline (and draw it with --svg)")
    show.add_argument("history", type=Path, help="a history in JSON Lines")
    show.add_argument("--svg", type=Path, metavar="FILE", help="also write a space-time diagram to FILE")
    show.add_argument("--html", type=Path, metavar="FILE", help="also write an interactive page to FILE")
    show.set_defaults(handler=_timeline)
    add_api(commands)
    add_dev(commands)
    add_sweep(commands)
    add_staleness(commands)
    add_ctl(commands)
    add_transfer(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workersim`` console script."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)

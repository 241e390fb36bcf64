"""The ``timeline`` command: a history file as a timeline, a space-time diagram or an interactive page."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import HistoryFormatError
from ..sim.history import History
from ..viz import history_html, space_time_svg, timeline
from ._common import unreadable


def _timeline(args: argparse.Namespace) -> int:
    try:
        history = History.from_jsonl(args.history)
    except (OSError, UnicodeDecodeError, HistoryFormatError) as error:
        unreadable(args.history, error)
    print(timeline(history))
    if args.svg:
        args.svg.write_text(space_time_svg(history, title=args.history.name), encoding="utf-8")
        print(f"\nspace-time diagram: {args.svg}")
    if args.html:
        args.html.write_text(history_html(history, title=args.history.name), encoding="utf-8")
        print(f"\ninteractive page: {args.html}")
    return 0


def timeline_arguments(show: argparse.ArgumentParser) -> None:
    """Define the ``timeline`` command's arguments on its parser."""
    show.add_argument("history", type=Path, help="a history in JSON Lines")
    show.add_argument("--svg", type=Path, metavar="FILE", help="also write a space-time diagram to FILE")
    show.add_argument("--html", type=Path, metavar="FILE", help="also write an interactive page to FILE")
    show.set_defaults(handler=_timeline)

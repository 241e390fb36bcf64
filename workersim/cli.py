"""The ``workersim`` command line: ``run`` a scenario script (more subcommands register themselves here)."""

from __future__ import annotations

import argparse
import runpy
import sys
from collections.abc import Sequence

from .server import api, dev


def _run(args: argparse.Namespace) -> int:
    sys.argv = [args.script, *args.args]
    runpy.run_path(args.script, run_name="__main__")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="workersim", description="Simulate edge Workers and Workers KV.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run a scenario script (for example scenarios/stale_read.py)")
    run.add_argument("script", help="path of the Python script to run")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed on to the script")
    run.set_defaults(handler=_run)
    api.add_parser(commands)
    dev.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workersim`` console script."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())

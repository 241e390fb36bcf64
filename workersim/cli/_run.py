"""The ``run`` command: a teaching scenario by name, or a Python script."""

from __future__ import annotations

import argparse
import ast
import runpy
import sys
from pathlib import Path

from ..scenarios import load, names, run_module, summary
from ._common import UNREADABLE


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
    if _bare_scenario(Path(args.script)):
        sys.argv = [args.script, *args.args]
        run_module(load(args.script))
        return 0
    # As `python SCRIPT` would: the script's own folder first on the path, so it can import its neighbours.
    sys.argv = [args.script, *args.args]
    sys.path.insert(0, str(Path(args.script).resolve().parent))
    try:
        runpy.run_path(args.script, run_name="__main__")
    finally:
        sys.path.pop(0)
    return 0


def _bare_scenario(path: Path) -> bool:
    """Whether ``path`` defines ``scenario(seed)`` at its top level and has no ``if __name__ == "__main__"``
    block: run as a script it would do nothing, so ``run`` runs it as it runs a built-in scenario."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return False  # runpy reports it as Python would
    defines = any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "scenario" for node in tree.body
    )
    guarded = any(
        isinstance(node, ast.If)
        and any(isinstance(name, ast.Name) and name.id == "__name__" for name in ast.walk(node.test))
        for node in tree.body
    )
    return defines and not guarded


def run_arguments(run: argparse.ArgumentParser) -> None:
    """Define the ``run`` command's arguments on its parser."""
    run.add_argument("script", nargs="?", help="a scenario's name, or the path of a Python script to run")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed on (--seed N, --svg FILE, --html FILE)")
    run.add_argument("--list", action="store_true", help="list the scenarios, one a line, with their summaries")
    run.set_defaults(handler=_run)

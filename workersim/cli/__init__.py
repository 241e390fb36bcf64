"""The ``workersim`` command line: ``run`` a scenario, ``check`` or draw a recorded history, serve with ``dev``
and ``api``, control a running dev server with ``ctl``, move persisted data with ``export`` and ``import``,
``sweep`` a target across seeds and measure ``staleness`` curves.

Each command's arguments and handler live in a module of their own, imported only when that command runs: ``check``
then loads the checkers and not the servers, so a command starts in the time its own work needs."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Collection, Sequence
from importlib.metadata import version
from typing import NamedTuple


class _Command(NamedTuple):
    module: str
    """The module (in this package) defining the command's arguments and handler."""
    arguments: str
    """That module's function that defines the arguments on the command's parser."""
    help: str
    description: str | None = None


_COMMANDS = {
    "run": _Command(
        "_run",
        "run_arguments",
        "run a teaching scenario by name (stale_read; --list shows them all) or a Python script's path",
    ),
    "check": _Command(
        "_check",
        "check_arguments",
        "run the consistency and application checkers over a recorded history (exit 0: all hold, 1: a violation, "
        "2: the file cannot be read or is not a history)",
    ),
    "timeline": _Command(
        "_timeline", "timeline_arguments", "print a recorded history as a timeline (and draw it with --svg)"
    ),
    "api": _Command("_servers", "api_arguments", "serve the Cloudflare v4 KV REST API (for the SDK, wrangler, curl)"),
    "dev": _Command(
        "_servers",
        "dev_arguments",
        "serve a worker over HTTP from simulated edges",
        "Serve a worker over HTTP. The request header X-Workersim-Edge picks the edge; every response carries "
        "CF-Ray: <id>-<EDGE>.",
    ),
    "sweep": _Command(
        "_sweep",
        "sweep_arguments",
        "run a scenario, a scenario file or module:function on many seeds (exit 0: every seed passed, 1: some "
        "failed, 2: bad usage, 3: --verify found a run that is not deterministic)",
        "Run TARGET on every seed and aggregate the outcomes. TARGET is a scenario name, a Python file with "
        'scenario(seed), or module:function taking a seed and returning a JSON-able outcome ("ok", True or None '
        "pass; anything else, or an exception, fails).",
    ),
    "staleness": _Command(
        "_sweep",
        "staleness_arguments",
        "measure how often a read t seconds after a write at another edge sees it, for t from 0 to --max-delay",
    ),
    "ctl": _Command(
        "_ctl",
        "ctl_arguments",
        "partition, heal, switch faults and advance time in a running workersim dev",
        "Control a running workersim dev through its control path /__workersim/.",
    ),
    "export": _Command(
        "_transfer",
        "export_arguments",
        "write the KV data of a --persist file as REST bulk-write JSON (for import, curl, wrangler)",
    ),
    "import": _Command(
        "_transfer",
        "import_arguments",
        "write a dump's pairs to a running REST API (workersim api or dev, or Cloudflare's)",
    ),
}


def build_parser(defined: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command listed with its help, and the arguments of the ``defined`` commands (of
    every command when it is None). Defining a command's arguments imports its module, which may be heavy."""
    parser = argparse.ArgumentParser(prog="workersim", description="Simulate edge Workers and Workers KV.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('workersim')}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, spec in _COMMANDS.items():
        sub = commands.add_parser(name, help=spec.help, description=spec.description or spec.help)
        if defined is None or name in defined:
            module = importlib.import_module(f"{__name__}.{spec.module}")
            define: Callable[[argparse.ArgumentParser], None] = getattr(module, spec.arguments)
            define(sub)
    return parser


def _chosen(argv: Sequence[str]) -> list[str]:
    # The top-level options (--help, --version) take no value, so the first other word names the command.
    return [word for word in argv if not word.startswith("-")][:1]


RUNS_USER_CODE = frozenset({"run", "dev", "sweep", "staleness"})
"""The commands that run a worker's, a script's or a scenario's code, which may iterate a set of strings."""


def _fix_hash_seed() -> None:
    # Python salts the hash of str and bytes afresh in each process unless PYTHONHASHSEED is set, so a worker that
    # iterates a set of strings (`for tag in {"a", "b"}: await env.KV.put(tag, ...)`) would make its KV calls in
    # another order in each process, and one seed would not replay one run. workersim's own code never depends on
    # that order; user code may. The salt is fixed when the interpreter starts, so the command starts again with
    # PYTHONHASHSEED=0 (the same process id; sweep workers inherit it). A value the user set is kept.
    if "PYTHONHASHSEED" in os.environ or os.name != "posix":
        return
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], {**os.environ, "PYTHONHASHSEED": "0"})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workersim`` console script. Run as a command (``argv`` None), a command that runs user
    code first fixes ``PYTHONHASHSEED`` to 0 when it is not set, so that a run replays in any process."""
    words = sys.argv[1:] if argv is None else list(argv)
    chosen = _chosen(words)
    if argv is None and chosen and chosen[0] in RUNS_USER_CODE:
        _fix_hash_seed()
    args = build_parser(chosen).parse_args(words)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)

"""What several commands share and that must stay light to import: argument types and the exit status for a file
that cannot be read."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import NoReturn

UNREADABLE = 2
"""The exit status of ``check`` and ``timeline`` for a file that cannot be read or is not a history."""


def unreadable(path: Path, error: Exception) -> NoReturn:
    """Say in one line why the history at ``path`` cannot be read, and exit with ``UNREADABLE``."""
    print(f"workersim: cannot read the history {path}: {error}", file=sys.stderr)
    raise SystemExit(UNREADABLE) from None


def edge_list(text: str) -> tuple[str, ...]:
    """Comma-separated edge names, at least one."""
    edges = tuple(part.strip() for part in text.split(",") if part.strip())
    if not edges:
        raise argparse.ArgumentTypeError("give at least one edge, e.g. SFO,LHR,NRT")
    return edges


def positive(text: str) -> float:
    """A finite number above zero."""
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def port(text: str) -> int:
    """A TCP port, 0 meaning any free one."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 0 to 65535, got {text!r}") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 0 to 65535 (0: any free one), got {number}")
    return number


def at_least_one(text: str) -> int:
    """A whole number, at least 1."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number

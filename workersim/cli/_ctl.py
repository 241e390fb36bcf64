"""``workersim ctl``: partitions, heals, faults and time jumps in a running ``workersim dev``, and its history,
through the server's control path (``/__workersim/``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

URL_ENV = "WORKERSIM_URL"
DEFAULT_URL = "http://127.0.0.1:8787"
CONTROL = "/__workersim/"


def _summary(status: dict[str, Any]) -> str:
    cut = ", ".join(status["cut_off"]) or "none"
    faults = ", ".join(name for name, on in status["faults"].items() if on) or "none"
    return f"t={status['now']:.3f}s  edges {', '.join(status['edges'])}  cut off: {cut}  faults on: {faults}"


def _switch(text: str) -> str:
    if text not in ("on", "off"):
        raise argparse.ArgumentTypeError(f"on or off, got {text!r}")
    return text


def _request(args: argparse.Namespace) -> tuple[str, str, dict[str, str]]:
    """The method, endpoint and query of the control request ``args`` describe."""
    action = args.action
    if action == "partition":
        return "POST", "partition", {"edges": ",".join(args.edges)}
    if action == "heal":
        return "POST", "heal", {"edges": ",".join(args.edges)} if args.edges else {}
    if action == "faults":
        chosen = {"rate_limit": args.rate_limit, "outage": args.outage}
        return "POST", "faults", {name: value for name, value in chosen.items() if value is not None}
    if action == "advance":
        return "POST", "advance", {"seconds": args.seconds}
    return "GET", action, {}


def _ctl(args: argparse.Namespace) -> int:
    method, endpoint, query = _request(args)
    url = args.url.rstrip("/") + CONTROL + endpoint
    try:
        response = httpx.request(method, url, params=query, timeout=30)
    except httpx.HTTPError as error:
        print(f"workersim ctl: cannot reach workersim dev at {args.url}: {error}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"workersim ctl: {response.status_code}: {response.text.strip()}", file=sys.stderr)
        return 2
    if endpoint == "history":
        if args.out is None:
            sys.stdout.write(response.text)
        else:
            args.out.write_text(response.text, encoding="utf-8")
            print(f"workersim ctl: wrote {response.text.count(chr(10))} operations to {args.out}", file=sys.stderr)
        return 0
    status = response.json()
    print(json.dumps(status) if args.json else _summary(status))
    return 0


def ctl_arguments(ctl: argparse.ArgumentParser) -> None:
    """Define the ``ctl`` command's arguments on its parser."""
    ctl.add_argument(
        "--url",
        default=os.environ.get(URL_ENV, DEFAULT_URL),
        help=f"the dev server (default ${URL_ENV}, else {DEFAULT_URL})",
    )
    ctl.add_argument("--json", action="store_true", help="print the server's status as JSON")
    actions = ctl.add_subparsers(dest="action", required=True, metavar="ACTION")
    partition = actions.add_parser("partition", help="cut EDGES off from the rest (they still reach each other)")
    partition.add_argument("edges", nargs="+", metavar="EDGE")
    heal = actions.add_parser("heal", help="join EDGES (default: every edge) to the rest again")
    heal.add_argument("edges", nargs="*", metavar="EDGE")
    faults = actions.add_parser("faults", help="switch faults on or off (the others stay as they are)")
    faults.add_argument("--rate-limit", type=_switch, metavar="on|off", help="one write per key per second (429)")
    faults.add_argument("--outage", type=_switch, metavar="on|off", help="the central store is down (503)")
    advance = actions.add_parser("advance", help="move virtual time on by SECONDS at once")
    advance.add_argument("seconds", metavar="SECONDS")
    actions.add_parser("status", help="print the virtual time, the partitions and the faults")
    history = actions.add_parser("history", help="print the history as JSON Lines (or write it with --out)")
    history.add_argument("--out", type=Path, metavar="FILE", help="write it to FILE")
    ctl.set_defaults(handler=_ctl)

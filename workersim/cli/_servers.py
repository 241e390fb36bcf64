"""The ``api`` and ``dev`` subcommands: their arguments, turned into the servers' options."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ..core.errors import ConfigError
from ..core.limits import Limits
from ..runtime import CONFIG_NAMES
from ..server._history import HistoryPathError
from ..server._persist import DEFAULT_PATH, PersistError
from ..server._serving import CannotListen
from ..server.api import ACCOUNT_ENV, TOKEN_ENV, ApiOptions, run_api_server
from ..server.dev import BODY_LIMIT, DevOptions, run_dev
from ..sim.simulation import DEFAULT_EDGES
from ._common import at_least_one, edge_list, port, positive


def _history_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--history",
        type=Path,
        metavar="FILE",
        help="when the server stops, write every operation (requests, KV calls, with the versions reads saw) to "
        "FILE as JSON Lines, for workersim.History.from_jsonl and the checkers",
    )


def _persist_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--persist",
        type=Path,
        nargs="?",
        const=DEFAULT_PATH,
        metavar="FILE",
        help=f"keep the KV state in the SQLite file FILE (default {DEFAULT_PATH}) and continue from it next time; "
        "a write is acknowledged once it is on disk",
    )


def _failed(command: str, error: BaseException | str) -> int:
    """One line naming what kept the server from starting; exit status 2 (1 when it could not listen)."""
    print(f"workersim {command}: {error}", file=sys.stderr)
    return 1 if isinstance(error, CannotListen) else 2


def _api(args: argparse.Namespace) -> int:
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    options = ApiOptions(
        host=args.host,
        port=args.port,
        account=args.account,
        token=args.token,
        seed=args.seed,
        max_namespaces=args.max_namespaces,
        history=args.history,
        persist=args.persist,
    )
    try:
        return run_api_server(options)
    except (CannotListen, HistoryPathError, PersistError) as error:
        return _failed("api", error)


def _dev(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s", stream=sys.stderr)
    options = DevOptions(
        target=args.target,
        host=args.host,
        port=args.port,
        edges=args.edges,
        seed=args.seed,
        max_delay=args.max_delay,
        delay=args.delay,
        time_scale=args.time_scale,
        kv=tuple(args.kv),
        history=args.history,
        body_limit=args.max_body,
        environment=args.env,
        network=args.network,
        cpu_ms=args.cpu_ms,
        persist=args.persist,
        reload=args.reload,
    )
    try:
        return run_dev(options)
    except (CannotListen, HistoryPathError, PersistError) as error:
        return _failed("dev", error)
    except (ConfigError, FileNotFoundError, ValueError) as error:
        return _failed("dev", error)
    except SyntaxError as error:
        return _failed("dev", f"the worker does not load: {error.msg} ({error.filename}, line {error.lineno})")
    except TypeError as error:  # a file that defines no worker, or a worker in a form workersim cannot run
        return _failed("dev", f"the worker cannot run: {error}")


def api_arguments(api: argparse.ArgumentParser) -> None:
    """Define the ``api`` command's arguments on its parser."""
    api.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=port, default=8787, help="port to listen on (default 8787; 0 picks a free one)")
    api.add_argument("--account", help=f"the account id clients use (default ${ACCOUNT_ENV}, else a random one)")
    api.add_argument(
        "--token", help=f"the API token clients must send (default ${TOKEN_ENV}, else one generated and printed)"
    )
    api.add_argument("--seed", type=int, default=0, help="the simulation's seed (namespace ids derive from it)")
    api.add_argument(
        "--max-namespaces",
        type=at_least_one,
        default=Limits().namespaces,
        help="namespaces per account (default %(default)s)",
    )
    api.add_argument("--quiet", action="store_true", help="do not log one line per request")
    _history_option(api)
    _persist_option(api)
    api.set_defaults(handler=_api)


def dev_arguments(dev: argparse.ArgumentParser) -> None:
    """Define the ``dev`` command's arguments on its parser."""
    dev.add_argument(
        "target",
        nargs="?",
        metavar="WORKER_OR_CONFIG",
        help=(
            "a worker file (.py), a wrangler configuration or a project folder "
            f"(default: {' / '.join(CONFIG_NAMES)} here)"
        ),
    )
    dev.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    dev.add_argument(
        "--port", type=port, default=8787, help="port to listen on (default %(default)s; 0 picks a free one)"
    )
    dev.add_argument(
        "--edges",
        type=edge_list,
        default=DEFAULT_EDGES,
        help=f"comma-separated edge names (default {','.join(DEFAULT_EDGES)})",
    )
    dev.add_argument("--seed", type=int, default=0, help="the simulation's seed (default %(default)s)")
    dev.add_argument(
        "--max-delay", type=float, default=10.0, help="upper bound of propagation in seconds (default %(default)s)"
    )
    dev.add_argument(
        "--delay",
        type=float,
        help="make every write take exactly this many seconds to reach the "
        "other edges (default: random, about 1 s typical, at most --max-delay)",
    )
    dev.add_argument(
        "--time-scale",
        type=positive,
        default=1.0,
        help="simulated seconds per real second (default %(default)s: real time)",
    )
    dev.add_argument(
        "--kv",
        action="append",
        default=[],
        metavar="BINDING",
        help="a KV binding name for a worker file (repeat for more)",
    )
    dev.add_argument(
        "--max-body",
        type=at_least_one,
        default=BODY_LIMIT,
        metavar="BYTES",
        help="refuse request bodies over BYTES with a 413 (default %(default)s: Cloudflare's 100 MB)",
    )
    dev.add_argument("--env", metavar="NAME", help="use the configuration's [env.NAME] section, as wrangler --env does")
    dev.add_argument(
        "--cpu-ms",
        type=at_least_one,
        metavar="MS",
        help="stop a request that uses more CPU milliseconds than this with error 1102 (default: the "
        "configuration's [limits] cpu_ms, else 30000, Cloudflare's default)",
    )
    dev.add_argument(
        "--network",
        action="store_true",
        help="let the worker's outbound fetch reach the real internet (by default it is refused: runs stay local)",
    )
    dev.add_argument("--quiet", action="store_true", help="do not log one line per request")
    _history_option(dev)
    _persist_option(dev)
    dev.add_argument(
        "--no-reload",
        dest="reload",
        action="store_false",
        help="do not reload the worker when a Python file in its folder changes",
    )
    dev.set_defaults(handler=_dev)

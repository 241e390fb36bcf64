"""``workersim api``: serve the Cloudflare v4 KV REST API alone, over a simulation on the real clock."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import time
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve as hypercorn_serve

from ..core.limits import Limits
from ..sim.simulation import Simulation
from .rest import RestApp

ACCOUNT_ENV = "WORKERSIM_ACCOUNT_ID"
TOKEN_ENV = "WORKERSIM_API_TOKEN"


def hypercorn_config(host: str, port: int) -> Config:
    """Hypercorn settings for a local API server: one bind, no access log (it would show query strings)."""
    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None
    # Hypercorn's own lines ("Running on ...") go through logging like ours, once.
    config.errorlog = logging.getLogger("hypercorn.error")
    config.graceful_timeout = 1.0
    return config


async def serve(
    app: Any, config: Config, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED
) -> None:
    """Serve the ASGI ``app`` with hypercorn's trio worker until cancelled; ``task_status`` gets the bound URLs."""
    await hypercorn_serve(app, config, task_status=task_status)


def _banner(url: str, account: str, token: str | None) -> str:
    base = f"{url}/client/v4"
    shown = token or "<your token>"
    lines = [
        f"workersim api: the Cloudflare v4 KV REST API on {base}",
        f"  account id: {account}",
        f"  API token:  {token}  (generated for this run; set --token or {TOKEN_ENV} to choose one)"
        if token else f"  API token:  as given by --token or {TOKEN_ENV}",
        "",
        "curl:",
        f'  curl -H "Authorization: Bearer {shown}" {base}/accounts/{account}/storage/kv/namespaces',
        "Python SDK (pip install cloudflare):",
        "  from cloudflare import Cloudflare",
        f'  cf = Cloudflare(api_token="{shown}", base_url="{base}")',
        f'  print(cf.kv.namespaces.create(account_id="{account}", title="demo"))',
        "wrangler:",
        f"  CLOUDFLARE_API_BASE_URL={base} CLOUDFLARE_API_TOKEN={shown} CLOUDFLARE_ACCOUNT_ID={account} "
        "npx wrangler kv namespace list",
    ]
    return "\n".join(lines)


async def run_api(args: argparse.Namespace, account: str, token: str, generated: bool) -> None:
    """Run a simulation on the real clock and serve the REST API over it until interrupted."""
    # Virtual time 0 is now, so absolute expirations that clients compute from their clocks mean what they say.
    sim = Simulation(seed=args.seed, limits=Limits(namespaces=args.max_namespaces), start_time=time.time())
    app = RestApp.for_simulation(sim, account, token)
    async with sim, trio.open_nursery() as nursery:
        binds = await nursery.start(serve, app, hypercorn_config(args.host, args.port))
        print(_banner(binds[0], account, token if generated else None), flush=True)


def _command(args: argparse.Namespace) -> int:
    account = args.account or os.environ.get(ACCOUNT_ENV) or secrets.token_hex(16)
    token = args.token or os.environ.get(TOKEN_ENV)
    generated = token is None
    if token is None:
        token = secrets.token_urlsafe(24)
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        trio.run(run_api, args, account, token, generated)
    except KeyboardInterrupt:
        pass
    return 0


def add_parser(commands: Any) -> None:
    """Register the ``api`` subcommand on the CLI's subparsers."""
    api = commands.add_parser("api", help="serve the Cloudflare v4 KV REST API (for the SDK, wrangler, curl)")
    api.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=int, default=8787, help="port to listen on (default 8787; 0 picks a free one)")
    api.add_argument("--account", help=f"the account id clients use (default ${ACCOUNT_ENV}, else a random one)")
    api.add_argument(
        "--token", help=f"the API token clients must send (default ${TOKEN_ENV}, else one generated and printed)"
    )
    api.add_argument("--seed", type=int, default=0, help="the simulation's seed (namespace ids derive from it)")
    api.add_argument(
        "--max-namespaces", type=int, default=Limits().namespaces, help="namespaces per account (default %(default)s)"
    )
    api.add_argument("--quiet", action="store_true", help="do not log one line per request")
    api.set_defaults(handler=_command)

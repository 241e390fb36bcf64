"""``workersim api``: serve the Cloudflare v4 KV REST API alone, over a simulation on the real clock; and
``ApiMount``, which serves it beside another app (the dev server's worker). The command line that starts it
lives in ``workersim.cli``."""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path

import attrs
import trio
from hypercorn.config import Config

from ..core.limits import Limits
from ..sim.simulation import Simulation
from ._asgi import BodyPacing, Receive, Scope, Send
from ._durable import Durable, Persistence, open_state
from ._history import keep_history, save_history
from ._persist import Saved, StateFile
from ._serving import ASGIApp, CannotListen, listening_error, on_real_clock, serve, stop_on_signals
from .rest import API_PREFIX, RestApp

Stored = tuple[StateFile, Saved | None]
"""An open ``--persist`` file and what it held."""

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


@attrs.frozen
class Credentials:
    """The account id and token the REST API serves; ``generated`` when the token was made up here (and so
    must be shown to the user)."""

    account: str
    token: str = attrs.field(repr=False)
    generated: bool = False

    @classmethod
    def resolve(
        cls,
        account: str | None = None,
        token: str | None = None,
        environ: Mapping[str, str] = os.environ,
        *,
        saved_account: str | None = None,
    ) -> Credentials:
        """The given values, else ``$WORKERSIM_ACCOUNT_ID`` and ``$WORKERSIM_API_TOKEN``, else the account id a
        ``--persist`` file kept (``saved_account``), else a random account id; a generated token."""
        chosen = token or environ.get(TOKEN_ENV)
        return cls(
            account or environ.get(ACCOUNT_ENV) or saved_account or secrets.token_hex(16),
            chosen or secrets.token_urlsafe(24),
            generated=not chosen,
        )


def describe(base: str, credentials: Credentials) -> str:
    """How to reach the API at ``base`` (``http://host:port/client/v4``): the account, the token when it was
    generated (never a token the user chose), and ready-to-paste examples for curl, the SDK and wrangler."""
    account = credentials.account
    shown = credentials.token if credentials.generated else "<your token>"
    token_line = (
        f"  API token:  {credentials.token}  (generated for this run; set {TOKEN_ENV} to choose one)"
        if credentials.generated
        else "  API token:  the one you chose (not shown)"
    )
    return "\n".join(
        [
            f"  account id: {account}",
            token_line,
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
    )


class ApiMount:
    """An ASGI app that serves the REST API under ``/client/v4/`` and everything else with ``app`` (the dev
    server's worker), over the same simulation; the API reads request bodies as ``pacing`` says."""

    def __init__(self, app: ASGIApp, sim: Simulation, credentials: Credentials, *, pacing: BodyPacing) -> None:
        self.app = app
        self.api = RestApp.for_simulation(sim, credentials.account, credentials.token, pacing=pacing)
        self.credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("raw_path") or scope.get("path", "").encode("utf-8")
        if scope["type"] == "http" and path.startswith(API_PREFIX.encode("ascii")):
            await self.api(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def describe(self, url: str) -> str:
        """The REST API part of the server's banner, for the server at ``url``."""
        return f"  Cloudflare v4 KV REST API on {url}/client/v4\n" + describe(f"{url}/client/v4", self.credentials)


@attrs.frozen(kw_only=True)
class ApiOptions:
    """The settings of ``workersim api``."""

    host: str = "127.0.0.1"
    port: int = 8787
    """0 picks a free port (the banner names the one bound)."""
    account: str | None = None
    token: str | None = attrs.field(default=None, repr=False)
    seed: int = 0
    max_namespaces: int = Limits().namespaces
    history: Path | None = None
    """Where to write the history as JSON Lines when the server stops; ``None``: nowhere."""
    persist: Path | None = None
    """The SQLite file that keeps the state between runs; ``None``: the state lasts as long as the server."""


async def run_api(sim: Simulation, options: ApiOptions, credentials: Credentials, state: Stored | None = None) -> None:
    """Serve the REST API over ``sim`` on the real clock until interrupted (keeping ``state``'s file up to date)."""
    rest = RestApp.for_simulation(sim, credentials.account, credentials.token)
    persistence = None if state is None else Persistence.attach(*state, sim, rest.accounts.account(credentials.account))
    app: ASGIApp = rest if persistence is None else Durable(rest, persistence)
    on_real_clock(sim)
    async with sim:
        with stop_on_signals("workersim api") as shutdown_trigger:
            async with trio.open_nursery() as nursery:
                config = hypercorn_config(options.host, options.port)
                binds = await nursery.start(serve, app, config, shutdown_trigger)
                base = f"{binds[0]}/client/v4"
                print(
                    f"workersim api: the Cloudflare v4 KV REST API on {base}\n{describe(base, credentials)}", flush=True
                )
        if persistence is not None:
            await persistence.close()


def run_api_server(options: ApiOptions) -> int:
    """Serve the REST API on the real clock until SIGINT or SIGTERM; write the history if asked; 0 when done."""
    # Virtual time 0 is now, so absolute expirations that clients compute from their clocks mean what they say.
    sim = Simulation(seed=options.seed, limits=Limits(namespaces=options.max_namespaces), start_time=time.time())
    keep_history(sim, options.history)
    state = None if options.persist is None else open_state(options.persist, sim)
    saved_account = None if state is None or state[1] is None else state[1].account
    credentials = Credentials.resolve(options.account, options.token, saved_account=saved_account)
    try:
        trio.run(run_api, sim, options, credentials, state)
    except KeyboardInterrupt:
        pass
    except BaseException as error:
        cause = listening_error(error)
        if cause is None:
            raise
        raise CannotListen(f"cannot listen on {options.host}:{options.port}: {cause}") from None
    save_history(sim, options.history)
    return 0

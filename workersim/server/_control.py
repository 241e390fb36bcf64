"""Live control of a running ``workersim dev``: partitions, heals, faults and time jumps under the reserved path
``/__workersim/``, the history as JSON Lines, and the inspector page (``workersim.server._inspector``).

Every action runs at its turn in the conductor's order, like a KV call, and answers with the simulation's status
as JSON (``now``, ``edges``, the edges ``cut_off``, the ``faults``). A mistake (an unknown edge, a bad number) is
a 400 that says what was wrong; ``workersim ctl`` sends these requests.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from ..runtime import Simulation
from ..sim.simulation import engine
from ._asgi import Receive, Scope, Send
from ._inspector import inspector_state, page, space_time
from ._serving import ASGIApp

PREFIX = "/__workersim/"
"""The path the dev server reserves for itself; a worker never sees requests under it."""
FAULTS = {"rate_limit": "write_rate_limit", "outage": "central_outage"}
"""Query names of the faults, and the ``sim.faults`` switches they turn on and off."""
_SWITCH = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False}

_JSON = [(b"content-type", b"application/json")]
_TEXT = [(b"content-type", b"text/plain;charset=UTF-8")]


class ControlError(ValueError):
    """A control request the server refuses (a 400, or ``status``); the message says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def status(sim: Simulation) -> dict[str, Any]:
    """The simulation as the control path shows it: virtual time, edges, which are cut off, which faults are on."""
    now = engine(sim).now_ms()
    partitions = engine(sim).store.cluster.partitions
    return {
        "now": now / 1000,
        "edges": list(sim.edges),
        "cut_off": [edge for index, edge in enumerate(sim.edges) if partitions.is_cut(index, now)],
        "faults": {name: getattr(sim.faults, switch) for name, switch in FAULTS.items()},
    }


def _edges(sim: Simulation, query: dict[str, str], *, default_all: bool) -> list[str]:
    text = query.get("edges", "")
    edges = [part.strip() for part in text.split(",") if part.strip()]
    if not edges:
        if default_all:
            return list(sim.edges)
        raise ControlError(f"name the edges, e.g. ?edges={sim.edges[-1]}; the edges are {', '.join(sim.edges)}")
    unknown = [edge for edge in edges if edge not in sim.edges]
    if unknown:
        raise ControlError(f"unknown edge {unknown[0]!r}; the edges are {', '.join(sim.edges)}")
    return edges


class Control:
    """The actions, over one simulation; each returns the status after it."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self._actions: dict[str, Callable[[dict[str, str]], None]] = {
            "partition": self.partition,
            "heal": self.heal,
            "faults": self.faults,
            "advance": self.advance,
        }

    @property
    def names(self) -> list[str]:
        """The actions' names (each one a ``POST /__workersim/<name>``)."""
        return list(self._actions)

    async def act(self, name: str, query: dict[str, str]) -> dict[str, Any]:
        """Run action ``name`` with ``query`` at its turn; the status after it."""
        action = self._actions[name]

        def run(_now: int) -> dict[str, Any]:
            action(query)
            return status(self.sim)

        result: dict[str, Any] = await engine(self.sim).apply(run)
        return result

    def partition(self, query: dict[str, str]) -> None:
        """``?edges=A,B``: cut those edges off from the rest (they still reach each other)."""
        self.sim.partition(_edges(self.sim, query, default_all=False))

    def heal(self, query: dict[str, str]) -> None:
        """``?edges=A,B`` (default: every edge): join them to the rest again; what was held lands now."""
        self.sim.heal(_edges(self.sim, query, default_all=True))

    def faults(self, query: dict[str, str]) -> None:
        """``?rate_limit=on&outage=off``: switch faults on or off (those not named stay as they are)."""
        unknown = [name for name in query if name not in FAULTS]
        if unknown:
            raise ControlError(f"unknown fault {unknown[0]!r}; the faults are {', '.join(FAULTS)}")
        switches = {}
        for name, text in query.items():
            if text.lower() not in _SWITCH:
                raise ControlError(f"{name} must be on or off, got {text!r}")
            switches[FAULTS[name]] = _SWITCH[text.lower()]
        for switch, on in switches.items():
            setattr(self.sim.faults, switch, on)

    def advance(self, query: dict[str, str]) -> None:
        """``?seconds=S``: move virtual time on by S seconds at once."""
        text = query.get("seconds")
        try:
            seconds = float(text) if text is not None else math.nan
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and 0 <= seconds <= 10**9):
            raise ControlError(f"seconds must be a number of seconds >= 0, got {text!r}")
        engine(self.sim).skip(round(seconds * 1000))


class ControlMount:
    """An ASGI app that answers ``/__workersim/...`` itself and passes everything else to ``app``; ``titles``
    gives the REST API's namespace titles by keyspace, for the inspector."""

    def __init__(self, app: ASGIApp, sim: Simulation, titles: Callable[[], Mapping[str, str]] = dict) -> None:
        self.app = app
        self.sim = sim
        self.control = Control(sim)
        self.titles = titles

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (scope["path"] + "/").startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        name = scope["path"][len(PREFIX) :].strip("/")
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        try:
            code, headers, body = await self._answer(scope["method"], name, query)
        except ControlError as error:
            code, headers, body = error.status, _TEXT, f"{error}\n".encode()
        await _drain(receive)
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, method: str, name: str, query: dict[str, str]) -> tuple[int, list[Any], bytes]:
        pages: dict[str, Callable[[], Awaitable[tuple[list[Any], bytes]]]] = {
            "": self._page,
            "status": self._status,
            "state": self._state,
            "history": self._history,
            "spacetime.svg": self._space_time,
        }
        if name in self.control.names:
            if method != "POST":
                raise ControlError(f"use POST for /__workersim/{name}", 405)
            return 200, _JSON, _dumps(await self.control.act(name, query))
        if name in pages:
            if method not in ("GET", "HEAD"):
                raise ControlError(f"use GET for /__workersim/{name}", 405)
            headers, body = await pages[name]()
            return 200, headers, body
        every = ", ".join([*(f"POST {n}" for n in self.control.names), *(f"GET {n}" for n in pages if n)])
        raise ControlError(f"no control endpoint {name!r} under {PREFIX}; there are: {every}", 404)

    async def _page(self) -> tuple[list[Any], bytes]:
        return [(b"content-type", b"text/html;charset=UTF-8")], page()

    async def _status(self) -> tuple[list[Any], bytes]:
        return _JSON, _dumps(await engine(self.sim).apply(lambda _now: status(self.sim)))

    async def _state(self) -> tuple[list[Any], bytes]:
        state = await engine(self.sim).apply(
            lambda now: {**status(self.sim), **inspector_state(self.sim, now, self.titles())}
        )
        return _JSON, _dumps(state)

    async def _history(self) -> tuple[list[Any], bytes]:
        text = await engine(self.sim).apply(lambda _now: self.sim.history.to_jsonl_text())
        return [(b"content-type", b"application/x-ndjson")], text.encode("utf-8")

    async def _space_time(self) -> tuple[list[Any], bytes]:
        svg = await engine(self.sim).apply(lambda _now: space_time(self.sim))
        return [(b"content-type", b"image/svg+xml")], svg.encode("utf-8")


def _dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


async def _drain(receive: Receive) -> None:
    # Control requests carry no body worth reading; one sent anyway is read and dropped, so the connection can
    # carry the next request.
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return

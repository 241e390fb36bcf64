"""``import pyodide`` for a simulated worker: ``pyodide.ffi`` (``to_js``, ``create_proxy``, ``JsProxy``, ``jsnull``,
``JsException``...) and ``pyodide.http.pyfetch`` (outbound fetch, on the simulation's routes)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from . import _jsffi
from ._js import make_request
from ._outbound import outbound_fetch
from ._response import Response

PYODIDE_VERSION = "0.28.2"
"""The Pyodide version ``pyodide.__version__`` reports (that of Cloudflare's current Python Workers)."""


async def pyfetch(url: Any, **options: Any) -> Response:
    """``pyodide.http.pyfetch(url, method=, headers=, body=)``: an outbound request; its response has ``status``,
    ``ok``, ``headers`` and ``await json()``/``text()``/``bytes()``."""
    options.pop("fetcher", None)
    return await outbound_fetch(make_request(url, None, options))


def pyodide_modules() -> dict[str, ModuleType]:
    """``pyodide``, ``pyodide.ffi`` and ``pyodide.http`` as module objects, by their import names."""
    ffi = ModuleType("pyodide.ffi", "Pyodide's foreign function interface, as workersim simulates it.")
    ffi.__dict__.update(
        {
            name: getattr(_jsffi, name)
            for name in (
                "JsArray",
                "JsBuffer",
                "JsException",
                "JsMap",
                "JsProxy",
                "create_once_callable",
                "create_proxy",
                "destroy_proxies",
                "jsnull",
                "to_js",
            )  # fmt: skip
        }
    )
    ffi.__dict__["JsDoubleProxy"] = _jsffi.JsProxy
    http = ModuleType("pyodide.http", "Pyodide's HTTP client, on the simulation's routes.")
    http.__dict__.update(pyfetch=pyfetch, FetchResponse=Response)
    package = ModuleType("pyodide", "Pyodide, as far as a simulated worker needs it.")
    package.__dict__.update(__path__=[], __version__=PYODIDE_VERSION, ffi=ffi, http=http)
    return {"pyodide": package, "pyodide.ffi": ffi, "pyodide.http": http}

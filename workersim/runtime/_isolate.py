"""Isolates: each edge runs its own instance of a worker file, as each Cloudflare location runs its own isolates.

An isolate executes the worker's main file and, on demand, the modules beside it (sibling files and packages in
its folder) as module objects of its own, never registered in ``sys.modules``: module-level state (a cache of KV
reads, a counter) is per edge, two workers with a same-named sibling never share it, and an import made inside a
handler finds the isolate's copy. Every import statement in those modules goes through the isolate, because each
of them gets builtins of its own whose ``__import__`` is the isolate's. That is also how the worker's code, and
only it, sees the simulated clock and seeded randomness (``_shims``) and ``import workers``.

A worker given as a Python object (a function, a class, a module) is not loaded here: it keeps its caller's module,
shared by every edge.
"""

from __future__ import annotations

import builtins
import importlib.util
import random
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from . import workers_compat
from ._asgi_bridge import asgi_module
from ._asyncio import asyncio_module
from ._js import JsHost, js_module
from ._loading import Worker, worker_from_module
from ._outbound import httpx_module, outbound_fetch
from ._pyodide import pyodide_modules
from ._shims import Clock, Monotonic, datetime_module, random_modules, time_module
from ._wsgi_bridge import wsgi_module

_real_import = builtins.__import__
_real_print = builtins.print

Log = Callable[[str, str, str, bool], None]
"""Where a worker's log lines go: ``log(edge, level, text, echo)``; ``echo`` asks for them to be shown too (a
``print`` has been shown already)."""


@attrs.frozen(kw_only=True)
class Services:
    """What a simulation gives its isolates: the clocks and the log."""

    clock: Clock
    monotonic: Monotonic
    log: Log


def _printer(log: Callable[[str, str, bool], None]) -> Callable[..., None]:
    # On Cloudflare a worker's print() is a console.log line: shown as usual, and recorded like one.
    def print(  # noqa: A001 - the builtin it stands for
        *values: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False
    ) -> None:
        _real_print(*values, sep=sep, end=end, file=file, flush=flush)
        if file is None or file is sys.stdout:
            log("log", (" " if sep is None else sep).join(map(str, values)), False)

    return print


def add_vendored_packages(folders: Sequence[Path]) -> None:
    """Make the packages in ``folders`` (a project's ``python_modules``) importable by every worker, once each.

    They go at the end of ``sys.path``, after site-packages (Cloudflare puts ``python_modules`` before them): a
    package installed in this environment wins over a vendored copy of it, since ``pywrangler sync`` vendors
    Pyodide's builds, whose compiled parts cannot load in CPython. Like site-packages, they are shared by all isolates.
    """
    for folder in map(str, folders):
        if folder not in sys.path:
            sys.path.append(folder)


class Isolate:
    """One edge's instance of the worker file at ``path``: ``worker`` runs it."""

    def __init__(self, path: Path, *, services: Services, edge: str, seed: int) -> None:
        self.folder = path.parent
        self._modules: dict[str, ModuleType] = {}
        self._local: dict[str, tuple[Path, bool] | None] = {}
        self._builtins = dict(vars(builtins))
        self._builtins["__import__"] = self._import

        def log(level: str, text: str, echo: bool) -> None:
            services.log(edge, level, text, echo)

        self._builtins["print"] = _printer(log)
        clock = services.clock
        host = JsHost(
            now_ms=lambda: clock() * 1000,
            rng=random.Random(f"{seed}/js"),
            log=lambda level, text: log(level, text, True),
            fetch=outbound_fetch,
        )
        self._substitutes: dict[str, ModuleType] = {
            "time": time_module(clock, services.monotonic),
            "datetime": datetime_module(clock),
            **random_modules(random.Random(seed), clock),
            "workers": workers_compat,
            "workers.asgi": workers_compat.asgi,
            "workers.wsgi": workers_compat.wsgi,
            "js": js_module(host),
            "asgi": asgi_module(),
            "wsgi": wsgi_module(),
            "asyncio": asyncio_module(),
            **pyodide_modules(),
        }
        self._lazy_substitutes: dict[str, Callable[[], ModuleType]] = {"httpx": httpx_module}
        self.module = self._execute(path.stem, path, package=False)
        self.worker: Worker = worker_from_module(self.module, str(path), js_requests=True)

    def _find(self, name: str) -> tuple[Path, bool] | None:
        """Where the module ``name`` of the worker's folder is (and whether it is a package), if it is one."""
        if name not in self._local:
            base = self.folder.joinpath(*name.split("."))
            if (base / "__init__.py").is_file():
                self._local[name] = (base / "__init__.py", True)
            elif base.with_name(base.name + ".py").is_file():
                self._local[name] = (base.with_name(base.name + ".py"), False)
            else:
                self._local[name] = None
        return self._local[name]

    def _execute(self, name: str, file: Path, *, package: bool) -> ModuleType:
        search = [str(file.parent)] if package else None
        spec = importlib.util.spec_from_file_location(name, file, submodule_search_locations=search)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        module.__builtins__ = self._builtins  # type: ignore[attr-defined]  # its imports come to the isolate
        self._modules[name] = module  # before it runs, as sys.modules would hold it: circular imports work
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del self._modules[name]
            raise
        return module

    def _load(self, name: str) -> ModuleType:
        module = self._modules.get(name)
        if module is not None:
            return module
        parent, _, child = name.rpartition(".")
        parent_module = self._load(parent) if parent else None
        found = self._find(name)
        if found is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        module = self._execute(name, found[0], package=found[1])
        if parent_module is not None:
            setattr(parent_module, child, module)
        return module

    def _import(
        self,
        name: str,
        globals: Mapping[str, Any] | None = None,  # noqa: A002 - __import__'s own parameter names
        locals: Mapping[str, Any] | None = None,  # noqa: A002
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> ModuleType:
        """``__import__`` for the isolate's modules: its own copies of local modules, the simulated ``time`` and
        friends, and everything else as usual."""
        absolute = name
        if level:
            package = (globals or {}).get("__package__") or ""
            if not package:
                # CPython's words; the main module is a top-level module on Cloudflare too.
                raise ImportError(
                    f"attempted relative import with no known parent package: the worker's main module and the "
                    f"files beside it are top-level modules, so write `from {name or '.'} import ...` without the dot"
                    if name
                    else "attempted relative import with no known parent package"
                )
            absolute = importlib.util.resolve_name("." * level + name, package)
        top = absolute.partition(".")[0]
        if absolute in self._lazy_substitutes:
            # Built on first import only: most workers never import httpx, and building it imports httpx.
            self._substitutes[absolute] = self._lazy_substitutes.pop(absolute)()
        substitute = self._substitutes.get(absolute)
        if substitute is not None:
            # `import pyodide.ffi` binds the package, `from pyodide.ffi import to_js` takes from the submodule.
            return substitute if fromlist else self._substitutes[top]
        if top in self._substitutes or self._find(top) is None:
            return _real_import(name, globals, locals, fromlist or (), level)
        module = self._load(absolute)
        if not fromlist:
            return self._modules[top]
        for item in fromlist:
            if item != "*" and not hasattr(module, item) and self._find(f"{absolute}.{item}") is not None:
                self._load(f"{absolute}.{item}")
        return module


class Isolates:
    """The isolates of one worker file, one per edge, each loaded at its edge's first request.

    ``evict`` drops them (the next request loads a fresh one, as after an eviction on Cloudflare). With
    ``idle_timeout``, an isolate that served no request for that many virtual seconds is dropped too. Each new
    isolate draws its randomness from the seed, its edge and how many isolates that edge had before it.
    """

    def __init__(
        self,
        path: Path,
        *,
        services: Services,
        seed_for: Callable[[str, int], int],
        idle_timeout: float | None = None,
    ) -> None:
        self.path = path
        self._services = services
        self._seed_for = seed_for
        self._idle_timeout = idle_timeout
        self._isolates: dict[str, tuple[Isolate, float]] = {}
        self._generations: dict[str, int] = {}

    def worker_for(self, edge: str) -> Worker:
        """The worker of ``edge``'s isolate, loading one if it has none (or its isolate has idled out)."""
        now = self._services.monotonic()
        entry = self._isolates.get(edge)
        if entry is not None and self._idle_timeout is not None and now - entry[1] > self._idle_timeout:
            entry = None
        isolate = self._new(edge) if entry is None else entry[0]
        self._isolates[edge] = (isolate, now)
        return isolate.worker

    def _new(self, edge: str) -> Isolate:
        generation = self._generations.get(edge, 0)
        self._generations[edge] = generation + 1
        return Isolate(self.path, services=self._services, edge=edge, seed=self._seed_for(edge, generation))

    def reload(self, edges: Sequence[str]) -> None:
        """Load the file afresh into a new isolate for each of ``edges``, then let them replace the isolates there
        were. If the file does not load, nothing is replaced: the error propagates, the old isolates stay."""
        now = self._services.monotonic()
        self._isolates = {edge: (self._new(edge), now) for edge in edges}

    def evict(self, edge: str | None = None) -> None:
        """Drop ``edge``'s isolate (every edge's with ``None``)."""
        if edge is None:
            self._isolates.clear()
        else:
            self._isolates.pop(edge, None)

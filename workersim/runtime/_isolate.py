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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from . import workers_compat
from ._loading import Worker, worker_from_module
from ._shims import Clock, Monotonic, datetime_module, random_modules, time_module

_real_import = builtins.__import__


class Isolate:
    """One edge's instance of the worker file at ``path``: ``worker`` runs it."""

    def __init__(self, path: Path, *, clock: Clock, monotonic: Monotonic, seed: int) -> None:
        self.folder = path.parent
        self._modules: dict[str, ModuleType] = {}
        self._local: dict[str, tuple[Path, bool] | None] = {}
        self._builtins = dict(vars(builtins))
        self._builtins["__import__"] = self._import
        self._substitutes: dict[str, ModuleType] = {
            "time": time_module(clock, monotonic),
            "datetime": datetime_module(clock),
            **random_modules(random.Random(seed)),
            "workers": workers_compat,
        }
        self.module = self._execute(path.stem, path, package=False)
        self.worker: Worker = worker_from_module(self.module, str(path))

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
            absolute = importlib.util.resolve_name("." * level + name, package)
        substitute = self._substitutes.get(absolute)
        if substitute is not None:
            return substitute
        top = absolute.partition(".")[0]
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
        clock: Clock,
        monotonic: Monotonic,
        seed_for: Callable[[str, int], int],
        idle_timeout: float | None = None,
    ) -> None:
        self.path = path
        self._clock = clock
        self._monotonic = monotonic
        self._seed_for = seed_for
        self._idle_timeout = idle_timeout
        self._isolates: dict[str, tuple[Isolate, float]] = {}
        self._generations: dict[str, int] = {}

    def worker_for(self, edge: str) -> Worker:
        """The worker of ``edge``'s isolate, loading one if it has none (or its isolate has idled out)."""
        now = self._monotonic()
        entry = self._isolates.get(edge)
        if entry is not None and self._idle_timeout is not None and now - entry[1] > self._idle_timeout:
            entry = None
        if entry is None:
            generation = self._generations.get(edge, 0)
            self._generations[edge] = generation + 1
            isolate = Isolate(
                self.path, clock=self._clock, monotonic=self._monotonic, seed=self._seed_for(edge, generation)
            )
        else:
            isolate = entry[0]
        self._isolates[edge] = (isolate, now)
        return isolate.worker

    def reload(self, edges: Sequence[str]) -> None:
        """Load the file afresh into a new isolate for each of ``edges``, then let them replace the isolates there
        were. If the file does not load, nothing is replaced: the error propagates, the old isolates stay."""
        now = self._monotonic()
        fresh = {
            edge: (
                Isolate(
                    self.path,
                    clock=self._clock,
                    monotonic=self._monotonic,
                    seed=self._seed_for(edge, self._generations.get(edge, 0)),
                ),
                now,
            )
            for edge in edges
        }
        for edge in edges:
            self._generations[edge] = self._generations.get(edge, 0) + 1
        self._isolates = fresh

    def evict(self, edge: str | None = None) -> None:
        """Drop ``edge``'s isolate (every edge's with ``None``)."""
        if edge is None:
            self._isolates.clear()
        else:
            self._isolates.pop(edge, None)

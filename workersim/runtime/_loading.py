"""Loading a worker in any of its forms, and importing worker files with ``workers`` mapped to workersim."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from ..core.errors import JsException
from . import workers_compat
from ._context import ExecutionContext
from ._entrypoint import PYTHON_REQUEST, WorkerEntrypoint
from ._request import Request

Call = Callable[[Any, Any, ExecutionContext], Any]
"""A handler called as ``call(event, env, ctx)``: the event is the request, or a scheduled run's controller."""

_FORMS = (
    "`class Default(WorkerEntrypoint)` with `async def fetch(self, request)`, "
    "`async def fetch(request, env, ctx)` or `async def on_fetch(request, env)` "
    "(or only a scheduled handler, `on_scheduled(controller, env, ctx)`)"
)
NO_FETCH = "Handler does not export a fetch() function."
"""What Cloudflare answers a request to a worker that has only other handlers (a cron-only worker): the request
fails with this error."""


def _no_fetch(request: Request, env: Any, ctx: ExecutionContext) -> Any:
    raise JsException("Error", NO_FETCH)


@attrs.frozen
class Worker:
    """A loaded worker, whatever form it was written in: ``await worker.fetch(request, env, ctx)`` runs it.

    ``name`` says where the handler came from, for error messages.
    """

    name: str
    call: Call
    """The handler, called as ``call(request, env, ctx)``: what it returns may be awaitable (``fetch`` awaits it)."""
    _scheduled: Call | None = attrs.field(default=None, alias="scheduled")

    async def fetch(self, request: Request, env: Any, ctx: ExecutionContext) -> Any:
        """Call the handler as its form expects and return what it returned (awaited if it is awaitable)."""
        result = self.call(request, env, ctx)
        if inspect.isawaitable(result):  # here, not in `_awaited`: one coroutine less on every request
            result = await result
        return result

    @property
    def has_scheduled(self) -> bool:
        """Whether the worker has a ``scheduled`` (or ``on_scheduled``) handler for cron triggers."""
        return self._scheduled is not None

    async def scheduled(self, controller: Any, env: Any, ctx: ExecutionContext) -> None:
        """Run the ``scheduled`` handler for one cron trigger."""
        if self._scheduled is None:
            raise TypeError(f"{self.name} has no scheduled handler: add `async def scheduled(self, controller)`")
        await _awaited(self._scheduled(controller, env, ctx))


async def _awaited(result: Any) -> Any:
    if inspect.isawaitable(result):
        result = await result
    return result


def load_worker(spec: Any) -> Worker:
    """A ``Worker`` from any supported form.

    ``spec`` may be a fetch function (``async def fetch(request, env, ctx)``; fewer parameters are fine), a
    ``WorkerEntrypoint`` subclass, a module or any object with ``Default``, ``fetch`` or ``on_fetch``, or the path
    of a Python file holding one of those (imported with ``workers`` meaning workersim's compatibility module).
    """
    if isinstance(spec, Worker):
        return spec
    if isinstance(spec, str | os.PathLike):
        path = Path(spec)
        return worker_from_module(load_worker_file(path), str(path))
    if isinstance(spec, type):
        return _from_class(spec)
    if inspect.isroutine(spec):
        return _from_function(spec, getattr(spec, "__qualname__", repr(spec)))
    if isinstance(spec, ModuleType) or any(hasattr(spec, name) for name in ("Default", "fetch", "on_fetch")):
        return worker_from_module(spec, getattr(spec, "__name__", type(spec).__name__))
    if callable(spec):
        return _from_function(spec, repr(spec))
    raise TypeError(f"a worker is {_FORMS}, a module holding one, or a file path; got {type(spec).__name__} {spec!r}")


def worker_from_module(module: Any, name: str, *, js_requests: bool = False) -> Worker:
    """The worker a module defines: its ``Default`` ``WorkerEntrypoint``, else its ``fetch`` or ``on_fetch``.

    With ``js_requests`` (a worker file, as Cloudflare loads it), an ``on_fetch`` not decorated with
    ``workers.handler`` receives the request as JavaScript holds it (``request.js_object``), as on Cloudflare.
    """
    default = getattr(module, "Default", None)
    if isinstance(default, type) and issubclass(default, WorkerEntrypoint):
        return _from_class(default)
    handlers = (getattr(module, attribute, None) for attribute in ("scheduled", "on_scheduled"))
    scheduled = next((_bind(handler) for handler in handlers if callable(handler)), None)
    for attribute in ("on_fetch", "fetch"):
        handler = getattr(module, attribute, None)
        # `from js import fetch` (or workers') at a module's top is outbound fetch, not the module's handler.
        if callable(handler) and not getattr(handler, "__module__", "").startswith("workersim.runtime."):
            js = js_requests and attribute == "on_fetch" and not getattr(handler, PYTHON_REQUEST, False)
            return Worker(f"{name}:{attribute}", _bind(handler, js_request=js, what="fetch handler"), scheduled)
    if scheduled is not None:  # a cron-only worker: valid on Cloudflare, where a request to it fails
        return Worker(f"{name}:scheduled", _no_fetch, scheduled)
    raise TypeError(f"{name} defines no worker: it needs {_FORMS}")


def _from_class(cls: type) -> Worker:
    if not issubclass(cls, WorkerEntrypoint):
        raise TypeError(
            f"the worker class {cls.__qualname__} must subclass WorkerEntrypoint "
            "(from workers import WorkerEntrypoint, or workersim.WorkerEntrypoint)"
        )
    fetch = getattr(cls, "fetch", None)
    scheduled = getattr(cls, "scheduled", None)
    if not callable(fetch) and not callable(scheduled):
        raise TypeError(
            f"the worker class {cls.__qualname__} has no fetch method: add `async def fetch(self, request)`"
        )
    fetch_arity = _positional_arity(fetch, method=True) if callable(fetch) else 0
    scheduled_arity = _positional_arity(scheduled, method=True) if callable(scheduled) else 0

    def call(request: Request, env: Any, ctx: ExecutionContext) -> Any:
        # `async def fetch(self)` is fine too, as on Cloudflare: the request is passed only if it is taken.
        return getattr(cls(ctx, env), "fetch")(*(request, env, ctx)[:fetch_arity])  # noqa: B009

    def run_scheduled(controller: Any, env: Any, ctx: ExecutionContext) -> Any:
        return getattr(cls(ctx, env), "scheduled")(*(controller, env, ctx)[:scheduled_arity])  # noqa: B009

    if not callable(fetch):  # a cron-only worker
        return Worker(cls.__qualname__ + ".scheduled", _no_fetch, run_scheduled)
    return Worker(cls.__qualname__ + ".fetch", call, run_scheduled if callable(scheduled) else None)


def _from_function(handler: Callable[..., Any], name: str) -> Worker:
    return Worker(name, _bind(handler, what="fetch handler", name=name))


def _bind(handler: Callable[..., Any], *, js_request: bool = False, what: str = "", name: str = "") -> Call:
    """``handler`` called with as many of ``(event, env, ctx)`` as it takes."""
    arity = _positional_arity(handler)
    if arity == 0 and what:
        raise TypeError(f"the {what} {name or handler.__qualname__} takes no arguments: it needs at least the request")

    if arity == 3 and not js_request:
        return handler  # called as it is: no call in between on every request

    def call(event: Any, env: Any, ctx: ExecutionContext) -> Any:
        return handler(*(event.js_object if js_request else event, env, ctx)[:arity])

    return call


def _positional_arity(handler: Callable[..., Any], *, method: bool = False) -> int:
    """How many of ``(request, env, ctx)`` the handler takes: ``on_fetch(request, env)`` gets two. For a method
    (``method=True``, looked up on its class) ``self`` is not counted."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # a builtin or C callable without a signature: give it everything
        return 3
    count = 0
    for parameter in parameters:
        if parameter.kind is parameter.VAR_POSITIONAL:
            return 3
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return min(count - 1 if method else count, 3)


def load_worker_file(path: str | os.PathLike[str]) -> ModuleType:
    """Import the Python file at ``path`` as a fresh module, as Cloudflare's Python Workers would.

    While it loads, ``workers`` is workersim's compatibility module and the file's folder is on ``sys.path`` (so
    it can import its sibling modules, as a Worker's ``src/`` folder can). Both are undone afterwards.
    """
    file = Path(path).resolve()
    if not file.is_file():
        raise FileNotFoundError(f"worker file not found: {path}")
    if file.suffix != ".py":
        raise ValueError(f"a worker file is a Python file (*.py), got {path}")
    digest = hashlib.blake2b(str(file).encode("utf-8"), digest_size=4).hexdigest()
    name = f"_workersim_worker_{file.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with _workers_importable(file.parent):
        # Registered while it runs, as a normal import is (dataclasses and pickling look modules up by name).
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


@contextlib.contextmanager
def _workers_importable(folder: Path) -> Iterator[None]:
    missing = object()
    saved = sys.modules.get("workers", missing)
    sys.modules["workers"] = workers_compat
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        if saved is missing:
            del sys.modules["workers"]
        else:
            sys.modules["workers"] = saved  # type: ignore[assignment]

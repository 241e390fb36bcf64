"""Teaching scenarios: short runnable stories, each showing one lesson about eventual consistency.

Each scenario is a module ``NAME`` here whose docstring's first line is its one-line summary (followed by what
you will see, why, and what to change to see something else), with ``async def scenario(seed)`` returning the
finished ``workersim.Simulation`` and ``main()`` for the command line (``python scenarios/NAME.py`` or
``workersim run NAME``). ``names()`` lists them and ``load(name_or_path)`` imports one by name, or any Python file
that defines ``scenario(seed)``.
"""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import pkgutil
import sys
import types

__all__ = ["UnknownScenarioError", "load", "names", "run_module", "summary"]


class UnknownScenarioError(LookupError):
    """``load`` was given a name that is no scenario and no readable Python file; the message lists the known
    scenarios."""


def names() -> list[str]:
    """The scenarios' names, sorted (private modules, starting with ``_``, left out)."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))


def summary(module: types.ModuleType) -> str:
    """The first line of a scenario's docstring: its one-line summary."""
    return (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""


def load(name_or_path: str) -> types.ModuleType:
    """The scenario ``name_or_path`` names: one of ``names()``, or the path of a ``.py`` file that defines
    ``scenario(seed)``. Raises ``UnknownScenarioError`` for anything else, naming the known scenarios."""
    if name_or_path in names():
        return importlib.import_module(f"{__name__}.{name_or_path}")
    path = pathlib.Path(name_or_path)
    if path.suffix == ".py" and path.is_file():
        module = _from_file(path)
        if callable(getattr(module, "scenario", None)):
            return module
        raise UnknownScenarioError(f"{name_or_path} defines no scenario(seed) function")
    raise UnknownScenarioError(
        f"no scenario {name_or_path!r}: give a scenario's name ({', '.join(names())}) or the path of a .py file"
    )


def run_module(module: types.ModuleType) -> None:
    """Run a loaded scenario as ``workersim run NAME`` does, with the command line in ``sys.argv`` (``--seed N``,
    ``--svg FILE``, ``--html FILE``): its timeline, then the lines its ``lessons(sim)`` gives, if it has one."""
    from ._common import run_scenario  # imports the simulator: only when a scenario is run

    run_scenario(module.scenario, module.__doc__, getattr(module, "lessons", _no_lessons))


def _no_lessons(sim: object) -> list[str]:
    return []


def _from_file(path: pathlib.Path) -> types.ModuleType:
    name = f"_workersim_scenario_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None  # a .py path always has a source loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # attrs and dataclasses defined in the file look their module up
    # The file may import its neighbours, as it could when run as a script.
    sys.path.insert(0, str(path.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    finally:
        sys.path.remove(str(path.resolve().parent))
    return module

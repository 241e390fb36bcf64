"""The public API, checked the way trio checks its own: what each public module exports is exactly its public
names, each has a docstring, static tools see the same names as the running package, and the user-facing
``Simulation`` carries no low-level hooks."""

from __future__ import annotations

import ast
import importlib
import inspect
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import pytest

import workersim

PUBLIC_MODULES = [
    "workersim",
    "workersim.core",
    "workersim.kv",
    "workersim.sim",
    "workersim.runtime",
    "workersim.checkers",
    "workersim.viz",
    "workersim.testing",
    "workersim.sweep",
    "workersim.scenarios",
]


def public_names(module: ModuleType) -> set[str]:
    """Names a user would take as the module's API: public, and not a submodule or an imported helper module."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_lists_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    for symbol in exported:
        assert hasattr(module, symbol), f"{name}.__all__ names {symbol}, which it does not have"
    if name == "workersim":
        return  # the façade loads most names on first use: checked against its TYPE_CHECKING block below
    assert public_names(module) == set(exported), f"{name} has public names outside __all__ (or the reverse)"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_exported_name_and_public_method_has_a_docstring(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no docstring"
    missing = []
    for symbol in module.__all__:
        value = getattr(module, symbol)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        if not inspect.getdoc(value):
            missing.append(symbol)
        if inspect.isclass(value):
            for attribute, member in vars(value).items():
                if attribute.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
                    continue
                if not inspect.getdoc(member):
                    missing.append(f"{symbol}.{attribute}")
    assert not missing, f"{name}: no docstring on {missing}"


def test_static_tools_see_the_names_the_package_loads_lazily() -> None:
    # Type checkers and IDEs read `if TYPE_CHECKING:` imports; at run time the same names come from _LAZY.
    tree = ast.parse(Path(workersim.__file__).read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                for alias in statement.names:
                    seen[alias.name] = f"workersim.{statement.module}"
    assert seen == workersim._LAZY
    eager = public_names(workersim) - set(seen)
    assert set(workersim.__all__) == eager | set(seen) | {"__version__"}
    assert set(workersim.__all__) <= set(dir(workersim))


def test_the_version_comes_from_the_package_metadata() -> None:
    assert workersim.__version__ == version("workersim")


def test_exceptions_share_one_base_and_keep_their_builtin_classes() -> None:
    errors = [workersim.KVError, workersim.ConfigError, workersim.BodyUsedError, workersim.HistoryFormatError]
    assert all(issubclass(error, workersim.WorkersimError) for error in errors)
    assert issubclass(workersim.BodyUsedError, OSError) and issubclass(workersim.ConfigError, ValueError)
    assert not issubclass(workersim.WorkerFailure, BaseException)  # a record of a failure, not an exception


def test_the_simulation_keeps_only_what_users_call() -> None:
    sim = workersim.Simulation(edges=("A",))
    hooks = ("apply", "turn", "cluster", "record_with_next_turn", "conductor", "store", "engine")
    assert [hook for hook in hooks if hasattr(sim, hook)] == []
    users = {"edges", "env", "fetch", "faults", "partition", "heal", "history", "arrival", "now", "unix_time"}
    assert users <= set(dir(sim))

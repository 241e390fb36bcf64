"""The package's layers import one way: core, kv, sim, runtime, server, cli (each only from those before it),
with checkers, viz and testing beside them; no two modules import each other, even through others.

The imports are read from the source with ``ast`` (inside functions and ``TYPE_CHECKING`` blocks too), so a lazy
import cannot hide an upward edge. ``docs/design.md`` explains the order.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workersim"
LAYERS = ("core", "kv", "sim", "runtime", "server", "cli")
BESIDE = {
    "checkers": {"core"},
    "viz": {"core", "checkers"},
    "testing": {"core", "kv", "sim", "runtime", "checkers", "viz"},
    "sweep": {"core", "kv", "sim", "runtime", "checkers", "scenarios"},
    "scenarios": {"core", "kv", "sim", "runtime", "checkers", "viz"},
}
ALSO = {"workersim.sim.history": {"workersim.viz"}}
"""Single modules allowed one import beside their layer: ``History.to_html`` draws through viz, lazily (viz
imports only core and checkers, so no cycle)."""
FACADE_USERS = {"scenarios"}
"""Parts written as users write (the teaching scenarios are read and copied), so they use ``import workersim``;
the façade loads only core, kv, sim and runtime."""
CORE_THIRD_PARTY = {"attrs"}
"""What the sans-I/O core may import besides the standard library: no trio, no sockets, no files."""


def allowed(layer: str) -> set[str]:
    """The parts of the package that ``layer`` may import."""
    if layer in BESIDE:
        return BESIDE[layer] | {layer}
    below = set(LAYERS[: LAYERS.index(layer) + 1])
    # The dev server's inspector draws the space-time view; the command line prints checkers' reports, runs
    # scenarios and sweeps.
    if layer == "cli":
        return below | {"checkers", "viz", "sweep", "scenarios"}
    return below | ({"checkers", "viz"} if layer == "server" else set())


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str | None = None) -> set[str]:
    """The absolute names of every module ``path`` (the module ``name``) imports, wherever the import stands."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from . import x` may import a submodule x
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def internal(names: set[str]) -> set[str]:
    return {name for name in names if name in MODULES}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) == 1:
        return None  # the top-level façade, which may re-export anything
    return parts[1]


def upward(module: str, path: Path) -> list[str]:
    """The parts of the package that ``module`` imports but may not (the façade ``workersim`` itself included)."""
    layer = layer_of(module)
    if layer is None:
        return []
    assert layer in LAYERS or layer in BESIDE, f"{module}: a new part of the package; add it to LAYERS or BESIDE"
    return sorted(name for name in internal(imports(path, module)) if forbidden(module, layer, name))


def forbidden(module: str, layer: str, name: str) -> bool:
    """Whether ``module`` (of ``layer``) may not import the module ``name``."""
    if name in ALSO.get(module, ()):
        return False
    target = layer_of(name)
    if target is None:
        return layer not in FACADE_USERS
    return target not in allowed(layer)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_upward(module: str) -> None:
    bad = upward(module, MODULES[module])
    assert not bad, f"{module} ({layer_of(module)}) imports {bad}, above it or beside it"


def test_the_core_imports_only_the_standard_library_and_attrs() -> None:
    for module, path in MODULES.items():
        if layer_of(module) != "core":
            continue
        outside = {name.split(".")[0] for name in imports(path)} - {"workersim", "__future__"}
        foreign = {name for name in outside if name not in sys.stdlib_module_names} - CORE_THIRD_PARTY
        assert not foreign, f"{module} imports {sorted(foreign)}"


def test_no_import_cycles() -> None:
    graph = {module: internal(imports(path)) - {module} for module, path in MODULES.items()}
    # A package's __init__ re-exports its own modules; the edge from a module up to its own package's __init__
    # (through a relative `from . import`) is the same import seen from below, not a cycle.
    for module in graph:
        graph[module] = {name for name in graph[module] if not module.startswith(name + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


@pytest.mark.parametrize(
    ("statement", "caught"),
    [
        ("from ..runtime import Simulation", ["workersim.runtime"]),
        ("from .. import viz", ["workersim", "workersim.viz"]),
        ("import workersim.server.rest", ["workersim.server.rest"]),
        ("from workersim import Simulation", ["workersim"]),
        ("from .rows import KVRead", []),
    ],
)
def test_the_check_catches_a_planted_upward_import(tmp_path: Path, statement: str, caught: list[str]) -> None:
    # An import written inside a function of a core module, where a lazy import would hide from a load-time test.
    planted = tmp_path / "planted.py"
    planted.write_text(f"def later():\n    {statement}\n", encoding="utf-8")
    assert upward("workersim.core.planted", planted) == caught

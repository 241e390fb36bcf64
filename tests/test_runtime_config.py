"""Simulation.from_config reads wrangler.toml, wrangler.jsonc and wrangler.json like wrangler does."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

import workersim
from workersim import ConfigError
from workersim.runtime import load_config, strip_jsonc

WORKER = """
from workers import Response

async def on_fetch(request, env):
    await env.CACHE.put("k", env.GREETING)
    return Response(await env.CACHE.get("k") + " " + str(env.LIMITS["max"]))
"""

TOML = """
name = "demo"
main = "src/entry.py"
compatibility_date = "2026-01-01"
kv_namespaces = [
  { binding = "CACHE", id = "abc123", preview_id = "def456" },
  { binding = "SESSIONS", id = "0123" },
]
[vars]
GREETING = "hello"
LIMITS = { max = 3 }
"""

JSONC = """{
  // wrangler.jsonc: comments and trailing commas are fine
  "name": "demo",
  "main": "src/entry.py", /* the entry file */
  "kv_namespaces": [
    {"binding": "CACHE", "id": "abc123"},
    {"binding": "SESSIONS", "id": "0123"},
  ],
  "vars": {"GREETING": "hello // not a comment", "LIMITS": {"max": 3},},
}"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(WORKER)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "text"), [("wrangler.toml", TOML), ("wrangler.jsonc", JSONC), ("wrangler.json", JSONC)]
)
async def test_from_config_builds_the_worker_bindings_and_vars(
    project: Path, name: str, text: str, autojump_clock: trio.abc.Clock
) -> None:
    (project / name).write_text(text)
    sim = workersim.Simulation.from_config(project / name, edges=("SFO", "LHR"), seed=5)
    assert sim.kv_namespaces == ("CACHE", "SESSIONS")
    assert sim.seed == 5 and sim.edges == ("SFO", "LHR")
    greeting = "hello" if name.endswith("toml") else "hello // not a comment"
    assert sim.vars == {"GREETING": greeting, "LIMITS": {"max": 3}}
    async with sim:
        response = await sim.fetch("https://example.com/", edge="LHR")
        assert await response.text() == f"{greeting} 3"
        assert sim.env("SFO").GREETING == greeting


def test_strip_jsonc_keeps_strings_and_line_numbers() -> None:
    text = '{"a": "http://x/*y*/", // c\n "b": [1, 2,], /* d\n e */ "c": 1,}'
    stripped = strip_jsonc(text)
    assert stripped.count("\n") == text.count("\n")
    assert '"http://x/*y*/"' in stripped and "//" not in stripped.replace("http://", "")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("wrangler.toml", "main = [", "invalid TOML"),
        ("wrangler.json", '{"main": "src/entry.py",\n "vars": {"A": 1}', "invalid JSON at line 2"),
        ("wrangler.toml", 'main = "src/missing.py"', "there is no file"),
        ("wrangler.toml", "main = 42", "main must be the path"),
        ("wrangler.toml", 'kv_namespaces = [{ id = "x" }]', r"kv_namespaces\[0\] needs a binding name"),
        ("wrangler.toml", 'kv_namespaces = [{ binding = "A" }, { binding = "A" }]', "binds 'A' twice"),
        ("wrangler.toml", 'kv_namespaces = "A"', "must be a list"),
        ("wrangler.toml", "[vars]\nwhen = 1979-05-27", "vars.when must be a string or a JSON value"),
        ("wrangler.json", "[1, 2]", "must be a table/object"),
        ("wrangler.yaml", "main: x", r"a wrangler configuration \(\.toml, \.jsonc, \.json\)"),
    ],
)
def test_bad_configurations_name_the_file_and_the_problem(project: Path, name: str, text: str, message: str) -> None:
    (project / name).write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        workersim.Simulation.from_config(project / name)
    assert str(project / name) in str(caught.value)


def test_a_missing_configuration_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "wrangler.toml")


def test_a_config_without_main_gives_a_simulation_without_worker(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text('kv_namespaces = [{ binding = "KV", id = "1" }]')
    sim = workersim.Simulation.from_config(tmp_path / "wrangler.toml")
    assert sim.kv_namespaces == ("KV",) and sim.worker is None


@pytest.mark.parametrize(
    ("variables", "message"),
    [({"_x": "1"}, "identifiers not starting with '_'"), ({"KV": "1"}, "both a KV binding and a variable")],
)
def test_bad_vars_are_refused(variables: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        workersim.Simulation(kv_namespaces=("KV",), vars=variables)

"""Reading a worker's wrangler configuration (``wrangler.toml``, ``wrangler.jsonc`` or ``wrangler.json``)."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..core.errors import ConfigError

CONFIG_NAMES = ("wrangler.toml", "wrangler.jsonc", "wrangler.json")
"""The file names wrangler looks for, in its order of preference."""

# A JSON string, or a comment: strings are matched first so that "//" inside one is left alone.
_COMMENTS = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.DOTALL)
_TRAILING_COMMAS = re.compile(r'"(?:\\.|[^"\\])*"|,(?=\s*[\]}])')
_JSON_SCALARS = (str, int, float, bool, type(None))


@attrs.frozen
class WorkerConfig:
    """What workersim takes from a wrangler configuration."""

    path: Path
    """The configuration file."""
    main: Path | None
    """The worker's entry file (``main``), resolved against the configuration's folder."""
    kv_namespaces: tuple[str, ...]
    """The binding names of ``kv_namespaces``."""
    vars: Mapping[str, Any]
    """The ``vars`` table: variables on ``env``."""
    name: str | None = None
    """The worker's ``name``, if given."""


def strip_jsonc(text: str) -> str:
    """JSON text from JSONC (``//`` and ``/* */`` comments, trailing commas), keeping line numbers for errors."""

    def blank_comment(match: re.Match[str]) -> str:
        found = match.group()
        return found if found.startswith('"') else re.sub(r"[^\n]", " ", found)

    text = _COMMENTS.sub(blank_comment, text)
    return _TRAILING_COMMAS.sub(lambda match: match.group() if match.group() != "," else " ", text)


def load_config(path: str | os.PathLike[str]) -> WorkerConfig:
    """Read ``path``, a ``.toml``, ``.jsonc`` or ``.json`` wrangler configuration; a ``ConfigError`` says what is
    wrong with it. Keys workersim does not simulate (``compatibility_date``, routes, other bindings) are ignored."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it: {error}") from None
    document = _parse(file, text)
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: the configuration must be a table/object, got {type(document).__name__}")
    return WorkerConfig(
        path=file,
        main=_main(file, document.get("main")),
        kv_namespaces=_kv_bindings(file, document.get("kv_namespaces", [])),
        vars=_vars(file, document.get("vars", {})),
        name=_optional_str(file, "name", document.get("name")),
    )


def _parse(file: Path, text: str) -> Any:
    if file.suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{file}: invalid TOML: {error}") from None
    if file.suffix in (".json", ".jsonc"):
        try:
            return json.loads(strip_jsonc(text))
        except json.JSONDecodeError as error:
            where = f"line {error.lineno}, column {error.colno}"
            raise ConfigError(f"{file}: invalid JSON at {where}: {error.msg}") from None
    raise ConfigError(f"{file}: a wrangler configuration is a .toml, .jsonc or .json file")


def _main(file: Path, main: Any) -> Path | None:
    if main is None:
        return None
    if not isinstance(main, str) or not main:
        raise ConfigError(f"{file}: main must be the path of the worker's entry file, got {main!r}")
    entry = file.parent / main
    if not entry.is_file():
        raise ConfigError(f"{file}: main = {main!r}, but there is no file {entry}")
    return entry


def _kv_bindings(file: Path, namespaces: Any) -> tuple[str, ...]:
    if not isinstance(namespaces, list):
        raise ConfigError(f'{file}: kv_namespaces must be a list of {{binding = "NAME", id = "..."}} entries')
    names = []
    for index, entry in enumerate(namespaces):
        binding = entry.get("binding") if isinstance(entry, dict) else None
        if not isinstance(binding, str) or not binding.isidentifier() or binding.startswith("_"):
            raise ConfigError(
                f"{file}: kv_namespaces[{index}] needs a binding name that is an identifier not starting with '_' "
                f'(binding = "MY_KV"), got {entry!r}'
            )
        if binding in names:
            raise ConfigError(f"{file}: kv_namespaces binds {binding!r} twice")
        names.append(binding)
    return tuple(names)


def _vars(file: Path, table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{file}: vars must be a table of NAME = value, got {table!r}")
    for name, value in table.items():
        if not name.isidentifier() or name.startswith("_"):
            raise ConfigError(f"{file}: vars.{name} is not a usable name: use an identifier not starting with '_'")
        if not _is_json(value):
            raise ConfigError(f"{file}: vars.{name} must be a string or a JSON value, got {type(value).__name__}")
    return dict(table)


def _is_json(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_json(item) for item in value)
    if isinstance(value, dict):
        return all(_is_json(item) for item in value.values())
    return isinstance(value, _JSON_SCALARS)


def _optional_str(file: Path, key: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{file}: {key} must be a string, got {value!r}")
    return value


def find_config(folder: str | os.PathLike[str] = ".") -> Path | None:
    """The wrangler configuration in ``folder`` (``wrangler.toml``, then ``.jsonc``, then ``.json``), if any."""
    for name in CONFIG_NAMES:
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    return None

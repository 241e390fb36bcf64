"""Reading a worker's wrangler configuration (``wrangler.toml``, ``wrangler.jsonc`` or ``wrangler.json``), as
wrangler does: an ``[env.NAME]`` section chosen by ``environment``, secrets from ``.dev.vars`` (or ``.env``) beside
the file, cron triggers, static assets, and the bindings workersim does not simulate, named so they can be refused.
"""

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

UNSIMULATED_BINDINGS = {
    "d1_databases": "a D1 database",
    "r2_buckets": "an R2 bucket",
    "durable_objects": "a Durable Object namespace",
    "queues": "a Queue producer",
    "services": "a service binding",
    "ai": "a Workers AI binding",
    "vectorize": "a Vectorize index",
    "hyperdrive": "a Hyperdrive configuration",
    "analytics_engine_datasets": "an Analytics Engine dataset",
    "browser": "a Browser Rendering binding",
    "workflows": "a Workflow",
    "send_email": "an email binding",
    "dispatch_namespaces": "a dispatch namespace",
    "mtls_certificates": "an mTLS certificate",
    "images": "an Images binding",
    "version_metadata": "a version metadata binding",
    "secrets_store_secrets": "a Secrets Store secret",
}
"""Binding kinds a configuration may declare that workersim does not simulate, and what each is."""

# Keys an [env.NAME] section does not inherit from the top level (wrangler's rule for bindings and vars).
_NOT_INHERITED = frozenset({"vars", "kv_namespaces", "define", *UNSIMULATED_BINDINGS})

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
    secrets: Mapping[str, str] = attrs.field(factory=dict)
    """Secrets from ``.dev.vars`` (``.dev.vars.ENV`` for an environment), or ``.env`` when there is none."""
    crons: tuple[str, ...] = ()
    """``[triggers] crons``: the cron expressions that run the worker's ``scheduled`` handler."""
    assets: Assets | None = None
    """``[assets]``: static files served in front of (or behind) the worker."""
    unsimulated: Mapping[str, str] = attrs.field(factory=dict)
    """Bindings declared but not simulated: binding name -> what it is (``"a D1 database"``)."""
    environment: str | None = None
    """The ``[env.NAME]`` section used, if any."""
    cpu_ms: int | None = None
    """``[limits] cpu_ms``: the CPU milliseconds a request may use (``workersim dev`` enforces it)."""


@attrs.frozen(kw_only=True)
class Assets:
    """An ``[assets]`` section: files under ``directory`` are served as Cloudflare serves static assets."""

    directory: Path
    binding: str | None = None
    """The name of the binding (``env.ASSETS.fetch(request)``), if the worker asked for one."""
    run_worker_first: bool = False
    """Whether the worker runs before the files are looked up (by default a matching file is served first)."""
    not_found_handling: str = "none"
    """``"none"`` (the worker, else a 404), ``"404-page"`` or ``"single-page-application"``."""


def strip_jsonc(text: str) -> str:
    """JSON text from JSONC (``//`` and ``/* */`` comments, trailing commas), keeping line numbers for errors."""

    def blank_comment(match: re.Match[str]) -> str:
        found = match.group()
        return found if found.startswith('"') else re.sub(r"[^\n]", " ", found)

    text = _COMMENTS.sub(blank_comment, text)
    return _TRAILING_COMMAS.sub(lambda match: match.group() if match.group() != "," else " ", text)


def load_config(path: str | os.PathLike[str], environment: str | None = None) -> WorkerConfig:
    """Read ``path``, a ``.toml``, ``.jsonc`` or ``.json`` wrangler configuration; a ``ConfigError`` says what is
    wrong with it. ``environment`` selects an ``[env.NAME]`` section, as ``wrangler --env NAME`` does: its keys
    replace the top level's, and bindings and ``vars`` are not inherited. Keys that change nothing in a
    simulation (``compatibility_date``, routes) are ignored; bindings it does not simulate are listed in
    ``unsimulated``."""
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
    if environment is not None:
        document = _environment(file, document, environment)
    return WorkerConfig(
        path=file,
        main=_main(file, document.get("main")),
        kv_namespaces=_kv_bindings(file, document.get("kv_namespaces", [])),
        vars=_vars(file, document.get("vars", {})),
        name=_optional_str(file, "name", document.get("name")),
        secrets=_secrets(file, environment),
        crons=_crons(file, document.get("triggers", {})),
        assets=_assets(file, document.get("assets")),
        unsimulated=_unsimulated(file, document),
        environment=environment,
        cpu_ms=_cpu_ms(file, document.get("limits")),
    )


def _cpu_ms(file: Path, limits: Any) -> int | None:
    if limits is None:
        return None
    cpu_ms = limits.get("cpu_ms") if isinstance(limits, dict) else None
    if isinstance(cpu_ms, bool) or not isinstance(cpu_ms, int) or cpu_ms <= 0:
        raise ConfigError(f"{file}: limits must be a table such as {{ cpu_ms = 50 }} with a positive cpu_ms")
    return cpu_ms


def _environment(file: Path, document: dict[str, Any], name: str) -> dict[str, Any]:
    sections = document.get("env", {})
    if not isinstance(sections, dict) or not isinstance(sections.get(name), dict):
        known = ", ".join(sorted(sections)) if isinstance(sections, dict) and sections else "none"
        raise ConfigError(f"{file}: no environment {name!r} ([env.{name}]); the environments are: {known}")
    inherited = {key: value for key, value in document.items() if key not in _NOT_INHERITED and key != "env"}
    merged = {**inherited, **sections[name]}
    if "name" in document and "name" not in sections[name]:
        merged["name"] = f"{document['name']}-{name}"
    return merged


def _secrets(file: Path, environment: str | None) -> dict[str, str]:
    """Secrets as ``wrangler dev`` reads them: ``.dev.vars`` (or ``.dev.vars.ENV``), else ``.env`` (or ``.env.ENV``)."""
    from dotenv import dotenv_values

    for base in (".dev.vars", ".env"):
        candidates = ([file.parent / f"{base}.{environment}"] if environment else []) + [file.parent / base]
        for candidate in candidates:
            if candidate.is_file():
                try:
                    values = dotenv_values(candidate, interpolate=False)
                except (OSError, UnicodeDecodeError) as error:
                    raise ConfigError(f"{candidate}: cannot read it: {error}") from None
                return {key: value or "" for key, value in values.items() if key.isidentifier()}
    return {}


def _crons(file: Path, triggers: Any) -> tuple[str, ...]:
    if not isinstance(triggers, dict):
        raise ConfigError(f'{file}: triggers must be a table such as {{ crons = ["*/5 * * * *"] }}')
    crons = triggers.get("crons", [])
    if not isinstance(crons, list) or not all(isinstance(cron, str) for cron in crons):
        raise ConfigError(f'{file}: triggers.crons must be a list of cron expressions such as ["*/5 * * * *"]')
    from ._cron import check_cron

    for cron in crons:
        check_cron(cron, f"{file}: triggers.crons")
    return tuple(crons)


def _assets(file: Path, section: Any) -> Assets | None:
    if section is None:
        return None
    if not isinstance(section, dict) or not isinstance(section.get("directory"), str):
        raise ConfigError(f'{file}: assets needs a directory, e.g. [assets] directory = "./public"')
    directory = file.parent / section["directory"]
    if not directory.is_dir():
        raise ConfigError(f"{file}: assets.directory = {section['directory']!r}, but there is no folder {directory}")
    binding = section.get("binding")
    if binding is not None and (not isinstance(binding, str) or not binding.isidentifier()):
        raise ConfigError(f'{file}: assets.binding must be a binding name such as "ASSETS", got {binding!r}')
    handling = section.get("not_found_handling", "none")
    if handling not in ("none", "404-page", "single-page-application"):
        raise ConfigError(
            f"{file}: assets.not_found_handling must be none, 404-page or single-page-application, got {handling!r}"
        )
    first = section.get("run_worker_first", False)
    if not isinstance(first, bool):
        raise ConfigError(f"{file}: assets.run_worker_first must be true or false, got {first!r}")
    return Assets(directory=directory, binding=binding, run_worker_first=first, not_found_handling=handling)


def _unsimulated(file: Path, document: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, what in UNSIMULATED_BINDINGS.items():
        entries = document.get(key)
        if isinstance(entries, dict) and isinstance(entries.get("bindings"), list):
            entries = entries["bindings"]  # durable_objects = { bindings = [...] }
        if isinstance(entries, dict) and "binding" in entries:
            entries = [entries]  # ai = { binding = "AI" }
        if isinstance(entries, dict) and "producers" in entries:
            entries = entries["producers"]  # queues = { producers = [...] }
        for entry in entries if isinstance(entries, list) else []:
            name = entry.get("binding") or entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str):
                found[name] = what
    return found


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


def config_file(target: str | os.PathLike[str]) -> Path:
    """The configuration ``target`` names: the file itself, or the one in a project folder (as ``wrangler dev`` run
    there finds it); a ``ConfigError`` when a folder holds none."""
    path = Path(target)
    if not path.exists():
        raise ConfigError(f"{target}: no such worker file, configuration or project folder")
    if not path.is_dir():
        if path.suffix not in (".toml", ".jsonc", ".json"):
            raise ConfigError(
                f"{target}: a worker is a Python file (*.py), a wrangler configuration (.toml, .jsonc, .json) "
                "or a project folder holding one"
            )
        return path
    found = find_config(path)
    if found is None:
        raise ConfigError(f"{target}: no {', '.join(CONFIG_NAMES)} in this folder, so it is not a worker project")
    return found


def vendor_folders(main: Path, project: Path | None = None) -> tuple[Path, ...]:
    """The folders of vendored packages a worker whose entry file is ``main`` can import from, as Cloudflare puts
    them on ``sys.path``: ``python_modules`` (what ``pywrangler sync`` fills, in the ``project`` folder, else in
    the nearest folder above ``main`` holding a ``pyproject.toml`` or a wrangler configuration) and the older
    ``vendor`` folder beside ``main``."""
    if project is None:
        ancestors = (main.parent, *main.parent.parents)
        marked = (folder for folder in ancestors if find_config(folder) or (folder / "pyproject.toml").is_file())
        project = next(marked, main.parent)
    candidates = (project / "python_modules", main.parent / "python_modules", main.parent / "vendor")
    # A `vendor` package (with an __init__.py) is one of the worker's own modules, not a folder of packages.
    found = (folder for folder in candidates if folder.is_dir() and not (folder / "__init__.py").is_file())
    return tuple(dict.fromkeys(found))

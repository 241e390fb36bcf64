"""``workersim export`` and ``workersim import``: move KV data out of a ``--persist`` file, and into a running server
(workersim's or Cloudflare's own REST API), in the REST API's bulk-write format.

A dump is a JSON array of pairs ``{key, value, base64?, metadata?, expiration?}`` (one namespace, as ``PUT
.../bulk`` and ``wrangler kv bulk put`` take it) or an object mapping namespace titles to such arrays.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from ..server._persist import PersistError, bulk_pairs, load

CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
BULK_PAIRS = 10_000
"""The most pairs one bulk write takes."""


class TransferError(Exception):
    """An export or import that cannot go on; the message says why."""


def _failed(command: str, error: BaseException) -> int:
    print(f"workersim {command}: {error}", file=sys.stderr)
    return 2


def _export(args: argparse.Namespace) -> int:
    try:
        if not args.persist.is_file():
            raise TransferError(f"--persist {args.persist}: no such file")
        exported = bulk_pairs(load(args.persist), time.time())
        document: Any = exported
        if args.namespace is not None:
            if args.namespace not in exported:
                titles = ", ".join(sorted(exported)) or "none"
                raise TransferError(f"no namespace titled {args.namespace!r} with data (there are: {titles})")
            document = exported[args.namespace]
        text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
        if args.out is None:
            sys.stdout.write(text)
        else:
            args.out.write_text(text, encoding="utf-8")
    except (PersistError, TransferError, OSError) as error:
        return _failed("export", error)
    count = sum(len(pairs) for pairs in exported.values()) if args.namespace is None else len(document)
    print(f"workersim export: {count} keys", file=sys.stderr)
    return 0


def _dump(path: Path, namespace: str | None) -> dict[str, list[Any]]:
    """The dump at ``path`` as ``{title: pairs}``."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TransferError(f"cannot read the dump {path}: {error}") from None
    if isinstance(document, list):
        if namespace is None:
            raise TransferError(f"{path} holds one namespace's pairs: name the namespace with --namespace TITLE")
        return {namespace: document}
    if not isinstance(document, dict) or not all(isinstance(pairs, list) for pairs in document.values()):
        raise TransferError(f"{path} is not a dump: a JSON array of pairs, or an object of titles to such arrays")
    if namespace is not None:
        if namespace not in document:
            raise TransferError(f"{path} has no namespace titled {namespace!r}")
        return {namespace: document[namespace]}
    return document


def _checked(response: httpx.Response, what: str) -> Any:
    try:
        envelope = response.json()
    except ValueError:
        envelope = None
    if response.status_code != 200 or not isinstance(envelope, dict) or not envelope.get("success"):
        errors = envelope.get("errors") if isinstance(envelope, dict) else None
        raise TransferError(f"{what}: {response.status_code} {errors or response.text[:200]}")
    return envelope["result"]


def _namespace_ids(client: httpx.Client, base: str) -> dict[str, str]:
    ids: dict[str, str] = {}
    page = 1
    while True:
        found = _checked(client.get(base, params={"page": page, "per_page": 100}), "listing namespaces")
        ids.update({namespace["title"]: namespace["id"] for namespace in found})
        if len(found) < 100:
            return ids
        page += 1


def _import(args: argparse.Namespace) -> int:
    if not args.account or not args.token:
        return _failed("import", TransferError("give --account and --token (or CLOUDFLARE_ACCOUNT_ID and _API_TOKEN)"))
    base = f"{args.url.rstrip('/')}/accounts/{args.account}/storage/kv/namespaces"
    headers = {"Authorization": f"Bearer {args.token}"}
    try:
        dump = _dump(args.dump, args.namespace)
        with httpx.Client(headers=headers, timeout=120) as client:
            ids = _namespace_ids(client, base)
            for title, pairs in dump.items():
                if title not in ids:
                    ids[title] = _checked(client.post(base, json={"title": title}), f"creating {title!r}")["id"]
                for start in range(0, len(pairs), BULK_PAIRS):
                    chunk = pairs[start : start + BULK_PAIRS]
                    _checked(client.put(f"{base}/{ids[title]}/bulk", json=chunk), f"writing to {title!r}")
                print(f"workersim import: {len(pairs)} keys into {title!r} ({ids[title]})", file=sys.stderr)
    except httpx.HTTPError as error:
        print(f"workersim import: cannot reach {args.url}: {error}", file=sys.stderr)
        return 1
    except TransferError as error:
        return _failed("import", error)
    return 0


def export_arguments(export: argparse.ArgumentParser) -> None:
    """Define the ``export`` command's arguments on its parser."""
    export.add_argument("--persist", type=Path, required=True, metavar="FILE", help="the state file to read")
    export.add_argument("--out", type=Path, metavar="FILE", help="where to write the dump (default: standard output)")
    export.add_argument(
        "--namespace", metavar="TITLE", help="only this namespace, as a bare array of pairs (PUT .../bulk's body)"
    )
    export.set_defaults(handler=_export)


def import_arguments(imports: argparse.ArgumentParser) -> None:
    """Define the ``import`` command's arguments on its parser."""
    imports.add_argument("dump", type=Path, help="a dump written by workersim export (or any bulk-write array)")
    imports.add_argument(
        "--url",
        default=os.environ.get("CLOUDFLARE_API_BASE_URL", CLOUDFLARE_API),
        help=f"the API's base URL (default $CLOUDFLARE_API_BASE_URL, else {CLOUDFLARE_API})",
    )
    imports.add_argument("--account", default=os.environ.get("CLOUDFLARE_ACCOUNT_ID"), help="the account id")
    imports.add_argument("--token", default=os.environ.get("CLOUDFLARE_API_TOKEN"), help="the API token")
    imports.add_argument(
        "--namespace", metavar="TITLE", help="the namespace to write to (created if missing; needed for an array)"
    )
    imports.set_defaults(handler=_import)

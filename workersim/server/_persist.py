"""The ``--persist`` file: a server's KV state in SQLite (the standard library's ``sqlite3``, WAL mode).

The file holds what a restarted server needs to continue where it stopped: every version the store still holds
(value, metadata, expiration, when and where it was written, its number), the namespaces created over REST, the
account id, the simulation's clock and write counter, its partitions and which faults are on. It does not hold
the history, or the rate limit's memory of recent writes.

A file is read before anything is written to it. One that is not SQLite, is cut short or damaged, is SQLite
without workersim's tables, or has a newer schema than this workersim knows, is refused with a ``PersistError``
and left exactly as it was; so is a file written by a simulation with other edges, seed or propagation bound,
whose versions would arrive elsewhere. Writes go in transactions (``StateFile.commit``), so a crash leaves every
committed batch whole and nothing of the others.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import itertools
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs

from ..core.versions import Version
from ._accounts import Namespace

SCHEMA_VERSION = 1
"""The version of the file's tables this workersim writes; files with a higher one are refused."""
DEFAULT_PATH = Path(".workersim") / "state.sqlite3"
"""Where ``--persist`` without a path keeps the state (relative to the folder the server starts in)."""

_MAGIC = b"SQLite format 3\x00"
_SCHEMA = (
    "CREATE TABLE workersim_schema (version INTEGER NOT NULL)",
    "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE namespaces (position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, "
    "keyspace TEXT NOT NULL, jurisdiction TEXT)",
    "CREATE TABLE versions (keyspace TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT "
    "NULL, origin INTEGER NOT NULL, value BLOB, metadata TEXT, expiration INTEGER, PRIMARY KEY (keyspace, key, "
    "seq)) WITHOUT ROWID",
)


class PersistError(ValueError):
    """A ``--persist`` file the server cannot use; the message names the file and why, and the file is untouched."""


@attrs.frozen(kw_only=True)
class Saved:
    """What a state file holds."""

    settings: dict[str, Any]
    """The simulation it belongs to: ``edges``, ``seed``, ``max_ms``."""
    account: str | None = None
    clock_ms: int = 0
    """The simulation's virtual time when the file was last written."""
    next_seq: int = 1
    created: int = 0
    """How many namespace ids the account had drawn."""
    namespaces: tuple[Namespace, ...] = ()
    versions: list[tuple[str, str, list[Version]]] = attrs.field(factory=list)
    partitions: dict[str, Any] | None = None
    """``Partitions.snapshot()`` as it was (``None``: never saved)."""
    faults: dict[str, bool] | None = None
    """The ``Faults`` switches, by field name."""
    """``(keyspace, key, versions oldest first)`` for every key held."""

    def mismatch(self, settings: dict[str, Any]) -> str | None:
        """Why a simulation with ``settings`` cannot continue from this file (``None``: it can)."""
        names = {"edges": "--edges", "seed": "--seed", "max_ms": "--max-delay (ms)"}
        for name, flag in names.items():
            if self.settings.get(name) != settings[name]:
                return f"it was written with {flag} {_shown(self.settings.get(name))}, not {_shown(settings[name])}"
        return None


def _shown(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


@attrs.frozen
class Put:
    """A version stored, to be written; ``oldest`` is the oldest version the store still held of its key then
    (older ones in the file are garbage)."""

    keyspace: str
    key: str
    version: Version
    oldest: int


@attrs.frozen
class Drop:
    """A namespace forgotten with all its data."""

    keyspace: str


Change = Put | Drop


def _refuse(path: Path, why: str) -> PersistError:
    return PersistError(f"--persist {path}: {why}; the file was left as it is")


def _check_header(path: Path) -> None:
    """Refuse a file that is not SQLite, or whose size says it was cut short, from its bytes alone."""
    with open(path, "rb") as file:
        header = file.read(100)
    if len(header) < 100 or not header.startswith(_MAGIC):
        raise _refuse(path, "not a SQLite database (so not a workersim state file)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size = path.stat().st_size
    # The page count in the header is valid when its change counter matches the one the count was written with.
    counted = header[24:28] == header[92:96] and pages > 0
    # A crash in the middle of a checkpoint can leave the file shorter than its header says; the write-ahead log
    # beside it still holds those pages, and SQLite's own check below judges the file then.
    wal = path.with_name(path.name + "-wal")
    logged = wal.exists() and wal.stat().st_size > 0
    if page_size < 512 or (not logged and (size % page_size or (counted and size < pages * page_size))):
        raise _refuse(path, f"the SQLite file is damaged or cut short ({size} bytes)")


def load(path: Path) -> Saved:
    """Read a state file without changing it; ``PersistError`` if it cannot be one."""
    _check_header(path)
    # Reading a WAL-mode file makes SQLite create its shared-memory index beside it: take away what was not there.
    beside = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    new = [extra for extra in beside if not extra.exists()]
    try:
        return _open_and_read(path)
    finally:
        for extra in new:
            extra.unlink(missing_ok=True)


def _open_and_read(path: Path) -> Saved:
    try:
        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise _refuse(path, f"cannot be opened: {error}") from None
    try:
        return _read(path, connection)
    except sqlite3.DatabaseError as error:
        raise _refuse(path, f"the SQLite file is damaged: {error}") from None
    finally:
        connection.close()


def _read(path: Path, connection: sqlite3.Connection) -> Saved:
    [[check]] = connection.execute("PRAGMA quick_check").fetchall()
    if check != "ok":
        raise _refuse(path, f"the SQLite file is damaged: {check}")
    tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "workersim_schema" not in tables:
        raise _refuse(path, "a SQLite database, but not a workersim state file (it has no workersim_schema table)")
    rows = connection.execute("SELECT version FROM workersim_schema").fetchall()
    if len(rows) != 1 or not isinstance(rows[0][0], int):
        raise _refuse(path, "its workersim_schema table is damaged")
    version = rows[0][0]
    if version > SCHEMA_VERSION:
        raise _refuse(path, f"written by a newer workersim (schema {version}; this one reads up to {SCHEMA_VERSION})")
    settings = {name: json.loads(value) for name, value in connection.execute("SELECT name, value FROM settings")}
    namespaces = tuple(
        Namespace(ns_id, title, keyspace, jurisdiction=jurisdiction)
        for ns_id, title, keyspace, jurisdiction in connection.execute(
            "SELECT id, title, keyspace, jurisdiction FROM namespaces ORDER BY position"
        )
    )
    cursor = connection.execute(
        "SELECT keyspace, key, seq, time, origin, value, metadata, expiration FROM versions ORDER BY keyspace, key, seq"
    )
    versions = [
        (keyspace, key, [Version(*row[2:]) for row in group])
        for (keyspace, key), group in itertools.groupby(cursor, key=lambda row: (row[0], row[1]))
    ]
    return Saved(
        settings={name: settings.get(name) for name in ("edges", "seed", "max_ms")},
        account=settings.get("account"),
        clock_ms=int(settings.get("clock_ms", 0)),
        next_seq=int(settings.get("next_seq", 1)),
        created=int(settings.get("created", 0)),
        namespaces=namespaces,
        versions=versions,
        partitions=settings.get("partitions"),
        faults=settings.get("faults"),
    )


def bulk_pairs(saved: Saved, unix_now: float) -> dict[str, list[dict[str, Any]]]:
    """Each namespace's live data as the REST API's bulk-write pairs (``key``, ``value``, ``base64`` when the value
    is not UTF-8 text, ``metadata``, ``expiration``), by title: a REST namespace's title, or a binding's name. The
    newest version of each key counts, unless it is a delete or expired at ``unix_now``."""
    titles = {namespace.keyspace: namespace.title for namespace in saved.namespaces}
    exported: dict[str, list[dict[str, Any]]] = {}
    for keyspace, key, versions in saved.versions:
        newest = versions[-1]
        if newest.value is None or (newest.expiration is not None and newest.expiration <= unix_now):
            continue
        pair: dict[str, Any] = {"key": key}
        try:
            pair["value"] = newest.value.decode("utf-8")
        except UnicodeDecodeError:
            pair["value"] = base64.b64encode(newest.value).decode("ascii")
            pair["base64"] = True
        if newest.metadata is not None:
            pair["metadata"] = json.loads(newest.metadata)
        if newest.expiration is not None:
            pair["expiration"] = newest.expiration
        exported.setdefault(titles.get(keyspace, keyspace), []).append(pair)
    return exported


class StateFile:
    """A state file open for writing: ``commit`` writes one batch of changes as one transaction.

    A commit may run in a worker thread (one at a time): the connection is not tied to the thread that opened it.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection, lock: int) -> None:
        self.path = path
        self._connection = connection
        self._lock = lock

    @classmethod
    def open(cls, path: Path, settings: dict[str, Any]) -> tuple[StateFile, Saved | None]:
        """Open ``path`` for a simulation with ``settings`` (``edges``, ``seed``, ``max_ms``), creating it (and its
        folder) if missing; also what it held. ``PersistError`` for a file that cannot be used, or that another
        server has open."""
        saved = None
        lock = None
        try:
            if path.exists() or path.is_symlink():
                lock, saved = _existing(path, settings)
            else:
                _make_folder(path)
            try:
                connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                lock = _claim(path) if lock is None else lock
                connection.execute("PRAGMA journal_mode = WAL")
                # FULL: a commit reaches the disk before it returns, so an acknowledged write survives a power cut.
                connection.execute("PRAGMA synchronous = FULL")
                if saved is None:
                    with _transaction(connection):
                        for statement in _SCHEMA:
                            connection.execute(statement)
                        connection.execute("INSERT INTO workersim_schema VALUES (?)", (SCHEMA_VERSION,))
                        _set(connection, settings)
            except sqlite3.Error as error:
                raise PersistError(f"--persist {path} cannot be written: {error}") from None
        except BaseException:
            if lock is not None:
                os.close(lock)
            raise
        return cls(path, connection, lock), saved

    def commit(
        self, changes: Sequence[Change], settings: dict[str, Any], namespaces: Iterable[Namespace] | None = None
    ) -> None:
        """Write ``changes`` in order, the ``settings`` given, and (when not ``None``) the REST namespaces as
        they now are, all in one transaction."""
        connection = self._connection
        with _transaction(connection):
            for change in changes:
                if isinstance(change, Put):
                    version = change.version
                    connection.execute(
                        "INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            change.keyspace,
                            change.key,
                            version.seq,
                            version.time,
                            version.origin,
                            version.value,
                            version.metadata,
                            version.expiration,
                        ),
                    )
                    connection.execute(
                        "DELETE FROM versions WHERE keyspace = ? AND key = ? AND seq < ?",
                        (change.keyspace, change.key, change.oldest),
                    )
                else:
                    connection.execute("DELETE FROM versions WHERE keyspace = ?", (change.keyspace,))
            if namespaces is not None:
                connection.execute("DELETE FROM namespaces")
                connection.executemany(
                    "INSERT INTO namespaces VALUES (?, ?, ?, ?, ?)",
                    ((i, ns.id, ns.title, ns.keyspace, ns.jurisdiction) for i, ns in enumerate(namespaces)),
                )
            _set(connection, settings)

    def close(self) -> None:
        """Close the file (a checkpoint folds the write-ahead log into it) and let other servers open it."""
        try:
            self._connection.close()
        finally:
            os.close(self._lock)


def _existing(path: Path, settings: dict[str, Any]) -> tuple[int, Saved]:
    """Lock and read an existing file, and check that a simulation with ``settings`` can continue from it."""
    if path.is_dir():
        raise PersistError(f"--persist {path} is a folder; give a file name")
    lock = _claim(path)
    try:
        saved = load(path)
        why = saved.mismatch(settings)
        if why is not None:
            raise _refuse(path, f"{why}; start with the same settings, or use another file")
    except BaseException:
        os.close(lock)
        raise
    return lock, saved


def _make_folder(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PersistError(f"--persist {path}: cannot create its folder: {error.strerror or error}") from None


def _claim(path: Path) -> int:
    """Hold an advisory lock on ``path`` while the server runs (independent of SQLite's own locks): two servers
    writing one file would each overwrite the other's state."""
    try:
        lock = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise PersistError(f"--persist {path} cannot be opened: {error.strerror or error}") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        raise _refuse(path, "another workersim server is using it; stop that one first, or use another file") from None
    return lock


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _set(connection: sqlite3.Connection, settings: dict[str, Any]) -> None:
    connection.executemany(
        "INSERT OR REPLACE INTO settings VALUES (?, ?)", ((name, json.dumps(value)) for name, value in settings.items())
    )

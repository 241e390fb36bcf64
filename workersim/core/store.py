"""The one operation path: every KV operation, from the binding or the REST API, is validated, admitted, applied
and recorded here, in that order.

The methods' parameters can be given by position, so the binding can hand a call to the conductor as a method and
its arguments, with no ``functools.partial`` built per call.

Each method takes the virtual time ``now`` (milliseconds) and the place it runs at (an edge's index, or
``CENTRAL`` for the REST API's central store), applies the operation to the replicas, appends its typed row to
the history and returns what the caller answers with. A read or a write returns its version as the replicas
hold it, a plain ``Stored`` tuple (fields by the index constants of ``versions``; ``Version`` names them), so it
makes no object to hand over (a list page, its versions likewise). A call that breaks a rule or meets a fault records a
``KVRejected`` row and raises, having changed no stored data. The callers keep only what is theirs: the binding
parses JavaScript-style options and the REST API parses HTTP; the trio layer decides when each call runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import attrs

from . import jsontext
from .errors import KVError
from .history import History
from .limits import Limits
from .replicas import Cluster, Keyspace
from .rows import (
    CENTRAL_EDGE,
    KVBulkRead,
    KVList,
    KVRejected,
    error_text,
    jsonable_target,
    pack_read,
    pack_write,
)
from .validation import (
    check_backend_key,
    check_bulk_size,
    check_cache_ttl,
    check_key_length,
    check_put,
)
from .versions import CENTRAL, EXPIRATION, METADATA, SEQ, VALUE, Stored, live_at

T = TypeVar("T")

KEY_CHECKED = True
"""What the binding passes as ``key_checked`` to ``put``, ``read`` and ``delete``: it has checked the key by the
client's rules (``validation.check_key``, workerd's), which refuse every key the backend's rules refuse (a test
holds them to that), so the backend's check, which could not fail, is not made again: a call less on every
operation. Other callers (the REST API) leave it ``False``."""

NON_JSON = "At least one of the requested keys corresponds to a non-json value"


@attrs.frozen(kw_only=True)
class PutItem:
    """One write of a batch (the REST API's bulk write): the value and its options, not yet checked."""

    key: str
    value: bytes
    metadata: str | None = None
    """Compact JSON text."""
    expiration: int | None = None
    expiration_ttl: int | None = None


@attrs.define
class Store:
    """The cluster's data behind one history and one set of limits; see the module's docstring."""

    cluster: Cluster
    limits: Limits
    history: History
    _places: tuple[str, ...] = attrs.field(init=False, repr=False)
    """The names rows give to the places: every edge's, by index, then ``"central"`` (at ``CENTRAL``, -1)."""

    def __attrs_post_init__(self) -> None:
        self._places = (*self.cluster.edges, CENTRAL_EDGE)
        assert self._places[CENTRAL] == CENTRAL_EDGE

    def place(self, origin: int) -> str:
        """The name rows give to ``origin``: an edge's name, or ``"central"``."""
        return self._places[origin]

    def _stamp(self, now: int, ns: str, op: str, origin: int, request: str | None) -> dict[str, Any]:
        """The fields every KV row of an operation applied at ``now`` shares (applied at one instant)."""
        seconds = now / 1000
        return {
            "id": self.history.recorded,
            "edge": self._places[origin],
            "ns": ns,
            "op": op,
            "request": request,
            "invoke": seconds,
            "complete": seconds,
        }

    def _rejected(
        self,
        space: str,
        op: str,
        subject: str,
        target: Any,
        error: BaseException,
        origin: int,
        now: int,
        request: str | None,
    ) -> KVRejected:
        row = KVRejected(
            **self._stamp(now, space, op, origin, request),
            subject=subject,
            target=jsonable_target(target),
            error=error_text(error),
        )
        self.history.append(row)
        return row

    def reject(
        self,
        now: int,
        ns: str,
        op: str,
        subject: str,
        target: Any,
        error: BaseException,
        *,
        origin: int,
        request: str | None = None,
    ) -> NoReturn:
        """Record that a call was refused before it reached the store (a client-side mistake), then raise
        ``error``. ``subject`` says what ``target`` is: ``"key"``, ``"keys"`` or ``"prefix"``."""
        self._rejected(ns, op, subject, target, error, origin, now, request)
        raise error

    def _guard(
        self,
        ns: str,
        op: str,
        subject: str,
        target: Any,
        origin: int,
        now: int,
        request: str | None,
        check: Callable[[], T],
    ) -> T:
        try:
            return check()
        except (KVError, TypeError) as error:
            self.reject(now, ns, op, subject, target, error, origin=origin, request=request)

    # --- writes ----------------------------------------------------------------------------------------------

    def put(
        self,
        now: int,
        ns: str,
        key: str,
        value: bytes,
        origin: int,
        size: int | None = None,
        metadata: str | None = None,
        expiration: int | None = None,
        expiration_ttl: int | None = None,
        request: str | None = None,
        key_checked: bool = False,
    ) -> Stored:
        """Write ``value`` under ``key``. ``size`` is the value's full length when ``value`` was cut short while
        being read (a streamed value over the limit), so the size error names the real length. ``key_checked``: see
        ``KEY_CHECKED``. Returns the version made."""
        cluster = self.cluster
        try:
            expires = check_put(
                key, metadata, expiration, expiration_ttl, len(value) if size is None else size,
                cluster.epoch_ms + now, self.limits, key_checked=key_checked,
            )  # fmt: skip
        except (KVError, TypeError) as error:
            self.reject(now, ns, "put", "key", key, error, origin=origin, request=request)
        if cluster.faults.engaged or cluster.cache is not None:  # else nothing can refuse it (see _admit)
            self._admit(ns, "PUT", "put", (key,), origin, now, request)
        space = cluster.namespaces.get(ns)
        if space is None:
            space = cluster.namespace(ns)
        return self._write(space, key, value, metadata, expires, origin, now, request)

    def put_many(
        self, now: int, ns: str, items: Sequence[PutItem], *, origin: int, request: str | None = None
    ) -> list[Stored]:
        """Write every item, or none: all are checked (an error names the item as ``body[i]``) and admitted
        first, then all are written at ``now``. Returns the versions made, in order."""
        keys = [item.key for item in items]

        def check() -> list[int | None]:
            expirations = []
            unix_ms = self.cluster.unix_ms(now)
            for index, item in enumerate(items):
                try:
                    expirations.append(
                        check_put(
                            item.key,
                            item.metadata,
                            item.expiration,
                            item.expiration_ttl,
                            len(item.value),
                            unix_ms,
                            self.limits,
                        )
                    )
                except KVError as error:
                    raise KVError(error.method, error.status, f"body[{index}]: {error.detail}") from None
            return expirations

        expirations = self._guard(ns, "put", "keys", keys, origin, now, request, check)
        self._admit(ns, "PUT", "put", keys, origin, now, request)
        space = self.cluster.namespace(ns)
        return [
            self._write(space, item.key, item.value, item.metadata, expires, origin, now, request)
            for item, expires in zip(items, expirations, strict=True)
        ]

    def delete(
        self, now: int, ns: str, key: str, origin: int, request: str | None = None, key_checked: bool = False
    ) -> Stored:
        """Delete ``key`` (a missing key is fine): a tombstone version that propagates like a write, which it
        returns. ``key_checked``: see ``KEY_CHECKED``."""
        if not key_checked:
            self._guard(
                ns, "delete", "key", key, origin, now, request, lambda: check_backend_key("DELETE", key, self.limits)
            )
        self._admit(ns, "DELETE", "delete", (key,), origin, now, request)
        return self._write(self.cluster.namespace(ns), key, None, None, None, origin, now, request)

    def delete_many(
        self, now: int, ns: str, keys: Sequence[str], *, origin: int, request: str | None = None
    ) -> list[Stored]:
        """Delete every key, or none (all are checked and admitted first); returns the tombstones made."""

        def check() -> None:
            for index, key in enumerate(keys):
                try:
                    check_backend_key("DELETE", key, self.limits)
                except KVError as error:
                    raise KVError(error.method, error.status, f"body[{index}]: {error.detail}") from None

        self._guard(ns, "delete", "keys", list(keys), origin, now, request, check)
        self._admit(ns, "DELETE", "delete", keys, origin, now, request)
        space = self.cluster.namespace(ns)
        return [self._write(space, key, None, None, None, origin, now, request) for key in keys]

    def _admit(
        self, ns: str, method: str, op: str, keys: Sequence[str], origin: int, now: int, request: str | None
    ) -> None:
        """Refuse the writes if a fault stops them, or their writer is cut off from the central store (which
        only the edge-cache model writes through)."""
        cluster = self.cluster
        try:
            cluster.faults.admit(method, ns, keys, now, cut_off=cluster.cut_off(origin, now))
        except KVError as error:
            subject, target = ("key", keys[0]) if len(keys) == 1 else ("keys", list(keys))
            self.reject(now, ns, op, subject, target, error, origin=origin, request=request)

    def _write(
        self,
        space: Keyspace,
        key: str,
        value: bytes | None,
        metadata: str | None,
        expiration: int | None,
        origin: int,
        now: int,
        request: str | None,
    ) -> Stored:
        version = space.write(key, value, origin, now, metadata, expiration)
        seconds = now / 1000
        op = "put" if value is not None else "delete"
        self.history.record(
            pack_write(
                self._places[origin],
                op,
                seconds,
                seconds,
                request,
                space.name,
                key,
                value,
                metadata,
                expiration,
                version[SEQ],
            )
        )
        return version

    # --- reads -----------------------------------------------------------------------------------------------

    def get(
        self,
        now: int,
        ns: str,
        key: str,
        edge: int,
        op: str = "get",
        cache_ttl: int | None = None,
        request: str | None = None,
    ) -> Stored | None:
        """Read ``key`` at ``edge`` (``CENTRAL``: the central store) and record it as ``op``; return the live
        version read (``None`` when the key is missing, deleted or expired there)."""
        return self.read(now, ns, key, edge, op, cache_ttl, request)[1]

    def read(
        self,
        now: int,
        ns: str,
        key: str,
        edge: int,
        op: str = "get",
        cache_ttl: int | None = None,
        request: str | None = None,
        key_checked: bool = False,
    ) -> tuple[Stored | None, Stored | None]:
        """Like ``get``, returning both the version the read saw (a delete or an expired write included; ``None``
        when nothing had arrived) and the live version it answers with. ``key_checked``: see ``KEY_CHECKED``."""
        try:
            if not key_checked:
                check_backend_key("GET", key, self.limits)
            if cache_ttl is not None:
                check_cache_ttl("GET", cache_ttl, self.limits)
        except (KVError, TypeError) as error:
            self.reject(now, ns, op, "key", key, error, origin=edge, request=request)
        cluster = self.cluster
        space = cluster.namespaces.get(ns)
        if space is None:
            space = cluster.namespace(ns)
        try:
            version = space.find(key, None if edge == CENTRAL else edge, now, cache_ttl)
        except KVError as error:
            self.reject(now, ns, op, "key", key, error, origin=edge, request=request)
        seconds = now / 1000
        if version is None:
            self.history.record(pack_read(self._places[edge], op, seconds, seconds, request, ns, key, None, None, None))
            return None, None
        live = live_at(version, cluster.epoch_ms + now)
        self.history.record(
            pack_read(
                self._places[edge],
                op,
                seconds,
                seconds,
                request,
                ns,
                key,
                version[VALUE] if live else None,
                version[METADATA] if live else None,
                version[SEQ],
            )
        )
        return version, version if live else None

    def get_many(
        self,
        now: int,
        ns: str,
        keys: Sequence[str],
        edge: int,
        kind: str,
        with_metadata: bool,
        with_expiration: bool = False,
        cache_ttl: int | None = None,
        op: str | None = None,
        request: str | None = None,
    ) -> dict[str, Any]:
        """Read ``keys`` at once as ``text`` or parsed ``json``: per key the value, ``{"value", "metadata"
        [, "expiration"]}`` with metadata, or ``None`` when missing. Each key is checked, read and parsed before
        the next is looked at, so the first problem in request order is the one reported; then the total size
        is checked. Errors are the backend's ``GET_BULK`` ones."""
        op = op or ("getWithMetadata" if with_metadata else "get")
        space = self.cluster.namespace(ns)
        place = None if edge == CENTRAL else edge
        unix_ms = self.cluster.unix_ms(now)
        values: dict[str, Any] = {}
        seen: dict[str, bytes | None] = {}
        versions: dict[str, int | None] = {}
        total = 0
        try:
            for key in keys:
                if key in versions:
                    continue
                check_backend_key("GET_BULK", key, self.limits)
                check_cache_ttl("GET_BULK", cache_ttl, self.limits)
                version = space.find(key, place, now, cache_ttl=cache_ttl, method="GET_BULK")
                versions[key] = None if version is None else version[SEQ]
                if version is None or version[VALUE] is None or not live_at(version, unix_ms):
                    values[key] = seen[key] = None
                    continue
                value = version[VALUE]
                seen[key] = value
                text = value.decode("utf-8", "replace")
                total += len(text.encode("utf-16-le")) // 2  # the backend counts JS string length: UTF-16 units
                values[key] = _bulk_value(text, version, kind, with_metadata, with_expiration)
            check_bulk_size(total, self.limits)
        except KVError as error:
            self.reject(now, ns, op, "keys", list(dict.fromkeys(keys)), error, origin=edge, request=request)
        self.history.append(
            KVBulkRead(
                **self._stamp(now, ns, op, edge, request),
                keys=tuple(versions),
                value=seen,
                version=versions,
            )
        )
        return values

    def list(
        self,
        now: int,
        ns: str,
        edge: int,
        prefix: str,
        after: str | None,
        limit: int,
        request: str | None = None,
    ) -> tuple[list[tuple[str, Stored]], bool]:
        """A page of up to ``limit`` live keys with ``prefix`` after key ``after``, as ``edge`` sees them, and
        whether it is the last page (``limit`` is already checked: the binding and the REST API word that
        error differently)."""
        self._guard(
            ns, "list", "prefix", prefix, edge, now, request, lambda: check_key_length("GET", prefix, self.limits)
        )
        space = self.cluster.namespace(ns)
        found, complete = space.list(None if edge == CENTRAL else edge, now, prefix=prefix, after=after, limit=limit)
        self.history.append(
            KVList(
                **self._stamp(now, ns, "list", edge, request),
                prefix=prefix,
                names=tuple(name for name, _ in found),
                list_complete=complete,
            )
        )
        return found, complete


def _bulk_value(text: str, version: Stored, kind: str, with_metadata: bool, with_expiration: bool) -> Any:
    value: Any = text
    if kind == "json":
        try:
            value = jsontext.parse(text)
        except ValueError:
            raise KVError("GET_BULK", 400, NON_JSON) from None
    if not with_metadata:
        return value
    metadata, expiration = version[METADATA], version[EXPIRATION]
    result = {"value": value, "metadata": None if metadata is None else json.loads(metadata)}
    if with_expiration and expiration is not None:
        result["expiration"] = expiration
    return result

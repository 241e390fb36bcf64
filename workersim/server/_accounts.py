"""Accounts, their KV namespaces and their credentials: the REST API's model, without HTTP.

A namespace is an id (32 hex digits), a title and the name of the cluster keyspace that holds its data. The
simulation's own namespaces (its KV bindings) belong to the first account, titled by binding name, with an id
derived from that name alone; namespaces created over REST get ids derived from the seed, the account and a
counter, so the same requests give the same ids in every run.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ._errors import AUTHENTICATION, DUPLICATE_TITLE, ApiError, bad_request, namespace_not_found

JURISDICTIONS = ("eu", "fedramp", "us")
ORDERS = ("id", "title")
DIRECTIONS = ("asc", "desc")
MAX_PER_PAGE = 1000
MAX_TITLE = 512
_CHALLENGE = (("www-authenticate", 'Bearer realm="workersim"'),)


def binding_namespace_id(binding: str) -> str:
    """The id under which the REST API shows the simulation's namespace bound as ``binding``.

    It depends on the name alone, so it is the same in every run and on every machine.
    """
    return hashlib.sha256(f"workersim binding {binding}".encode()).hexdigest()[:32]


@attrs.frozen
class Namespace:
    """One KV namespace of an account."""

    id: str
    title: str
    keyspace: str
    """The name of the cluster keyspace that holds the data (``sim.cluster.namespace(keyspace)``)."""
    binding: str | None = None
    """The simulation's binding name when this is one of the simulation's own namespaces."""
    jurisdiction: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The namespace as the API shows it."""
        shown: dict[str, Any] = {"id": self.id, "title": self.title, "supports_url_encoding": True}
        if self.jurisdiction is not None:
            shown["jurisdiction"] = self.jurisdiction
        return shown


def _check_title(title: str) -> None:
    if not title.strip():
        raise bad_request("title must not be empty")
    if len(title) > MAX_TITLE:
        raise bad_request(f"title must be at most {MAX_TITLE} characters, got {len(title)}")


@attrs.define
class Account:
    """One account: its credentials and its namespaces, in creation order."""

    id: str
    token: str = attrs.field(repr=False)
    max_namespaces: int
    seed: int
    namespaces: dict[str, Namespace] = attrs.field(factory=dict)
    _created: int = 0

    def namespace(self, namespace_id: str) -> Namespace:
        """The namespace with ``namespace_id``; a 404 if the account has none."""
        found = self.namespaces.get(namespace_id)
        if found is None:
            raise namespace_not_found(namespace_id)
        return found

    @property
    def created(self) -> int:
        """How many namespace ids were drawn: the counter the next fresh id continues from."""
        return self._created

    def adopt(self, namespaces: Iterable[Namespace], created: int) -> None:
        """Take back the namespaces an earlier run created (a server restarted on its ``--persist`` file), and
        the counter their ids came from, so no id is ever drawn twice."""
        for namespace in namespaces:
            self.namespaces[namespace.id] = namespace
        self._created = max(self._created, created)

    def bind(self, binding: str) -> Namespace:
        """Show the simulation's namespace ``binding`` as a namespace of this account, titled by its name."""
        namespace = Namespace(binding_namespace_id(binding), binding, binding, binding=binding)
        self._check_room(namespace.title)
        self.namespaces[namespace.id] = namespace
        return namespace

    def create(self, title: str, jurisdiction: str | None = None) -> Namespace:
        """A new namespace titled ``title`` with a fresh id and its own, empty keyspace."""
        _check_title(title)
        if jurisdiction is not None and jurisdiction not in JURISDICTIONS:
            raise bad_request(f"jurisdiction must be one of {', '.join(JURISDICTIONS)}, got {jurisdiction!r}")
        self._check_room(title)
        namespace_id = self._fresh_id()
        namespace = Namespace(namespace_id, title, namespace_id, jurisdiction=jurisdiction)
        self.namespaces[namespace_id] = namespace
        return namespace

    def rename(self, namespace_id: str, title: str) -> Namespace:
        """Give a namespace a new title; its id, keyspace and binding stay the same."""
        namespace = self.namespace(namespace_id)
        _check_title(title)
        if title != namespace.title:
            self._check_unique(title)
        renamed = self.namespaces[namespace_id] = attrs.evolve(namespace, title=title)
        return renamed

    def delete(self, namespace_id: str) -> Namespace:
        """Remove a namespace. The simulation's own namespaces cannot be removed: its workers use them."""
        namespace = self.namespace(namespace_id)
        if namespace.binding is not None:
            raise bad_request(
                f"namespace {namespace_id} is the simulation's KV binding {namespace.binding!r} and cannot be "
                "deleted while the simulation runs"
            )
        del self.namespaces[namespace_id]
        return namespace

    def page(self, page: int, per_page: int, order: str | None, direction: str | None) -> list[Namespace]:
        """Page ``page`` (from 1) of ``per_page`` namespaces, in creation order unless ``order`` says
        otherwise; an empty list past the end."""
        if page < 1:
            raise bad_request(f"page must be at least 1, got {page}")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise bad_request(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}")
        if order is not None and order not in ORDERS:
            raise bad_request(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
        if direction is not None and direction not in DIRECTIONS:
            raise bad_request(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
        listed = list(self.namespaces.values())
        if order is not None:
            listed.sort(key=lambda ns: getattr(ns, order))
        if direction == "desc":
            listed.reverse()
        start = (page - 1) * per_page
        return listed[start : start + per_page]

    def _check_room(self, title: str) -> None:
        self._check_unique(title)
        if len(self.namespaces) >= self.max_namespaces:
            raise bad_request(f"this account already has the maximum of {self.max_namespaces} namespaces")

    def _check_unique(self, title: str) -> None:
        if any(ns.title == title for ns in self.namespaces.values()):
            message = f"a namespace with this account ID and title already exists: {title!r}"
            raise ApiError(400, DUPLICATE_TITLE, message)

    def _fresh_id(self) -> str:
        taken = {ns.keyspace for ns in self.namespaces.values()} | set(self.namespaces)
        while True:
            self._created += 1
            text = f"workersim namespace {self.seed} {self.id} {self._created}"
            namespace_id = hashlib.sha256(text.encode()).hexdigest()[:32]
            if namespace_id not in taken:
                return namespace_id


def _credential(text: str, what: str) -> str:
    if not text or not text.isascii() or not text.isprintable() or text != text.strip():
        raise ValueError(f"{what} must be non-empty printable ASCII without surrounding spaces")
    return text


@attrs.define
class Accounts:
    """Every account the API serves, and the check that a request may act on one of them."""

    seed: int
    max_namespaces: int
    _by_id: dict[str, Account] = attrs.field(factory=dict)

    def add(self, account_id: str, token: str, *, bindings: Iterable[str] = ()) -> Account:
        """Add an account reached with ``token`` (as a Bearer token, or as X-Auth-Key with any X-Auth-Email),
        showing the simulation's namespaces ``bindings`` as its own."""
        _credential(account_id, "an account id")
        _credential(token, "a token")
        if account_id in self._by_id:
            raise ValueError(f"account {account_id!r} already exists")
        if any(hmac.compare_digest(token, other.token) for other in self._by_id.values()):
            raise ValueError("each account needs its own token")
        account = self._by_id[account_id] = Account(account_id, token, self.max_namespaces, self.seed)
        for binding in bindings:
            account.bind(binding)
        return account

    def account(self, account_id: str) -> Account:
        """The account ``account_id`` (``KeyError`` if there is none)."""
        return self._by_id[account_id]

    def authenticate(self, headers: Mapping[str, str], account_id: str) -> Account:
        """The account ``account_id`` if ``headers`` (lower-case names) carry credentials for it.

        No credentials or wrong ones are a 401; good credentials for another account are a 403 that says
        nothing about that account. Tokens are compared in constant time and never echoed.
        """
        email, key = headers.get("x-auth-email"), headers.get("x-auth-key")
        if email is not None or key is not None:
            if not email or not key:
                raise _unauthenticated("X-Auth-Email and X-Auth-Key must be sent together")
            secret = key
        else:
            authorization = headers.get("authorization")
            if authorization is None:
                raise _unauthenticated(
                    "no credentials: send 'Authorization: Bearer <token>', or X-Auth-Email and X-Auth-Key"
                )
            scheme, _, secret = authorization.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise _unauthenticated("the Authorization header must be 'Bearer <token>'")
        owner = self._owner(secret.strip())
        if owner is None:
            raise _unauthenticated("invalid credentials")
        if owner.id != account_id:
            raise ApiError(403, AUTHENTICATION, "Authentication error: these credentials may not access this account")
        return owner

    def _owner(self, secret: str) -> Account | None:
        presented = secret.encode("latin-1", "replace")
        owner = None
        for account in self._by_id.values():
            # Look at every account, whatever matches, so the time taken says nothing about the tokens.
            if hmac.compare_digest(presented, account.token.encode("ascii")):
                owner = account
        return owner


def _unauthenticated(why: str) -> ApiError:
    return ApiError(401, AUTHENTICATION, f"Authentication error: {why}", _CHALLENGE)

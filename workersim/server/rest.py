"""The Cloudflare v4 Workers KV REST API as a raw ASGI app over a ``Simulation``.

Paths are ``[/client/v4]/accounts/<account>/storage/kv/namespaces[/<namespace>[/...]]`` (both with and without
the ``/client/v4`` prefix, since the SDK prepends whatever base URL it is given). Routing splits the raw path on
``/`` before percent-decoding each segment, so a key may hold ``/``, ``?``, ``#``, ``%`` and the rest. Every JSON
answer is Cloudflare's envelope ``{success, errors, messages, result[, result_info]}``; a value is answered as
raw bytes. Requests need credentials (``Authorization: Bearer <token>``, or ``X-Auth-Email`` and
``X-Auth-Key``), checked before any body is read. One log line per request gives method, path and status,
never the query string or a header.

The simulation's own namespaces (its KV bindings) appear as namespaces of the first account, titled by binding
name, with the ids of ``binding_namespace_id``, and share the workers' keyspaces: a REST write reaches the
binding like any other central write. They can be renamed (the title changes; workers keep using them) but not
deleted. Namespaces created over REST get fresh ids and keyspaces of their own; deleting one makes its data
unreachable (ids are never reused).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..core.errors import KVError
from ..sim.simulation import engine
from ._accounts import Account, Accounts, Namespace, binding_namespace_id
from ._asgi import BodyPacing, ClientGone, Receive, Reply, Request, Scope, Send, failure, lifespan, success
from ._errors import BAD_REQUEST, METHOD_NOT_ALLOWED, NO_ROUTE, ApiError, bad_request, from_kv
from ._kv_api import SMALL_BODY, Call, KVEndpoints

if TYPE_CHECKING:
    from ..sim.simulation import Simulation

__all__ = ["API_PREFIX", "Accounts", "RestApp", "binding_namespace_id"]

API_PREFIX = "/client/v4/"
"""Where clients point their base URL (``http://host:port/client/v4``)."""
BULK_BODY = 100 * 1024 * 1024
"""The bound on a bulk write's body (Cloudflare's: requests under 100 MB)."""

Handler = Callable[[Call], Awaitable[Reply]]
log = logging.getLogger("workersim.rest")


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    try:
        # Python clients send floats for integer parameters ("per_page=20.0").
        return int(float(text))
    except (ValueError, OverflowError):
        raise bad_request(f"{name} must be a whole number, got {text!r}") from None


class RestApp:
    """The REST API over ``sim`` for ``accounts``; an ASGI application.

    All reads and writes go through the simulation's engine, so they are ordered by its conductor and recorded
    in its history; the simulation must be running (``async with sim:``) while requests arrive. Request bodies are
    read as ``pacing`` says.
    """

    def __init__(
        self,
        sim: Simulation,
        accounts: Accounts,
        *,
        bulk_body_limit: int = BULK_BODY,
        pacing: BodyPacing = BodyPacing(),  # noqa: B008 - a frozen value, shared safely
    ) -> None:
        self._engine = engine(sim)
        self.accounts = accounts
        self._kv = KVEndpoints(self._engine, bulk_body_limit)
        self._pacing = pacing

    @classmethod
    def for_simulation(
        cls,
        sim: Simulation,
        account_id: str,
        token: str,
        *,
        pacing: BodyPacing = BodyPacing(),  # noqa: B008 - a frozen value, shared safely
    ) -> RestApp:
        """The API for one account reached with ``token``, owning the simulation's KV bindings."""
        accounts = Accounts(sim.seed, sim.limits.namespaces)
        accounts.add(account_id, token, bindings=sim.kv_namespaces)
        return cls(sim, accounts, pacing=pacing)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            # Refused before it is accepted, which the server answers with a 403: the API speaks HTTP only.
            await send({"type": "websocket.close", "code": 1003, "reason": "the KV REST API serves HTTP only"})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = None
        try:
            request = Request.from_scope(scope, receive, self._pacing)
            reply = await self._answer(request)
        except ApiError as error:
            reply = failure(error)
        except KVError as error:  # a rule checked at the moment of the write, such as an expiration
            reply = failure(from_kv(error))
        except ClientGone:
            return
        except Exception:
            log.exception("internal error answering %s %s", scope["method"], _shown_path(scope))
            reply = failure(ApiError(500, BAD_REQUEST, "internal error in workersim"))
        if request is None or request.unread_body():
            reply = reply.closing()
        log.info("%s %s %d", scope["method"], _shown_path(scope), reply.status)
        await reply.send(send)

    async def _answer(self, request: Request) -> Reply:
        segments = request.segments
        if segments[:2] == ("client", "v4"):
            segments = segments[2:]
        if len(segments) < 2 or segments[0] != "accounts":
            raise _no_route()
        account = self.accounts.authenticate(request.headers, segments[1])
        if segments[2:5] != ("storage", "kv", "namespaces"):
            raise _no_route()
        rest = segments[5:]
        if rest and rest[-1] == "" and rest[-2:-1] not in (("values",), ("metadata",)):
            rest = rest[:-1]  # a trailing slash is harmless, except where it ends in an (empty) key
        methods, call = self._route(request, account, rest)
        handler = methods.get(request.method)
        if handler is None:
            allowed = ", ".join(sorted(methods))
            raise ApiError(
                405, METHOD_NOT_ALLOWED, f"Method not allowed for this route; use {allowed}", (("allow", allowed),)
            )
        return await handler(call)

    def _route(self, request: Request, account: Account, rest: tuple[str, ...]) -> tuple[dict[str, Handler], Call]:
        kv = self._kv
        methods: dict[str, Handler]
        match rest:
            case ():
                return {"GET": self._list, "POST": self._create}, Call(request, account)
            case (namespace_id,):
                methods = {"GET": self._get, "PUT": self._rename, "DELETE": self._delete}
                return methods, Call(request, account, namespace_id)
            case (namespace_id, "values", key):
                methods = {"GET": kv.get_value, "PUT": kv.put_value, "DELETE": kv.delete_value}
                return methods, Call(request, account, namespace_id, key)
            case (namespace_id, "metadata", key):
                return {"GET": kv.get_metadata}, Call(request, account, namespace_id, key)
            case (namespace_id, "keys"):
                return {"GET": kv.list_keys}, Call(request, account, namespace_id)
            case (namespace_id, "bulk"):
                return {"PUT": kv.bulk_write, "DELETE": kv.bulk_delete}, Call(request, account, namespace_id)
            case (namespace_id, "bulk", "delete"):
                return {"POST": kv.bulk_delete}, Call(request, account, namespace_id)
            case (namespace_id, "bulk", "get"):
                return {"POST": kv.bulk_get}, Call(request, account, namespace_id)
        raise _no_route()

    # --- namespaces ----------------------------------------------------------------------------------------

    async def _list(self, call: Call) -> Reply:
        query = call.request.query
        page = _int_param(query, "page", 1)
        per_page = _int_param(query, "per_page", 20)

        def listing(_now: int) -> tuple[list[Namespace], int]:
            found = call.account.page(page, per_page, query.get("order"), query.get("direction"))
            return found, len(call.account.namespaces)

        found, total = await self._engine.apply(listing)
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(found),
            "total_count": total,
            "total_pages": -(-total // per_page),
        }
        return success([namespace.to_json() for namespace in found], info)

    async def _create(self, call: Call) -> Reply:
        body = await _title_body(call.request)
        jurisdiction = body.get("jurisdiction")
        if jurisdiction is not None and not isinstance(jurisdiction, str):
            raise bad_request(f"jurisdiction must be a string, got {type(jurisdiction).__name__}")
        created = await self._engine.apply(lambda _now: call.account.create(body["title"], jurisdiction))
        return success(created.to_json())

    async def _get(self, call: Call) -> Reply:
        return success((await self._engine.apply(lambda _now: call.namespace())).to_json())

    async def _rename(self, call: Call) -> Reply:
        call.namespace()
        title = (await _title_body(call.request))["title"]
        renamed = await self._engine.apply(lambda _now: call.account.rename(call.namespace_id, title))
        return success(renamed.to_json())

    async def _delete(self, call: Call) -> Reply:
        def delete(_now: int) -> None:
            # Its data goes with it: the id is never reused, so nothing could reach that data again.
            self._engine.store.cluster.drop_namespace(call.account.delete(call.namespace_id).keyspace)

        await self._engine.apply(delete)
        return success({})


async def _title_body(request: Request) -> dict[str, Any]:
    body = await request.json(SMALL_BODY)
    if not isinstance(body, dict):
        raise bad_request(f"the body must be a JSON object with a 'title', got {type(body).__name__}")
    if not isinstance(body.get("title"), str):
        got = "nothing" if "title" not in body else type(body["title"]).__name__
        raise bad_request(f"title must be a string, got {got}")
    return body


def _no_route() -> ApiError:
    return ApiError(404, NO_ROUTE, "No route for that URI")


def _shown_path(scope: Scope) -> str:
    # The raw (still percent-encoded) path, without the query string.
    raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    return raw.decode("latin-1")

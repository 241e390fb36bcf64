"""A per-user session store: log in at one request, be recognised at the next.

    POST /login  {"user": "ada"}  ->  200, Set-Cookie: session=<id>  (the session lives in KV for an hour)
    GET  /me     (with the cookie)  ->  200 {"user": ..., "seen": n}, or 401 if this edge has no such session
    POST /logout (with the cookie)  ->  200, the session deleted

Each request bumps a "seen" counter with ``ctx.waitUntil``, so the response does not wait for the write.

The consistency lesson: KV reads your own writes only at the edge that wrote. A user who logs in at one
location and whose next request is served by another (a different network, a moved phone) looks logged out
until the session has propagated; logging out is eventually consistent too, so a deleted session keeps working
at other edges for a while. Sessions that must be strongly consistent belong in a Durable Object.
"""

import json
import secrets
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from workers import Response

SESSION_TTL = 3600


def session_id(request):
    """The session cookie's value, if the request has one."""
    cookie = SimpleCookie(request.headers.get("cookie", ""))
    return cookie["session"].value if "session" in cookie else None


async def fetch(request, env, ctx):
    path = urlsplit(request.url).path
    if path == "/login" and request.method == "POST":
        user = (await request.json()).get("user")
        if not isinstance(user, str) or not user:
            return Response.json({"error": 'send {"user": "name"}'}, status=400)
        sid = secrets.token_urlsafe(16)
        await env.SESSIONS.put(f"session:{sid}", json.dumps({"user": user, "seen": 0}), expirationTtl=SESSION_TTL)
        cookie = f"session={sid}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={SESSION_TTL}"
        return Response.json({"user": user}, headers={"set-cookie": cookie})
    sid = session_id(request)
    session = None if sid is None else await env.SESSIONS.get(f"session:{sid}", type="json")
    if session is None:
        return Response.json({"error": "not logged in (at this edge)"}, status=401)
    if path == "/logout" and request.method == "POST":
        await env.SESSIONS.delete(f"session:{sid}")
        return Response.json({"logged_out": session["user"]})
    if path == "/me":
        session["seen"] += 1
        ctx.waitUntil(env.SESSIONS.put(f"session:{sid}", json.dumps(session), expirationTtl=SESSION_TTL))
        return Response.json(session)
    return Response("try /login, /me or /logout\n", status=404)

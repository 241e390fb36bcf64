"""A per-user session store: log in at one request, be recognised at the next.

    POST /login  {"user": "ada"}  ->  200, Set-Cookie: session=<id>  (the session lives in KV for an hour)
    GET  /me     (with the cookie)  ->  200 {"user": ..., "seen": n}, or 401 if this edge has no such session
    POST /logout (with the cookie)  ->  200, the session deleted

Each /me bumps a "seen" counter with ``ctx.waitUntil``, so the response does not wait for the write.

The consistency lessons: KV reads your own writes only at the edge that wrote. A user who logs in at one
location and whose next request is served by another (a different network, a moved phone) looks logged out
until the session has propagated; logging out is eventually consistent too, so a deleted session keeps working
at other edges for a while. And never write the session itself back on a read: an edge that has not yet seen
the logout would write the session again, later than the delete, and last-writer-wins would bring it back to
life everywhere. That is why the counter lives under its own key. Sessions that must be strongly consistent
belong in a Durable Object.
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
        await env.SESSIONS.put(f"session:{sid}", json.dumps({"user": user}), expirationTtl=SESSION_TTL)
        cookie = f"session={sid}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={SESSION_TTL}"
        return Response.json({"user": user}, headers={"set-cookie": cookie})
    sid = session_id(request)
    session = None if sid is None else await env.SESSIONS.get(f"session:{sid}", type="json")
    if session is None:
        return Response.json({"error": "not logged in (at this edge)"}, status=401)
    if path == "/logout" and request.method == "POST":
        await env.SESSIONS.delete(f"session:{sid}")
        await env.SESSIONS.delete(f"seen:{sid}")
        return Response.json({"logged_out": session["user"]})
    if path == "/me":
        seen = int(await env.SESSIONS.get(f"seen:{sid}") or 0) + 1
        ctx.waitUntil(env.SESSIONS.put(f"seen:{sid}", str(seen), expirationTtl=SESSION_TTL))
        return Response.json({"user": session["user"], "seen": seen})
    return Response("try /login, /me or /logout\n", status=404)

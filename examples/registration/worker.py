"""Username registration by check-then-put: a name is free if KV has no key for it.

    POST /register/<name>  (body: the owner)  ->  201 "registered", or 409 "taken"

The bug to find: two people registering the same name at different edges within the propagation delay both see
the name free and both get a 201; the later write wins and the first owner silently loses the name.
"""

from urllib.parse import urlsplit

from workers import Response


async def fetch(request, env, ctx):
    name = urlsplit(request.url).path.rsplit("/", 1)[-1]
    if await env.USERS.get(f"user:{name}") is not None:
        return Response("taken", status=409)
    await env.USERS.put(f"user:{name}", await request.text())
    return Response("registered", status=201)

"""Feature flags read from KV at every request, in the older Python Workers style (``on_fetch``).

    GET  /checkout              ->  the new or the old checkout, as the "new_checkout" flag says at this edge
    GET  /flags                 ->  the flags this edge sees
    PUT  /flags  (JSON body)    ->  store new flags (needs "Authorization: Bearer <ADMIN_TOKEN>")

The consistency lesson: flipping a flag is not a switch. For up to the propagation bound, edges disagree: users
served by the edge where the flag was written get the new checkout while everyone else still gets the old one,
and a user whose requests land on different edges can see the two alternate.
"""

import json
from urllib.parse import urlsplit

from workers import Response, handler

FLAGS_KEY = "flags"


async def current_flags(env):
    """The flags as this edge sees them, or the configured defaults if none are stored."""
    stored = await env.FLAGS.get(FLAGS_KEY, type="json")
    return stored if stored is not None else json.loads(env.DEFAULT_FLAGS)


@handler
async def on_fetch(request, env):
    path = urlsplit(request.url).path
    if path == "/flags" and request.method == "PUT":
        if request.headers.get("authorization") != f"Bearer {env.ADMIN_TOKEN}":
            return Response("admin token required\n", status=401)
        flags = await request.json()
        await env.FLAGS.put(FLAGS_KEY, json.dumps(flags))
        return Response.json(flags)
    flags = await current_flags(env)
    if path == "/flags":
        return Response.json(flags)
    if path == "/checkout":
        version = "new" if flags.get("new_checkout") else "old"
        return Response(f"{version} checkout\n", headers={"x-checkout": version})
    return Response("try /checkout or /flags\n", status=404)

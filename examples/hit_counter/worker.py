"""A hit counter by read-modify-write: read the count, add one, write it back.

    GET /  ->  200 "<hits so far>"

The bug to find: two visits at different edges within the propagation delay both read the same count and both
write count + 1, so one visit is lost. KV has no atomic increment; a counter that must be exact belongs in a
Durable Object (or one key per visit, summed when read).
"""

from workers import Response


async def fetch(request, env, ctx):
    hits = int(await env.HITS.get("hits") or 0) + 1
    await env.HITS.put("hits", str(hits))
    return Response(str(hits))

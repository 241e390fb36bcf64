"""A shopping cart kept as one JSON list per user: read it, append the item, write it back.

    POST /cart/<user>/<item>  ->  200 with the cart

The bug to find: two additions at different edges (a phone and a laptop) within the propagation delay each read
the cart without the other's item, and the later write drops the earlier item. Per-item keys
(``cart:<user>:<item>``, read back with ``list``) avoid the read-modify-write.
"""

import json
from urllib.parse import urlsplit

from workers import Response


async def fetch(request, env, ctx):
    _, _, user, item = urlsplit(request.url).path.split("/")
    cart = json.loads(await env.CARTS.get(f"cart:{user}") or "[]")
    cart.append(item)
    await env.CARTS.put(f"cart:{user}", json.dumps(cart))
    return Response.json(cart)

"""A URL shortener written for Cloudflare's Python Workers: it runs unchanged on Cloudflare and in workersim.

    POST /shorten  {"url": "https://..."}  ->  201 {"code": "...", "short": "https://host/<code>"}
    GET  /<code>                           ->  302 to the long URL, or 404 if this edge does not know the code

The consistency lesson: a link created at one edge is a 404 at the others until the write reaches them (up
to the propagation bound, 10 s by default). Share a fresh short link and the first click, served by another
location, may miss.
"""

import hashlib
from urllib.parse import urlsplit

from workers import Response, WorkerEntrypoint

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def short_code(url: str) -> str:
    """Seven base-62 characters from the URL's hash: shortening the same URL twice gives the same code."""
    number = int.from_bytes(hashlib.sha256(url.encode("utf-8")).digest()[:8], "big")
    code = ""
    for _ in range(7):
        number, digit = divmod(number, len(ALPHABET))
        code += ALPHABET[digit]
    return code


class Default(WorkerEntrypoint):
    """The shortener: links live in the LINKS KV namespace, code -> long URL."""

    async def fetch(self, request):
        parts = urlsplit(request.url)
        if request.method == "POST" and parts.path == "/shorten":
            return await self.shorten(request, f"{parts.scheme}://{parts.netloc}")
        code = parts.path.lstrip("/")
        if request.method == "GET" and code:
            target = await self.env.LINKS.get(code)
            if target is None:
                return Response(f"no link {code!r} (yet?)\n", status=404)
            return Response.redirect(target, 302)
        return Response('POST /shorten {"url": ...} or GET /<code>\n', status=404)

    async def shorten(self, request, origin):
        try:
            url = (await request.json())["url"]
        except (ValueError, KeyError, TypeError):
            return Response.json({"error": 'send {"url": "https://..."}'}, status=400)
        if urlsplit(url).scheme not in ("http", "https"):
            return Response.json({"error": "only http(s) URLs can be shortened"}, status=400)
        code = short_code(url)
        await self.env.LINKS.put(code, url)
        return Response.json({"code": code, "short": f"{origin}/{code}"}, status=201)

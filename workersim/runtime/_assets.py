"""Static assets (``[assets] directory``) served the way Cloudflare serves them: a file for a matching path,
``index.html`` for a folder, ``NAME.html`` for ``/NAME``, and the ``not_found_handling`` fallbacks; the
``env.ASSETS.fetch(request)`` binding gives a worker the same lookup."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ._config import Assets
from ._request import JsRequest, Request
from ._response import Response


class AssetServer:
    """Looks files up under an ``[assets]`` directory; never outside it."""

    def __init__(self, assets: Assets) -> None:
        self.assets = assets
        self._root = assets.directory.resolve()

    def _file(self, path: str) -> Path | None:
        relative = unquote(path).lstrip("/")
        candidates = [relative + "index.html"] if relative.endswith("/") or not relative else [relative]
        if relative and not relative.endswith("/"):
            candidates += [relative + ".html", relative + "/index.html"]
        for candidate in candidates:
            file = (self._root / candidate).resolve()
            if file.is_file() and file.is_relative_to(self._root):
                return file
        return None

    def _response(self, file: Path, method: str, status: int = 200) -> Response:
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
            kind += "; charset=utf-8"
        body = None if method == "HEAD" else file.read_bytes()
        return Response(body, status=status, headers={"content-type": kind})

    def lookup(self, request: Request) -> Response | None:
        """The asset for ``request`` (a GET or HEAD whose path names a file), or ``None``."""
        if request.method not in ("GET", "HEAD"):
            return None
        file = self._file(urlsplit(request.url).path)
        return None if file is None else self._response(file, request.method)

    def fallback(self, request: Request) -> Response:
        """What ``not_found_handling`` serves when no file matched: ``index.html`` for a single-page application,
        the nearest ``404.html`` with status 404, or a plain 404."""
        handling = self.assets.not_found_handling
        if handling == "single-page-application" and request.method in ("GET", "HEAD"):
            index = self._file("/")
            if index is not None:
                return self._response(index, request.method)
        if handling == "404-page":
            folder = urlsplit(request.url).path
            while True:
                folder = folder.rsplit("/", 1)[0]
                page = self._file(folder + "/404.html")
                if page is not None:
                    return self._response(page, request.method, 404)
                if not folder:
                    break
        return Response("Not Found", status=404)

    def serve(self, request: Request) -> Response:
        """The asset for ``request``, or the ``not_found_handling`` answer."""
        return self.lookup(request) or self.fallback(request)


class AssetsBinding:
    """``env.ASSETS``: ``await env.ASSETS.fetch(request)`` serves the request from the static assets."""

    def __init__(self, server: AssetServer) -> None:
        self._server = server

    async def fetch(self, request: Any, **init: Any) -> Response:
        """The asset response for ``request`` (a request, its ``js_object`` or a URL)."""
        if isinstance(request, JsRequest):
            request = request.python_request
        if not isinstance(request, Request) or init:
            request = Request(request, **init)
        return self._server.serve(request)

"""``WorkerEntrypoint``: the base class of a Python Workers entrypoint."""

from __future__ import annotations

from typing import Any

PYTHON_REQUEST = "__workersim_python_request__"
"""The mark ``workers.handler`` leaves on an ``on_fetch``: give it the Python ``Request``, not the JavaScript one."""


class WorkerEntrypoint:
    """Base class of a Worker written as a class, as in Cloudflare's Python Workers::

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response(await self.env.MY_KV.get("greeting"))

    A fresh instance serves each request: ``self.env`` holds the bindings of the serving edge and ``self.ctx``
    the request's ``ExecutionContext`` (for ``self.ctx.waitUntil``).
    """

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env

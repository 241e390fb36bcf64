"""The exception users see for errors the Workers KV backend would report."""

from __future__ import annotations


class KVError(Exception):
    """A Workers KV backend error, worded exactly as the Workers runtime words it.

    ``str(error)`` is ``KV <METHOD> failed: <status> <detail>``, for example
    ``KV PUT failed: 413 Value length of 1025 exceeds limit of 1024.``. ``method`` is one of ``GET``
    (also used by ``list``), ``GET_BULK``, ``PUT`` and ``DELETE``; ``status`` is the HTTP status the backend
    answered with and ``detail`` its status text.
    """

    method: str
    status: int
    detail: str

    def __init__(self, method: str, status: int, detail: str) -> None:
        super().__init__(f"KV {method} failed: {status} {detail}")
        self.method = method
        self.status = status
        self.detail = detail

"""The errors the REST API answers with: an HTTP status plus a Cloudflare error code and message."""

from __future__ import annotations

from ..core.errors import KVError, WorkersimError

AUTHENTICATION = 10000
"""Missing, wrong or misplaced credentials (Cloudflare's "Authentication error")."""
KEY_NOT_FOUND = 10009
NAMESPACE_NOT_FOUND = 10013
DUPLICATE_TITLE = 10014
INVALID_LIMIT = 10028
NO_ROUTE = 7000
METHOD_NOT_ALLOWED = 7001
BAD_REQUEST = 10001
"""Our own code for every other rejected request, where we know of no specific Cloudflare code."""


class ApiError(WorkersimError):
    """A request the API refuses: ``status`` is the HTTP status, ``code`` and ``message`` go in the envelope's
    ``errors``; ``headers`` are extra response headers (for example ``WWW-Authenticate``)."""

    status: int
    code: int
    message: str
    headers: tuple[tuple[str, str], ...]

    def __init__(self, status: int, code: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(f"{status} [{code}] {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def bad_request(message: str) -> ApiError:
    """A 400 for a request that is malformed or breaks a rule, with a message that says which."""
    return ApiError(400, BAD_REQUEST, message)


def namespace_not_found(namespace_id: str) -> ApiError:
    """The 404 for a namespace id the account does not have."""
    return ApiError(404, NAMESPACE_NOT_FOUND, f"namespace not found: {namespace_id!r}")


def key_not_found() -> ApiError:
    """The 404 for a missing key, worded as Cloudflare words it."""
    return ApiError(404, KEY_NOT_FOUND, "get: 'key not found'")


def from_kv(error: KVError | TypeError) -> ApiError:
    """The answer to a call that breaks a Workers KV rule: the backend's status and text (a client-side
    ``TypeError`` is a 400)."""
    if isinstance(error, KVError):
        return ApiError(error.status, BAD_REQUEST, error.detail)
    return ApiError(400, BAD_REQUEST, str(error))

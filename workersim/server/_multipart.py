"""multipart/form-data bodies of the REST API, as the SDK (file parts) and wrangler (plain fields) send them: the
parts by name, each name once; a malformed body is the client's 400."""

from __future__ import annotations

from ..runtime._multipart import Part, multipart_parts
from ._errors import bad_request

__all__ = ["Part", "parse_multipart"]


def parse_multipart(body: bytes, content_type: str) -> dict[str, Part]:
    """The parts of a complete multipart/form-data ``body`` by name; a 400 if it is malformed."""
    try:
        parts = multipart_parts(body, content_type)
    except ValueError as error:
        raise bad_request(str(error)) from None
    found: dict[str, Part] = {}
    for part in parts:
        if part.name in found:
            raise bad_request(f"the multipart body has more than one {part.name!r} part")
        found[part.name] = part
    return found

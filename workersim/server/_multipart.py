"""multipart/form-data bodies, as the SDK (file parts) and wrangler (plain fields) send them."""

from __future__ import annotations

import attrs
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from ._errors import bad_request


@attrs.frozen
class Part:
    """One part of a multipart body."""

    name: str
    content_type: str | None
    data: bytes


@attrs.define
class _Collector:
    """Callbacks for python-multipart's streaming parser that gather each part whole."""

    parts: dict[str, Part] = attrs.field(factory=dict)
    ended: bool = False
    _headers: list[tuple[bytes, bytes]] = attrs.field(factory=list)
    _field: list[bytes] = attrs.field(factory=list)
    _value: list[bytes] = attrs.field(factory=list)
    _data: list[bytes] = attrs.field(factory=list)

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda data, start, end: self._field.append(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.append(data[start:end]),
            "on_header_end": self._header_end,
            "on_part_data": lambda data, start, end: self._data.append(data[start:end]),
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _begin(self) -> None:
        self._headers.clear()
        self._data.clear()

    def _header_end(self) -> None:
        self._headers.append((b"".join(self._field).lower(), b"".join(self._value)))
        self._field.clear()
        self._value.clear()

    def _part_end(self) -> None:
        headers = dict(self._headers)
        _, params = parse_options_header(headers.get(b"content-disposition", b""))
        name = params.get(b"name")
        if name is None:
            raise bad_request("a multipart part has no Content-Disposition name")
        text = name.decode("utf-8", "replace")
        if text in self.parts:
            raise bad_request(f"the multipart body has more than one {text!r} part")
        content_type = headers.get(b"content-type")
        self.parts[text] = Part(
            text, None if content_type is None else content_type.decode("latin-1"), b"".join(self._data)
        )

    def _end(self) -> None:
        self.ended = True


def parse_multipart(body: bytes, content_type: str) -> dict[str, Part]:
    """The parts of a complete multipart/form-data ``body`` by name; a 400 if it is malformed."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise bad_request("the multipart/form-data Content-Type has no boundary")
    collector = _Collector()
    try:
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except MultipartParseError as error:
        raise bad_request(f"the multipart body is malformed: {error}") from None
    if not collector.ended:
        raise bad_request("the multipart body ends before its closing boundary")
    return collector.parts

"""multipart/form-data bodies split into their parts (python-multipart's streaming parser does the parsing): for
a worker's ``request.form_data()`` and the REST API's multipart uploads alike."""

from __future__ import annotations

import attrs
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header


@attrs.frozen
class Part:
    """One part of a multipart body."""

    name: str
    filename: str | None
    """The ``filename`` of a file part; ``None`` for a plain field."""
    content_type: str | None
    data: bytes


@attrs.define
class _Collector:
    """Callbacks for the streaming parser that gather each part whole."""

    parts: list[Part] = attrs.field(factory=list)
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
            raise ValueError("a multipart part has no Content-Disposition name")
        filename = params.get(b"filename")
        content_type = headers.get(b"content-type")
        self.parts.append(
            Part(
                name=name.decode("utf-8", "replace"),
                filename=None if filename is None else filename.decode("utf-8", "replace"),
                content_type=None if content_type is None else content_type.decode("latin-1"),
                data=b"".join(self._data),
            )
        )

    def _end(self) -> None:
        self.ended = True


def multipart_parts(body: bytes, content_type: str) -> list[Part]:
    """The parts of a complete multipart/form-data ``body``, in order; a ``ValueError`` says what is malformed."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise ValueError("the multipart/form-data Content-Type has no boundary")
    collector = _Collector()
    try:
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except MultipartParseError as error:
        raise ValueError(f"the multipart body is malformed: {error}") from None
    if not collector.ended:
        raise ValueError("the multipart body ends before its closing boundary")
    return collector.parts

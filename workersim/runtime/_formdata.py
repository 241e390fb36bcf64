"""``FormData``, ``Blob`` and ``File``: a form's fields as Python Workers give them (``await
request.form_data()``), parsed from an ``application/x-www-form-urlencoded`` or ``multipart/form-data`` body."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from urllib.parse import parse_qsl

from ._jsffi import JsArray
from ._multipart import multipart_parts

FormValue = "str | File | Blob"


class Blob:
    """Bytes with a content type: ``size``, ``content_type``, ``await text()``, ``await bytes()``."""

    def __init__(self, data: bytes | str = b"", content_type: str | None = None) -> None:
        self._data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self.content_type = content_type or ""

    @property
    def size(self) -> int:
        """The number of bytes."""
        return len(self._data)

    type = property(lambda self: self.content_type, doc="``content_type`` in JavaScript's spelling.")

    async def bytes(self) -> bytes:
        """The bytes."""
        return self._data

    async def text(self) -> str:
        """The bytes decoded as UTF-8."""
        return self._data.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, content_type={self.content_type!r})"


class File(Blob):
    """A file field of a form: a ``Blob`` with a ``name``."""

    def __init__(self, data: bytes | str, filename: str, content_type: str | None = None) -> None:
        super().__init__(data, content_type)
        self.name = filename


class FormData(MutableMapping[str, "str | Blob"]):
    """A form's fields, in order, a name possibly repeated: ``form["name"]`` (the first value, ``None`` when
    missing, as in Python Workers), ``get_all(name)``, ``append``, ``in``, ``items()``; JavaScript's ``get``,
    ``getAll``, ``has``, ``set`` and ``delete`` too. A file field's value is a ``File``."""

    def __init__(self, fields: Mapping[str, str | Blob] | None = None) -> None:
        self._entries: list[tuple[str, str | Blob]] = list((fields or {}).items())

    @classmethod
    def from_body(cls, body: bytes, content_type: str) -> FormData:
        """The fields of a form body; a ``TypeError`` for a body that is not a form (as JavaScript throws)."""
        kind = content_type.split(";", 1)[0].strip().lower()
        form = cls()
        if kind == "application/x-www-form-urlencoded":
            for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
                form.append(name, value)
            return form
        if kind == "multipart/form-data":
            try:
                parts = multipart_parts(body, content_type)
            except ValueError as error:
                raise TypeError(f"Failed to parse body as FormData: {error}") from None
            for part in parts:
                if part.filename is None:
                    form.append(part.name, part.data.decode("utf-8", "replace"))
                else:
                    form.append(part.name, File(part.data, part.filename, part.content_type))
            return form
        raise TypeError(f"Failed to parse body as FormData: the content type is {content_type or 'missing'!r}")

    def __getitem__(self, name: str) -> str | Blob | None:  # type: ignore[override]  # None, as in Python Workers
        return next((value for key, value in self._entries if key == name), None)

    def __setitem__(self, name: str, value: str | Blob) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        self.delete(name)

    def __contains__(self, name: object) -> bool:
        return any(key == name for key, _ in self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter([key for key, _ in self._entries])

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> Iterator[tuple[str, str | Blob]]:  # type: ignore[override]  # every entry, repeats too
        """Every ``(name, value)`` entry, repeated names included."""
        return iter(list(self._entries))

    def values(self) -> Iterator[str | Blob]:  # type: ignore[override]
        """Every value."""
        return iter([value for _, value in self._entries])

    def keys(self) -> Iterator[str]:  # type: ignore[override]
        """Every name, repeats included."""
        return iter(self)

    def entries(self) -> Iterator[JsArray]:
        """JavaScript's ``formData.entries()``: every ``[name, value]`` pair, as arrays
        (``Object.fromEntries(form.entries())`` makes an object of them)."""
        return iter([JsArray(entry) for entry in self._entries])

    def append(self, name: str, value: str | Blob, filename: str | None = None) -> None:
        """Add an entry (``filename`` makes a ``Blob`` a ``File``)."""
        if filename is not None and isinstance(value, Blob) and not isinstance(value, File):
            value = File(value._data, filename, value.content_type)
        self._entries.append((name, value))

    def set(self, name: str, value: str | Blob) -> None:
        """Replace every entry of ``name`` with one."""
        self.delete(name)
        self._entries.append((name, value))

    def delete(self, name: str) -> None:
        """Remove every entry of ``name``."""
        self._entries = [entry for entry in self._entries if entry[0] != name]

    def get_all(self, name: str) -> list[str | Blob]:
        """Every value of ``name``."""
        return [value for key, value in self._entries if key == name]

    getAll = get_all  # noqa: N815 - JavaScript's name

    def has(self, name: str) -> bool:
        """Whether ``name`` is present."""
        return name in self

    def get(self, name: str, default: str | Blob | None = None) -> str | Blob | None:  # type: ignore[override]
        """The first value of ``name``, or ``default``."""
        found = self[name]
        return default if found is None else found

    def __repr__(self) -> str:
        return f"FormData({self._entries!r})"

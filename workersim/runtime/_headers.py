"""``Headers``: HTTP headers with the Fetch API's rules (case-insensitive names, repeatable fields)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping

HeadersInit = Mapping[str, str] | Iterable[tuple[str, str]]
"""What ``headers=`` accepts: a mapping, a list of ``(name, value)`` pairs or another ``Headers``."""
Fields = tuple[tuple[str, str], ...]
"""Header fields as ``(lower-case name, value)`` pairs whose names and values are checked already."""

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_LATIN1 = re.compile(r"[\x00-\xff]*")
# The Fetch API trims leading and trailing HTTP whitespace from every value it is given.
_HTTP_WHITESPACE = " \t\r\n"


def _name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"Invalid header name {name!r}: a header name is a non-empty HTTP token such as 'Content-Type'")
    return _token(name)


@functools.lru_cache(maxsize=1024)
def _token(name: str) -> str:
    # Cached: the same few names come back on every request.
    if not _TOKEN.fullmatch(name):
        raise TypeError(f"Invalid header name {name!r}: a header name is a non-empty HTTP token such as 'Content-Type'")
    return name.lower()


def _value(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"header {name!r} must have a str value, got {type(value).__name__} {value!r}")
    value = value.strip(_HTTP_WHITESPACE)
    # Plain `in` tests: values are checked on every request, and these are the fastest way in CPython.
    if "\r" in value or "\n" in value or "\0" in value or not (value.isascii() or _LATIN1.fullmatch(value)):
        raise TypeError(f"Invalid header value for {name!r}: {value!r} (no CR, LF or NUL; Latin-1 characters only)")
    return value


def is_value(value: str) -> bool:
    """Whether ``value`` is a header value as it stands: one that ``Headers.set`` takes without a change."""
    try:
        return _value("", value) == value
    except TypeError:
        return False


class Headers(MutableMapping[str, str]):
    """HTTP headers as the Fetch API's ``Headers``: names are case-insensitive and a name may appear more than once.

    ``headers["Content-Type"]``, ``headers.get(name)``, ``name in headers`` and iteration see one value per
    name (repeated fields joined with ``", "``, as ``Headers.get`` does in JavaScript). ``append`` adds a field,
    ``set`` (or item assignment) replaces all fields of that name, and ``multi_items()`` gives every field
    separately, as it goes on the wire. JavaScript's ``has``/``delete`` spellings work too.
    """

    __slots__ = ("_fields",)

    def __init__(self, init: HeadersInit | None = None) -> None:
        self._fields: list[tuple[str, str]] = []
        if init is None:
            return
        if isinstance(init, Headers):
            self._fields = list(init._fields)
            return
        pairs = init.items() if isinstance(init, Mapping) else init
        for pair in pairs:
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise TypeError(f"headers must be a mapping or (name, value) pairs, got the item {pair!r}")
            self.append(pair[0], pair[1])

    @classmethod
    def _checked(cls, fields: Fields) -> Headers:
        """Headers holding ``fields`` (checked already: no need to check them again)."""
        headers = cls.__new__(cls)
        headers._fields = list(fields)
        return headers

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"

    def append(self, name: str, value: str) -> None:
        """Add a field, keeping those already there under the same name."""
        key = _name(name)
        self._fields.append((key, _value(key, value)))

    def set(self, name: str, value: str) -> None:
        """Replace every field named ``name`` with one field."""
        key = _name(name)
        self._set_checked(key, _value(key, value))

    def _set_checked(self, key: str, value: str) -> None:
        """``set`` a field whose lower-case name and value are checked already."""
        self._fields = [field for field in self._fields if field[0] != key]
        self._fields.append((key, value))

    def _extend_absent(self, fields: Iterable[tuple[str, str]]) -> None:
        """Add each of ``fields`` (``multi_items()`` of other headers: names and values already checked) whose name
        is not present yet."""
        if not self._fields:  # a new request's or response's
            self._fields.extend(fields)
            return
        present = {name for name, _ in self._fields}
        self._fields.extend(field for field in fields if field[0] not in present)

    def has(self, name: str) -> bool:
        """Whether a field named ``name`` is present (JavaScript's spelling of ``name in headers``)."""
        return name in self

    def delete(self, name: str) -> None:
        """Remove every field named ``name``; a missing name is fine, as in JavaScript."""
        key = _name(name)
        self._fields = [field for field in self._fields if field[0] != key]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every field as a ``(lower-case name, value)`` pair, repeated names included, in the order added."""
        return list(self._fields)

    def __getitem__(self, name: str) -> str | None:  # type: ignore[override]  # JS Headers.get, not a dict's
        """The header's values joined with ``", "``, or ``None`` when it is missing: in Python Workers, headers are
        JavaScript's, and ``request.headers["Cookie"]`` of a request without cookies is ``None``, not an error."""
        key = name.lower() if isinstance(name, str) else name
        values = [value for field, value in self._fields if field == key]
        return ", ".join(values) if values else None

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        """``del headers[name]`` removes every field named ``name``; a missing name is no error, as in Python
        Workers, whose headers are JavaScript's (``del`` is ``Headers.delete``) or the SDK's ``HTTPMessage``
        (whose ``del`` never raises)."""
        self.delete(name)

    def __contains__(self, name: object) -> bool:
        key = name.lower() if isinstance(name, str) else name
        for field, _ in self._fields:  # a loop, not any(...): headers are few and this runs on every request
            if field == key:
                return True
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(field for field, _ in self._fields))

    def __len__(self) -> int:
        return len(dict.fromkeys(field for field, _ in self._fields))

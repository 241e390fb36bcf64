"""Building frozen attrs instances on hot paths at a third of the cost of their ``__init__``.

A frozen attrs class sets each field through ``object.__setattr__``, a bound-method call per field: twelve for a
history row. ``maker(cls)`` returns a function that takes the same arguments as ``cls`` (every field, by keyword,
or in field order with ``positional=True``) and fills the instance as a mutable twin of ``cls`` would: plain
attribute stores, which the interpreter turns into direct slot writes. The twin is a subclass of ``cls`` that adds
no slots and only gives back the ordinary ``__setattr__`` and ``__delattr__``, so it has ``cls``'s memory layout,
and once filled the instance becomes a ``cls`` by ``__class__`` assignment (which Python allows between classes of
the same layout). The instance is the same as ``cls(...)`` would make: same type, equal, same hash, still frozen.
Only plain classes qualify (slotted and frozen, without validators, converters or ``__attrs_post_init__``), since
nothing of those would run.

``packing(cls, tag)`` goes further for records that are written far more often than they are read: it packs the
fields into a plain tuple, and makes the instance only when one is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

T = TypeVar("T")


def maker(cls: type[T], *, positional: bool = False) -> Callable[..., T]:
    """A function making ``cls`` instances from every field (by keyword, or by position in field order)."""
    if not attrs.has(cls) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a slotted attrs class")
    fields = attrs.fields(cls)
    if getattr(cls, "__attrs_post_init__", None) is not None or any(
        field.validator is not None or field.converter is not None or not field.init for field in fields
    ):
        raise TypeError(f"{cls.__name__} has init-time logic that a maker would skip")
    if cls.__setattr__ is object.__setattr__:
        raise TypeError(f"{cls.__name__} is not frozen")
    # Both methods are given back: they share one type slot, which is the C one only when neither is Python's.
    twin = type(
        f"_Mutable{cls.__name__}",
        (cls,),
        {"__slots__": (), "__setattr__": object.__setattr__, "__delattr__": object.__delattr__},
    )
    names = [field.name for field in fields]
    signature = ", ".join(names) if positional else "*, " + ", ".join(names)
    body = "".join(f"    instance.{name} = {name}\n" for name in names)
    source = (
        f"def make_{cls.__name__}({signature}):\n    instance = new(twin)\n{body}"
        "    instance.__class__ = cls\n    return instance\n"
    )
    scope: dict[str, Any] = {"new": object.__new__, "twin": twin, "cls": cls}
    exec(compile(source, f"<maker of {cls.__qualname__}>", "exec"), scope)  # noqa: S102 - generated from field names
    made: Callable[..., T] = scope[f"make_{cls.__name__}"]
    made.__doc__ = f"A ``{cls.__name__}`` from every field ({'in field order' if positional else 'by keyword'})."
    return made


def packing(
    cls: type[T], tag: int, *, positional: bool = False
) -> tuple[Callable[..., tuple[Any, ...]], Callable[[int, tuple[Any, ...]], T]]:
    """For a class whose first field is ``id``: a function packing every other field (by keyword, or in field order
    with ``positional=True``) into the tuple ``(tag, field, ...)`` in field order, and one making the instance with
    a given ``id`` from such a tuple.

    Packing costs less than half of making the instance (a seventh of attrs' ``__init__``), and a tuple of strings,
    numbers and bytes is a tuple the garbage collector stops looking at after its first pass (an instance it keeps
    looking at): what a history holds until someone reads it."""
    make = maker(cls, positional=True)  # refuses the classes a maker cannot make
    assert attrs.has(cls)  # as maker checked
    names = [field.name for field in attrs.fields(cls)]
    if names[0] != "id":
        raise TypeError(f"{cls.__name__}'s first field is not id")
    scope: dict[str, Any] = {"make": make}
    rest = names[1:]
    signature = ", ".join(rest) if positional else "*, " + ", ".join(rest)
    pack_source = f"def pack_{cls.__name__}({signature}):\n    return ({tag}, {', '.join(rest)})\n"
    unpacked = ", ".join(f"packed[{index}]" for index in range(1, len(names)))
    unpack_source = f"def unpack_{cls.__name__}(ident, packed):\n    return make(ident, {unpacked})\n"
    for source in (pack_source, unpack_source):
        exec(compile(source, f"<packing of {cls.__qualname__}>", "exec"), scope)  # noqa: S102 - from field names
    pack: Callable[..., tuple[Any, ...]] = scope[f"pack_{cls.__name__}"]
    unpack: Callable[[int, tuple[Any, ...]], T] = scope[f"unpack_{cls.__name__}"]
    how = "in field order" if positional else "by keyword"
    pack.__doc__ = f"A ``{cls.__name__}`` packed: ``({tag}, every field but id...)``, fields {how}."
    unpack.__doc__ = f"The ``{cls.__name__}`` with id ``ident`` that ``packed`` holds."
    return pack, unpack

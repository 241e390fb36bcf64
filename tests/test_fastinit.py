"""The makers and packings that record rows on hot paths make exactly what the attrs classes would."""

from __future__ import annotations

import gc
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workersim.core._fastinit import maker, packing
from workersim.core.rows import (
    FetchRow,
    KVRead,
    KVWrite,
    LogRow,
    ResponseRow,
    ScheduledRow,
    pack_fetch,
    pack_log,
    pack_read,
    pack_response,
    pack_scheduled,
    pack_write,
    unpack,
)

texts = st.text(max_size=5)
maybe_texts = st.none() | texts
times = st.floats(min_value=0, max_value=1e6, allow_nan=False)
common = {"id": st.integers(0, 10**9), "edge": texts, "op": texts, "invoke": times, "complete": times}
common["request"] = maybe_texts
metadata = st.sampled_from([None, "1", '"text"', '{"a":[1,2]}'])  # compact JSON text, as the store keeps it
kv = {**common, "ns": texts, "key": texts, "value": st.none() | st.binary(max_size=5), "metadata": metadata}
fields_of = {
    KVRead: (pack_read, st.fixed_dictionaries({**kv, "version": st.none() | st.integers(1, 99)})),
    KVWrite: (
        pack_write,
        st.fixed_dictionaries({**kv, "expiration": st.none() | st.integers(0, 10**10), "version": st.integers(1, 9)}),
    ),
    FetchRow: (pack_fetch, st.fixed_dictionaries({**common, "method": texts, "url": texts})),
    ResponseRow: (
        pack_response,
        st.fixed_dictionaries({**common, "status": st.integers(100, 599), "error": maybe_texts}),
    ),
    LogRow: (pack_log, st.fixed_dictionaries({**common, "level": texts, "message": texts})),
    ScheduledRow: (pack_scheduled, st.fixed_dictionaries({**common, "cron": texts})),
}


@pytest.mark.parametrize("cls", list(fields_of), ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_a_packed_row_unpacks_to_what_the_class_makes(cls: type[Any], data: st.DataObject) -> None:
    pack, fields = fields_of[cls]
    values = data.draw(fields)
    ident = values.pop("id")
    positional = cls in (KVRead, KVWrite)  # the store's packings take the fields in order
    packed = pack(*(values[field.name] for field in attrs.fields(cls)[1:])) if positional else pack(**values)
    made, built = unpack(packed, ident), cls(id=ident, **values)
    assert type(packed) is tuple
    assert type(made) is cls
    assert made == built
    assert hash(made) == hash(built)
    assert repr(made) == repr(built)
    assert made.to_json() == built.to_json()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.id = 0
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del made.id


def test_a_packed_row_is_a_tuple_the_garbage_collector_lets_go_of() -> None:
    # What packing is for: a row object is looked at by every collection for as long as the history lives.
    packed = pack_write("E", "put", 1.0, 1.0, "r", "KV", "k", b"v", None, None, 3)
    assert gc.is_tracked(packed)  # made by the interpreter as every tuple is, then untracked by a collection
    gc.collect()
    assert not gc.is_tracked(packed)
    assert gc.is_tracked(unpack(packed, 0))


def test_packing_wants_every_field_but_the_id_by_keyword() -> None:
    with pytest.raises(TypeError):
        pack_fetch(edge="E", op="fetch", invoke=0.0, complete=0.0, request=None, method="GET")  # no url
    with pytest.raises(TypeError):
        pack_fetch(id=1, edge="E", op="fetch", invoke=0.0, complete=0.0, request=None, method="GET", url="/")
    with pytest.raises(TypeError):
        pack_fetch("E", "fetch", 0.0, 0.0, None, "GET", "/")


def test_the_stores_packings_want_every_field_but_the_id_in_order() -> None:
    assert pack_read("E", "get", 0.0, 0.0, None, "KV", "k", None, None, None)[1:3] == ("E", "get")
    with pytest.raises(TypeError):
        pack_read("E", "get", 0.0, 0.0, None, "KV", "k", None, None)  # no version
    with pytest.raises(TypeError):
        pack_read(0, "E", "get", 0.0, 0.0, None, "KV", "k", None, None, None)  # an id too


@attrs.define(slots=True)
class Mutable:
    x: int


@attrs.frozen(slots=False)
class Unslotted:
    x: int


@attrs.frozen
class Checked:
    x: int = attrs.field(validator=attrs.validators.instance_of(int))


@attrs.frozen
class Converted:
    x: int = attrs.field(converter=int)


@attrs.frozen
class PostInit:
    x: int

    def __attrs_post_init__(self) -> None:
        pass


@pytest.mark.parametrize("cls", [Mutable, Unslotted, Checked, Converted, PostInit, int])
def test_classes_whose_init_does_more_than_fill_slots_get_no_maker(cls: type[Any]) -> None:
    with pytest.raises(TypeError):
        maker(cls)
    with pytest.raises(TypeError):
        packing(cls, 0)


def test_only_a_class_whose_first_field_is_its_id_is_packed() -> None:
    @attrs.frozen
    class Named:
        name: str
        id: int

    with pytest.raises(TypeError, match="first field is not id"):
        packing(Named, 0)

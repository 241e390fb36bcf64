"""The errors users see cross processes intact: a sweep's workers (a process pool, or Dask) send them back pickled,
and an error rebuilt from its message alone would lose its fields or fail to rebuild at all."""

from __future__ import annotations

import pickle

import pytest

from workersim.core.errors import (
    BodyUsedError,
    ConfigError,
    HistoryFormatError,
    JsException,
    JsSyntaxError,
    JsTypeError,
    KVError,
)


@pytest.mark.parametrize(
    ("error", "fields"),
    [
        (KVError("PUT", 413, "Value length of 2097153 exceeds limit of 2097152."), ("method", "status", "detail")),
        (JsTypeError("Key name cannot be empty."), ("name", "message")),
        (JsSyntaxError("Unexpected token 'x', \"x\" is not valid JSON", "x", 0), ("name", "message", "doc", "pos")),
        (JsException("RangeError", "out of range"), ("name", "message")),
        (HistoryFormatError("not a JSON object", 3), ("line",)),
        (ConfigError("no main in wrangler.toml"), ()),
        (BodyUsedError("Body already used"), ()),
    ],
)
def test_an_error_survives_pickling_with_its_fields(error: Exception, fields: tuple[str, ...]) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    for field in fields:
        assert getattr(again, field) == getattr(error, field)


def test_the_fields_are_the_ones_given() -> None:
    # The oracle for the test above: what each error was made from, not what it holds after a round trip.
    error = pickle.loads(pickle.dumps(KVError("GET", 429, "Too Many Requests")))
    assert (error.method, error.status, error.detail, error.name) == ("GET", 429, "Too Many Requests", "Error")
    assert str(error) == "KV GET failed: 429 Too Many Requests"
    assert pickle.loads(pickle.dumps(HistoryFormatError("bad", 7))).line == 7

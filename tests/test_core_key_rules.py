"""The binding skips the backend's key check (``store.KEY_CHECKED``) because the client's rules refuse every key the
backend's refuse: this holds the two rule sets to that."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from workersim.core import KVError, Limits
from workersim.core.validation import check_backend_key, check_key

LIMITS = Limits()
# Around the key limit in characters of 1 to 4 UTF-8 bytes, the names refused whatever their length, and what is
# not text at all.
_near_limit = st.integers(LIMITS.key_bytes // 4 - 2, LIMITS.key_bytes + 2).flatmap(
    lambda n: st.sampled_from(["a", "é", "€", "😀"]).map(lambda ch: ch * n)
)
_keys: st.SearchStrategy[Any] = st.one_of(
    st.text(max_size=30),
    _near_limit,
    st.sampled_from(["", ".", "..", "...", " ", "./"]),
    st.integers(),
    st.booleans(),
    st.none(),
    st.binary(max_size=8),
    st.floats(allow_nan=False),
)


@given(key=_keys)
@example(key="é" * (LIMITS.key_bytes // 2))
@example(key="😀" * (LIMITS.key_bytes // 4 + 1))
def test_a_key_the_client_accepts_the_backend_accepts(key: Any) -> None:
    try:
        text = check_key("GET", key, LIMITS)
    except (TypeError, KVError):
        return  # refused by the client: the backend never sees it
    assert check_backend_key("GET", text, LIMITS) == text


@pytest.mark.parametrize("key", ["", ".", "..", "😀" * (LIMITS.key_bytes // 4 + 1)])
def test_both_rule_sets_refuse_the_keys_the_backend_refuses(key: str) -> None:
    with pytest.raises((TypeError, KVError)):
        check_key("GET", key, LIMITS)
    with pytest.raises(KVError):
        check_backend_key("GET", key, LIMITS)

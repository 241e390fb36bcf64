"""The REST API's account model without HTTP: credentials, confinement, namespace limits, titles and ids."""

from __future__ import annotations

import re

import pytest

from workersim import Limits
from workersim.server._accounts import Accounts, binding_namespace_id
from workersim.server._errors import ApiError

BEARER = {"authorization": "Bearer secret-a"}


def accounts(max_namespaces: int = Limits().namespaces, seed: int = 0) -> Accounts:
    registry = Accounts(seed, max_namespaces)
    registry.add("a", "secret-a", bindings=("MY_KV",))
    registry.add("b", "secret-b")
    return registry


@pytest.mark.parametrize(
    ("headers", "status", "needle"),
    [
        ({}, 401, "no credentials"),
        ({"authorization": "Bearer wrong"}, 401, "invalid credentials"),
        ({"authorization": "Token secret-a"}, 401, "Bearer <token>"),
        ({"authorization": "Bearer "}, 401, "Bearer <token>"),
        ({"x-auth-email": "me@example.com"}, 401, "sent together"),
        ({"x-auth-email": "me@example.com", "x-auth-key": "wrong"}, 401, "invalid credentials"),
        ({"x-auth-email": "me@example.com", "x-auth-key": "secret-b"}, 403, "may not access this account"),
        ({"authorization": "Bearer secret-b"}, 403, "may not access this account"),
        ({"authorization": "Bearer secret-ab"}, 401, "invalid credentials"),
    ],
)
def test_refused_credentials(headers: dict[str, str], status: int, needle: str) -> None:
    with pytest.raises(ApiError) as refused:
        accounts().authenticate(headers, "a")
    assert (refused.value.status, refused.value.code) == (status, 10000)
    assert needle in refused.value.message and "secret" not in refused.value.message


def test_accepted_credentials() -> None:
    registry = accounts()
    assert registry.authenticate(BEARER, "a").id == "a"
    assert registry.authenticate({"authorization": "bearer  secret-a "}, "a").id == "a"
    assert registry.authenticate({"x-auth-email": "me@example.com", "x-auth-key": "secret-b"}, "b").id == "b"
    with pytest.raises(ApiError) as unknown_account:  # indistinguishable from an account one may not use
        registry.authenticate(BEARER, "no-such-account")
    assert unknown_account.value.status == 403


def test_tokens_must_be_distinct_printable_ascii() -> None:
    registry = accounts()
    with pytest.raises(ValueError, match="its own token"):
        registry.add("c", "secret-a")
    with pytest.raises(ValueError, match="already exists"):
        registry.add("a", "secret-c")
    for bad in ("", "tök", "two words\n", " padded"):
        with pytest.raises(ValueError, match="printable ASCII"):
            registry.add("c", bad)


def test_at_most_the_limit_of_namespaces_counting_the_bound_ones() -> None:
    account = accounts().authenticate(BEARER, "a")
    for i in range(Limits().namespaces - 1):
        account.create(f"ns {i}")
    with pytest.raises(ApiError, match="maximum of 20 namespaces") as full:
        account.create("one too many")
    assert full.value.status == 400
    account.delete(account.page(1, 20, None, None)[-1].id)
    account.create("room again")
    small = accounts(max_namespaces=2).authenticate(BEARER, "a")
    small.create("second")
    with pytest.raises(ApiError, match="maximum of 2"):
        small.create("third")


def test_titles_are_unique_per_account() -> None:
    registry = accounts()
    a, b = registry.authenticate(BEARER, "a"), registry.authenticate({"authorization": "Bearer secret-b"}, "b")
    first = a.create("shared")
    b.create("shared")  # another account may use the same title
    with pytest.raises(ApiError) as duplicate:
        a.create("shared")
    assert (duplicate.value.status, duplicate.value.code) == (400, 10014)
    second = a.create("other")
    with pytest.raises(ApiError):
        a.rename(second.id, "shared")
    assert a.rename(first.id, "shared").title == "shared"  # renaming to its own title is no change
    with pytest.raises(ApiError, match="MY_KV"):
        a.create("MY_KV")


def test_ids_are_deterministic() -> None:
    assert binding_namespace_id("MY_KV") == "54a45a1a1bd18b69581b11fd494c7429"  # the same on every machine
    bound = accounts().authenticate(BEARER, "a").page(1, 20, None, None)[0]
    assert (bound.id, bound.title, bound.keyspace, bound.binding) == (
        binding_namespace_id("MY_KV"),
        "MY_KV",
        "MY_KV",
        "MY_KV",
    )

    def created(seed: int) -> list[str]:
        account = accounts(seed=seed).authenticate(BEARER, "a")
        return [account.create(f"t{i}").id for i in range(3)]

    ids = created(1)
    assert ids == created(1) and ids != created(2)
    assert all(re.fullmatch("[0-9a-f]{32}", i) for i in ids)  # the shape of a Cloudflare namespace id
    assert len({*ids, binding_namespace_id("MY_KV")}) == 4


def test_namespace_pages() -> None:
    account = accounts().authenticate(BEARER, "a")
    for title in ("c", "a", "b"):
        account.create(title)
    assert [ns.title for ns in account.page(1, 2, None, None)] == ["MY_KV", "c"]
    assert [ns.title for ns in account.page(2, 2, "title", "desc")] == ["a", "MY_KV"]  # code-point order
    assert account.page(3, 2, None, None) == []

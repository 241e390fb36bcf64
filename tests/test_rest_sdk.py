"""The official ``cloudflare`` SDK, unchanged, against a real workersim REST server on a loopback port."""

from __future__ import annotations

import re
from collections.abc import Iterator

import cloudflare
import pytest
from _rest_support import ACCOUNT, OTHER_ACCOUNT, OTHER_TOKEN, RunningServer, running_server

from workersim import Limits, Simulation
from workersim.server.rest import binding_namespace_id


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server(Simulation(kv_namespaces=("MY_KV",), limits=Limits(namespaces=100)), other_account=True) as s:
        yield s


@pytest.fixture
def sdk(server: RunningServer) -> cloudflare.Cloudflare:
    return server.sdk()


@pytest.fixture
def namespace(sdk: cloudflare.Cloudflare, request: pytest.FixtureRequest) -> str:
    return sdk.kv.namespaces.create(account_id=ACCOUNT, title=f"ns {request.node.name}").id


def test_namespace_lifecycle(sdk: cloudflare.Cloudflare) -> None:
    kv = sdk.kv.namespaces
    before = {ns.id for ns in kv.list(account_id=ACCOUNT)}
    created = kv.create(account_id=ACCOUNT, title="lifecycle", jurisdiction="eu")
    assert re.fullmatch("[0-9a-f]{32}", created.id) and created.id not in before
    assert (created.title, created.jurisdiction) == ("lifecycle", "eu")
    assert kv.get(created.id, account_id=ACCOUNT).title == "lifecycle"
    assert kv.update(created.id, account_id=ACCOUNT, title="renamed").title == "renamed"
    assert "renamed" in [ns.title for ns in kv.list(account_id=ACCOUNT)]
    deleted = kv.with_raw_response.delete(created.id, account_id=ACCOUNT)
    assert deleted.json() == {"success": True, "errors": [], "messages": [], "result": {}}
    assert created.id not in [ns.id for ns in kv.list(account_id=ACCOUNT)]
    with pytest.raises(cloudflare.NotFoundError) as missing:
        kv.get(created.id, account_id=ACCOUNT)
    assert missing.value.body["errors"][0]["code"] == 10013


def test_duplicate_title_is_a_400_with_code_10014(sdk: cloudflare.Cloudflare) -> None:
    sdk.kv.namespaces.create(account_id=ACCOUNT, title="twice")
    with pytest.raises(cloudflare.BadRequestError) as duplicate:
        sdk.kv.namespaces.create(account_id=ACCOUNT, title="twice")
    assert duplicate.value.body["errors"][0]["code"] == 10014


def test_the_simulation_binding_is_a_namespace_with_a_stable_id(sdk: cloudflare.Cloudflare) -> None:
    bound = sdk.kv.namespaces.get(binding_namespace_id("MY_KV"), account_id=ACCOUNT)
    assert bound.title == "MY_KV"
    with pytest.raises(cloudflare.BadRequestError, match="binding"):
        sdk.kv.namespaces.delete(bound.id, account_id=ACCOUNT)


def test_namespace_pagination_ends_on_an_empty_page(server: RunningServer, sdk: cloudflare.Cloudflare) -> None:
    for i in range(5):
        sdk.kv.namespaces.create(account_id=ACCOUNT, title=f"paged {i}")
    everything = [ns.title for ns in sdk.kv.namespaces.list(account_id=ACCOUNT, per_page=2)]
    assert len(everything) == len(set(everything))
    assert {f"paged {i}" for i in range(5)} <= set(everything)
    first = sdk.kv.namespaces.list(account_id=ACCOUNT, per_page=2, order="title", direction="desc")
    assert [ns.title for ns in first.result] == sorted(everything, reverse=True)[:2]
    past_end = sdk.kv.namespaces.list(account_id=ACCOUNT, page=1000, per_page=20.0)
    assert past_end.result == []


def test_values_metadata_and_expiration(server: RunningServer, sdk: cloudflare.Cloudflare, namespace: str) -> None:
    values = sdk.kv.namespaces.values
    before = server.unix_now()
    values.update(
        "my-key",
        account_id=ACCOUNT,
        namespace_id=namespace,
        value=b"hello\x00bytes",
        metadata={"someMetadataKey": "v"},
        expiration_ttl=120,
    )
    got = values.get("my-key", account_id=ACCOUNT, namespace_id=namespace)
    assert got.read() == b"hello\x00bytes"
    assert before + 120 <= int(got.headers["expiration"]) <= server.unix_now() + 120  # the TTL from the put's time
    assert sdk.kv.namespaces.metadata.get("my-key", account_id=ACCOUNT, namespace_id=namespace) == {
        "someMetadataKey": "v"
    }
    values.update("plain", account_id=ACCOUNT, namespace_id=namespace, value=b"x", metadata="plainstring")
    assert sdk.kv.namespaces.metadata.get("plain", account_id=ACCOUNT, namespace_id=namespace) == "plainstring"
    values.update("file", account_id=ACCOUNT, namespace_id=namespace, value=("f.bin", b"abc", "application/x"))
    assert values.get("file", account_id=ACCOUNT, namespace_id=namespace).text() == "abc"
    assert sdk.kv.namespaces.metadata.get("file", account_id=ACCOUNT, namespace_id=namespace) is None
    values.update("empty", account_id=ACCOUNT, namespace_id=namespace, value=b"")
    assert values.get("empty", account_id=ACCOUNT, namespace_id=namespace).read() == b""
    values.delete("my-key", account_id=ACCOUNT, namespace_id=namespace)
    with pytest.raises(cloudflare.NotFoundError) as missing:
        values.get("my-key", account_id=ACCOUNT, namespace_id=namespace)
    assert missing.value.body["errors"][0] == {"code": 10009, "message": "get: 'key not found'"}
    with pytest.raises(cloudflare.NotFoundError):
        sdk.kv.namespaces.metadata.get("my-key", account_id=ACCOUNT, namespace_id=namespace)


def test_expiration_rules_are_the_bindings(sdk: cloudflare.Cloudflare, namespace: str) -> None:
    values = sdk.kv.namespaces.values
    with pytest.raises(cloudflare.BadRequestError, match="Expiration TTL must be at least 60"):
        values.update("k", account_id=ACCOUNT, namespace_id=namespace, value=b"v", expiration_ttl=30)
    with pytest.raises(cloudflare.BadRequestError, match="greater than the current number of seconds"):
        values.update("k", account_id=ACCOUNT, namespace_id=namespace, value=b"v", expiration=1000)
    with pytest.raises(cloudflare.APIStatusError, match="Metadata length of 1025 exceeds limit of 1024") as big:
        values.update("k", account_id=ACCOUNT, namespace_id=namespace, value=b"v", metadata={"key": "x" * 1015})
    assert big.value.status_code == 413
    with pytest.raises(cloudflare.APIStatusError, match="exceeds key length limit of 512") as long_key:
        values.update("k" * 513, account_id=ACCOUNT, namespace_id=namespace, value=b"v")
    assert long_key.value.status_code == 414
    with pytest.raises(cloudflare.NotFoundError):
        values.get("k", account_id=ACCOUNT, namespace_id=namespace)


def test_an_oversized_value_is_a_413(server: RunningServer, sdk: cloudflare.Cloudflare, namespace: str) -> None:
    limit = server.sim.limits.value_bytes
    sdk.kv.namespaces.values.update("big", account_id=ACCOUNT, namespace_id=namespace, value=b"x" * limit)
    for size in (limit + 1, 4 * limit):
        with pytest.raises(cloudflare.APIStatusError) as too_big:
            sdk.kv.namespaces.values.update("big", account_id=ACCOUNT, namespace_id=namespace, value=b"y" * size)
        assert too_big.value.status_code == 413
    got = sdk.kv.namespaces.values.get("big", account_id=ACCOUNT, namespace_id=namespace).read()
    assert got == b"x" * limit


def test_keys_list_paginates_automatically(sdk: cloudflare.Cloudflare, namespace: str) -> None:
    names = ["a", "b", "c", "d", "e"]
    sdk.kv.namespaces.bulk_update(namespace, account_id=ACCOUNT, body=[{"key": n, "value": n} for n in names])
    page = sdk.kv.namespaces.keys.list(namespace, account_id=ACCOUNT, limit=2)
    assert [key.name for key in page.result] == ["a", "b"]
    assert page.result_info.cursor
    assert [key.name for key in page] == names  # iterating a page follows the cursors
    last = sdk.kv.namespaces.keys.list(namespace, account_id=ACCOUNT, limit=2, cursor=page.result_info.cursor)
    last = sdk.kv.namespaces.keys.list(namespace, account_id=ACCOUNT, limit=2.0, cursor=last.result_info.cursor)
    assert [key.name for key in last.result] == ["e"] and last.result_info.cursor == ""
    prefixed = sdk.kv.namespaces.keys.list(namespace, account_id=ACCOUNT, prefix="c")
    assert [key.name for key in prefixed.result] == ["c"]


def test_bulk_write_get_and_delete(server: RunningServer, sdk: cloudflare.Cloudflare, namespace: str) -> None:
    kv = sdk.kv.namespaces
    before = server.unix_now()
    result = kv.bulk_update(
        namespace,
        account_id=ACCOUNT,
        body=[
            {"key": "k1", "value": "v1"},
            {"key": "k2", "value": "aGVsbG8=", "base64": True, "expiration_ttl": 3600, "metadata": {"a": 1}},
            {"key": "j", "value": '{"n": 1}'},
        ],
    )
    assert result.successful_key_count == 3 and result.unsuccessful_keys == []
    assert kv.bulk_get(namespace, account_id=ACCOUNT, keys=["k1", "k2", "nope"]).values == {
        "k1": "v1",
        "k2": "hello",
        "nope": None,
    }
    as_json = kv.bulk_get(namespace, account_id=ACCOUNT, keys=["j"], type="json", with_metadata=True)
    assert as_json.model_dump()["values"]["j"] == {"value": {"n": 1}, "metadata": None, "expiration": None}
    as_text = kv.bulk_get(namespace, account_id=ACCOUNT, keys=["k2"], with_metadata=True).model_dump()["values"]
    assert as_text["k2"]["value"] == "hello" and as_text["k2"]["metadata"] == {"a": 1}
    assert before + 3600 <= as_text["k2"]["expiration"] <= server.unix_now() + 3600
    with pytest.raises(cloudflare.BadRequestError, match="non-json value"):
        kv.bulk_get(namespace, account_id=ACCOUNT, keys=["k1"], type="json")
    assert kv.bulk_delete(namespace, account_id=ACCOUNT, body=["k1", "never-written"]).successful_key_count == 2
    with pytest.warns(DeprecationWarning):  # the SDK's older aliases send the same requests
        assert kv.keys.bulk_delete(namespace, account_id=ACCOUNT, body=["j"]).successful_key_count == 1
        kv.keys.bulk_update(namespace, account_id=ACCOUNT, body=[{"key": "old-alias", "value": "1"}])
        assert kv.keys.bulk_get(namespace, account_id=ACCOUNT, keys=["old-alias"]).values == {"old-alias": "1"}
    assert [key.name for key in kv.keys.list(namespace, account_id=ACCOUNT)] == ["k2", "old-alias"]


KEYS = ["a/b ?#%: !é", "dir/sub key", "plus+sign", "colon:and/slash", "%2F-literal", "日本語/キー", "tab\tand space "]


def test_special_keys_round_trip(sdk: cloudflare.Cloudflare, namespace: str) -> None:
    values = sdk.kv.namespaces.values
    for i, key in enumerate(KEYS):
        values.update(key, account_id=ACCOUNT, namespace_id=namespace, value=f"value {i}".encode())
    listed = [key.name for key in sdk.kv.namespaces.keys.list(namespace, account_id=ACCOUNT, limit=2)]
    assert listed == sorted(KEYS)
    for i, key in enumerate(KEYS):
        assert values.get(key, account_id=ACCOUNT, namespace_id=namespace).text() == f"value {i}"
    by_prefix = sdk.kv.namespaces.keys.list(namespace, account_id=ACCOUNT, prefix="dir/sub ")
    assert [key.name for key in by_prefix.result] == ["dir/sub key"]
    values.delete("dir/sub key", account_id=ACCOUNT, namespace_id=namespace)
    assert len(list(sdk.kv.namespaces.keys.list(namespace, account_id=ACCOUNT))) == len(KEYS) - 1


def test_bad_credentials_are_an_authentication_error(server: RunningServer, namespace: str) -> None:
    with pytest.raises(cloudflare.AuthenticationError) as wrong:
        server.sdk("not-the-token").kv.namespaces.list(account_id=ACCOUNT)
    assert wrong.value.status_code == 401 and wrong.value.body["errors"][0]["code"] == 10000
    assert "not-the-token" not in str(wrong.value.body)
    by_key = cloudflare.Cloudflare(
        api_email="me@example.com", api_key="not-the-token", base_url=server.base_url, max_retries=0
    )
    with pytest.raises(cloudflare.AuthenticationError):
        by_key.kv.namespaces.get(namespace, account_id=ACCOUNT)
    good_key = cloudflare.Cloudflare(
        api_email="me@example.com", api_key="test-token-1", base_url=server.base_url, max_retries=0
    )
    assert good_key.kv.namespaces.get(namespace, account_id=ACCOUNT).id == namespace


def test_another_account_is_forbidden_and_shows_nothing(server: RunningServer, namespace: str) -> None:
    other = server.sdk(OTHER_TOKEN)
    with pytest.raises(cloudflare.PermissionDeniedError) as forbidden:
        other.kv.namespaces.get(namespace, account_id=ACCOUNT)
    assert forbidden.value.status_code == 403 and forbidden.value.body["result"] is None
    with pytest.raises(cloudflare.PermissionDeniedError):
        other.kv.namespaces.values.get("k", account_id=ACCOUNT, namespace_id=namespace)
    with pytest.raises(cloudflare.PermissionDeniedError):
        server.sdk().kv.namespaces.list(account_id=OTHER_ACCOUNT)
    assert list(other.kv.namespaces.list(account_id=OTHER_ACCOUNT)) == []
    with pytest.raises(cloudflare.NotFoundError):  # its own account has no such namespace
        other.kv.namespaces.get(namespace, account_id=OTHER_ACCOUNT)

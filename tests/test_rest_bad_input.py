"""Bad requests get a 4xx envelope that says what was wrong, and leave the stored data as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _rest_support import TOKEN, RunningServer, running_server

from workersim import Simulation

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server(Simulation(), bulk_body_limit=1024 * 1024) as s:
        yield s


@pytest.fixture(scope="module")
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.namespaces_url(), headers=AUTH) as c:
        yield c


@pytest.fixture(scope="module")
def ns(client: httpx.Client) -> str:
    created = client.post("", json={"title": "bad input"}).json()["result"]["id"]
    written = client.put(f"/{created}/bulk", json=[{"key": "keep", "value": "original", "metadata": {"m": 1}}])
    assert written.status_code == 200
    return created


def snapshot(client: httpx.Client, ns: str) -> Any:
    listed = client.get(f"/{ns}/keys").json()["result"]
    return listed, client.get(f"/{ns}/values/keep").content, client.get("").json()["result"]


def refused(response: httpx.Response, status: int, *needles: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["result"] is None and body["messages"] == []
    [error] = body["errors"]
    assert isinstance(error["code"], int)
    for needle in needles:
        assert needle in error["message"]
    return error["message"]


CASES = [
    pytest.param("POST", "", {"content": b"{not json"}, 400, ["not valid JSON"], id="malformed-json"),
    pytest.param("POST", "", {"json": {"title": 7}}, 400, ["title must be a string, got int"], id="title-type"),
    pytest.param("POST", "", {"json": ["title"]}, 400, ["JSON object"], id="create-array"),
    pytest.param("POST", "", {"json": {"title": "  "}}, 400, ["must not be empty"], id="blank-title"),
    pytest.param(
        "POST", "", {"json": {"title": "x", "jurisdiction": "mars"}}, 400, ["jurisdiction"], id="jurisdiction"
    ),
    pytest.param(
        "PUT", "/{ns}", {"json": {"name": "x"}}, 400, ["title must be a string, got nothing"], id="rename-without-title"
    ),
    pytest.param("PUT", "/{ns}/bulk", {"json": {"key": "a"}}, 400, ["JSON array"], id="bulk-object"),
    pytest.param(
        "PUT",
        "/{ns}/bulk",
        {"json": [{"key": "a", "value": 1}]},
        400,
        ["body[0].value must be a string"],
        id="bulk-value-type",
    ),
    pytest.param(
        "PUT",
        "/{ns}/bulk",
        {"json": [{"key": "ok", "value": "1"}, "nope"]},
        400,
        ["body[1] must be"],
        id="bulk-item-type",
    ),
    pytest.param(
        "PUT",
        "/{ns}/bulk",
        {"json": [{"key": "ok", "value": "1", "expiration_ttl": "60"}]},
        400,
        ["body[0].expiration_ttl must be a number"],
        id="bulk-ttl-type",
    ),
    pytest.param(
        "PUT",
        "/{ns}/bulk",
        {"json": [{"key": "ok", "value": "1", "base64": "yes"}]},
        400,
        ["body[0].base64 must be true or false"],
        id="bulk-base64-flag",
    ),
    pytest.param(
        "PUT",
        "/{ns}/bulk",
        {"json": [{"key": "ok", "value": "1"}, {"key": "b", "value": "@@", "base64": True}]},
        400,
        ["body[1].value is not valid base64"],
        id="bad-base64",
    ),
    pytest.param(
        "PUT",
        "/{ns}/bulk",
        {"json": [{"key": "ok", "value": "1"}, {"key": "", "value": "2"}]},
        400,
        ["body[1]: Key names must not be empty"],
        id="bulk-empty-key",
    ),
    pytest.param(
        "PUT",
        "/{ns}/bulk",
        {"json": [{"key": "ok", "value": "1"}, {"key": "t", "value": "2", "expiration_ttl": 10}]},
        400,
        ["Expiration TTL must be at least 60"],
        id="bulk-short-ttl",
    ),
    pytest.param(
        "PUT", "/{ns}/bulk", {"json": [{"key": "k", "value": "v"}] * 10_001}, 400, ["at most 10000"], id="bulk-too-many"
    ),
    pytest.param(
        "POST", "/{ns}/bulk/delete", {"json": ["keep", 5]}, 400, ["body[1] must be a key name"], id="bulk-delete-type"
    ),
    pytest.param("POST", "/{ns}/bulk/get", {"json": {"keys": "keep"}}, 400, ["'keys'"], id="bulk-get-keys-type"),
    pytest.param("POST", "/{ns}/bulk/get", {"json": {"keys": []}}, 400, ["minimum of 1 key"], id="bulk-get-none"),
    pytest.param(
        "POST",
        "/{ns}/bulk/get",
        {"json": {"keys": ["keep"], "type": "xml"}},
        400,
        ['"xml" is not a valid type'],
        id="bulk-get-type",
    ),
    pytest.param(
        "PUT",
        "/{ns}/values/keep",
        {"files": {"metadata": (None, '{"a":1}')}},
        400,
        ["no 'value' part"],
        id="multipart-without-value",
    ),
    pytest.param(
        "PUT",
        "/{ns}/values/keep",
        {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}},
        400,
        ["multipart"],
        id="multipart-truncated",
    ),
    pytest.param(
        "PUT",
        "/{ns}/values/keep?expiration_ttl=abc",
        {"content": b"v"},
        400,
        ["Invalid expiration_ttl of 0"],
        id="ttl-not-a-number",
    ),
    pytest.param(
        "PUT",
        "/{ns}/values/keep?expiration=99999999999",
        {"content": b"v"},
        400,
        ["out of range"],
        id="expiration-out-of-range",
    ),
    pytest.param(
        "PUT", "/{ns}/values/" + "k" * 513, {"content": b"v"}, 414, ["exceeds key length limit of 512"], id="long-key"
    ),
    pytest.param("PUT", "/{ns}/values/%2E%2E", {"content": b"v"}, 400, ['Illegal key name ".."'], id="dot-dot-key"),
    pytest.param("GET", "/{ns}/keys?limit=0", {}, 400, ["Invalid key_count_limit of 0"], id="limit-0"),
    pytest.param("GET", "/{ns}/keys?limit=abc", {}, 400, ["Invalid key_count_limit of abc"], id="limit-abc"),
    pytest.param("GET", "/{ns}/keys?limit=1001", {}, 400, ["less than 1000"], id="limit-1001"),
    pytest.param("GET", "/{ns}/keys?prefix=" + "p" * 513, {}, 414, ["exceeds key length limit"], id="long-prefix"),
    pytest.param("GET", "?page=abc", {}, 400, ["page must be a whole number"], id="page-abc"),
    pytest.param("GET", "?page=0", {}, 400, ["page must be at least 1"], id="page-0"),
    pytest.param("GET", "?per_page=5000", {}, 400, ["per_page must be between 1 and 1000"], id="per-page"),
    pytest.param("GET", "?order=size", {}, 400, ["order must be one of"], id="order"),
    pytest.param(
        "GET", "/0f2ac74b498b48028cb68387c421e279/values/keep", {}, 404, ["namespace not found"], id="unknown-namespace"
    ),
    pytest.param(
        "PUT",
        "/0f2ac74b498b48028cb68387c421e279/bulk",
        {"json": [{"key": "k", "value": "v"}]},
        404,
        ["namespace not found"],
        id="unknown-namespace-bulk",
    ),
    pytest.param("PATCH", "/{ns}", {}, 405, ["use DELETE, GET, PUT"], id="method"),
    pytest.param("GET", "/{ns}/nothing-here", {}, 404, ["No route"], id="no-route"),
    pytest.param("GET", "/{ns}/values/%FF", {}, 400, ["URL-decode"], id="bad-percent-encoding"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "needles"), CASES)
def test_refused_with_a_clear_message_and_nothing_changes(
    client: httpx.Client, ns: str, method: str, path: str, kwargs: dict[str, Any], status: int, needles: list[str]
) -> None:
    before = snapshot(client, ns)
    refused(client.request(method, path.format(ns=ns), **kwargs), status, *needles)
    assert snapshot(client, ns) == before


def test_oversized_bodies_are_refused_while_they_stream(server: RunningServer, client: httpx.Client, ns: str) -> None:
    before = snapshot(client, ns)
    limit = server.sim.limits.value_bytes

    def chunks(total: int) -> Iterator[bytes]:  # no Content-Length: the server must count as it reads
        for _ in range(total // 65536 + 1):
            yield b"x" * 65536

    refused(client.put(f"/{ns}/values/keep", content=chunks(4 * limit)), 413, "exceeds the limit")
    refused(
        client.put(f"/{ns}/values/keep", content=b"x" * (limit + 1)),
        413,
        f"Value length of {limit + 1} exceeds limit of {limit}.",
    )
    refused(client.put(f"/{ns}/bulk", content=chunks(2 * 1024 * 1024)), 413, "exceeds the limit of 1048576 bytes")
    refused(client.post(f"/{ns}/bulk/get", content=chunks(2 * 1024 * 1024)), 413, "exceeds the limit")
    assert snapshot(client, ns) == before


def test_credentials_are_checked_before_anything_else(server: RunningServer, ns: str) -> None:
    url = server.namespaces_url()
    message = refused(httpx.get(f"{url}/{ns}/values/keep"), 401, "no credentials")
    assert "Bearer" in message
    refused(httpx.get(f"{url}/{ns}/values/keep", headers={"Authorization": "Basic abc"}), 401, "Bearer <token>")
    refused(httpx.get(f"{url}/{ns}/values/keep", headers={"X-Auth-Key": TOKEN}), 401, "sent together")
    refused(httpx.put(f"{url}/nope/bulk", content=b"x" * 5_000_000), 401, "no credentials")
    assert httpx.get(f"{url}/{ns}/values/keep").headers["www-authenticate"].startswith("Bearer")

"""Request, Response and Headers: the Fetch API as Cloudflare's Python Workers expose it."""

from __future__ import annotations

import pytest

from workersim import BodyUsedError, Headers, Request, Response


def test_headers_are_case_insensitive_and_repeatable() -> None:
    headers = Headers({"Content-Type": "text/html", "X-Trace": " a "})
    assert headers["content-type"] == "text/html"
    assert headers.get("CONTENT-TYPE") == "text/html"
    assert "x-trace" in headers and headers.has("X-TRACE")
    assert headers["x-trace"] == "a"  # trimmed, as the Fetch API does
    headers.append("Set-Cookie", "a=1")
    headers.append("set-cookie", "b=2")
    assert headers["set-cookie"] == "a=1, b=2"
    assert headers.multi_items()[-2:] == [("set-cookie", "a=1"), ("set-cookie", "b=2")]
    headers["SET-COOKIE"] = "c=3"
    assert headers.multi_items()[-1] == ("set-cookie", "c=3") and len(headers) == 3
    headers.delete("x-trace")
    assert list(headers) == ["content-type", "set-cookie"]
    assert headers.get("missing") is None
    assert headers["Missing"] is None  # as in Python Workers: no KeyError (a 500 for every visitor without it)
    del headers["Set-Cookie"]
    del headers["X-Powered-By"]  # missing: no KeyError, as with JavaScript's Headers.delete and the SDK's HTTPMessage
    assert list(headers) == ["content-type"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("bad name", "v", "Invalid header name"), ("x", "a\r\nb", "Invalid header value"), ("x", 5, "must have a str")],
)
def test_headers_refuse_bad_fields(name: object, value: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Headers([(name, value)])


async def test_request_shape_and_body_read_once() -> None:
    request = Request("HTTPS://Example.COM", method="post", headers={"X-A": "1"}, body='{"n": 1}')
    assert request.url == "https://example.com/"
    assert request.method == "POST"
    assert request.headers["x-a"] == "1"
    copy = request.clone()
    assert await request.json() == {"n": 1}
    assert request.body_used and request.bodyUsed
    with pytest.raises(BodyUsedError, match="Body already used"):
        await request.text()
    assert await copy.bytes() == b'{"n": 1}'
    assert await Request("https://example.com/").text() == ""  # no body: empty, and not used up


@pytest.mark.parametrize(
    ("url", "init", "message"),
    [
        ("/relative", {}, "absolute http"),
        ("ftp://example.com/", {}, "absolute http"),
        ("https://example.com/", {"body": "x"}, "GET method cannot have a body"),
        ("https://example.com/", {"method": "TRACE"}, "Forbidden HTTP method"),
        ("https://example.com/", {"method": "POST", "body": 42}, "Unsupported type in Request: int"),
    ],
)
def test_request_refuses_bad_input(url: str, init: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Request(url, **init)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url", ["https://example.com/", "HTTP://Example.COM", "https://a.example/p?q=1#f", "/relative"]
)
def test_a_request_made_as_it_arrives_is_the_one_the_constructor_and_at_edge_make(url: str) -> None:
    # sim.fetch(url) makes its request in one step (Request._arriving): it must be Request(url) at the edge.
    cf = {"colo": "LHR", "country": "GB"}
    try:
        expected: Request | str = Request(url)
    except TypeError as error:
        expected = str(error)
    try:
        made: Request | str = Request._arriving(url, cf, 3, "GB")
    except TypeError as error:
        made = str(error)
    if isinstance(expected, str) or isinstance(made, str):
        assert made == expected
        return
    expected._at_edge(cf, 3, "GB")
    for request in (expected, made):
        assert request._cf is cf  # shared until read
    assert (made.url, made.method, repr(made), made.body, made.body_used) == (
        expected.url, expected.method, repr(expected), expected.body, expected.body_used
    )  # fmt: skip
    assert made.headers.multi_items() == expected.headers.multi_items()
    assert made.headers["x-forwarded-proto"] == url.split(":")[0].lower()
    assert made.cf.to_py() == expected.cf.to_py() == cf


async def test_headers_made_at_the_first_look_stay_one_object_and_their_own() -> None:
    response = Response("text")
    headers = response.headers
    assert headers is response.headers and headers["content-type"] == "text/plain;charset=UTF-8"
    headers.append("x-a", "1")
    assert response.headers.multi_items() == [("content-type", "text/plain;charset=UTF-8"), ("x-a", "1")]
    assert repr(response) == "Response(status=200, content_type='text/plain;charset=UTF-8')"
    assert Response(None).headers.multi_items() == [] and repr(Response(None)) == "Response(status=200)"
    assert (await response.clone().text(), response.clone().headers.multi_items()) == ("text", headers.multi_items())
    # Two requests arriving from the same URL start from the same fields: changing one's leaves the other's.
    first = Request._arriving("https://example.com/", {}, 0, "US")
    second = Request._arriving("https://example.com/", {}, 0, "US")
    first.headers["cf-ipcountry"] = "ZZ"
    first.headers.append("x-b", "2")
    assert second.headers["cf-ipcountry"] == "US" and "x-b" not in second.headers
    assert Request(first).headers["x-b"] == "2" and Request(first).headers is not first.headers


async def test_response_constructors_and_readers() -> None:
    text = Response("hello", status=201, headers={"X-A": "1"})
    assert (text.status, text.ok, text.headers["content-type"]) == (201, True, "text/plain;charset=UTF-8")
    assert await text.text() == "hello"
    data = Response.json({"a": [1, 2]}, status=404)
    assert data.status == 404 and not data.ok
    assert data.headers["content-type"] == "application/json"
    assert await data.json() == {"a": [1, 2]}
    redirect = Response.redirect("https://example.com", 301)
    assert (redirect.status, redirect.headers["location"]) == (301, "https://example.com/")
    assert await Response(b"\xff\x00").bytes() == b"\xff\x00"
    custom = Response.json([], headers={"content-type": "application/vnd.api+json"})
    assert custom.headers["content-type"] == "application/vnd.api+json"


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Response("x", status=99), ValueError, "range 200 to 599"),
        (lambda: Response("x", status=204), TypeError, "null body status 204"),
        (lambda: Response({"a": 1}), TypeError, "Unsupported type in Response: dict"),
        (lambda: Response.redirect("https://example.com/", 200), ValueError, "Invalid redirect status"),
        (lambda: Response.redirect("/relative"), TypeError, "absolute http"),
    ],
)
def test_response_refuses_bad_input(make: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()  # type: ignore[operator]


async def test_response_body_is_read_once() -> None:
    response = Response("once")
    clone = response.clone()
    assert await response.text() == "once"
    with pytest.raises(BodyUsedError):
        await response.bytes()
    with pytest.raises(BodyUsedError, match="cannot clone"):
        response.clone()
    assert await clone.text() == "once"


async def test_the_sdk_response_helpers_replace_body_and_from_json() -> None:
    original = Response("old", status=418, status_text="Teapot", headers={"X-Kept": "yes"})
    replaced = original.replace_body('{"n": 2}')
    assert (replaced.status, replaced.status_text, replaced.headers["x-kept"]) == (418, "Teapot", "yes")
    assert await replaced.text() == '{"n": 2}'
    assert await original.string() == "old"  # the original keeps its own body
    made = Response.from_json({"ok": True}, status=201)
    assert (made.status, made.headers["content-type"]) == (201, "application/json")
    assert await made.json() == {"ok": True}

"""OcxClient against a mock transport: requests it sends, answers it parses, errors it raises."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from ocx import __version__
from ocx.client import (
    ApiError,
    OcxClient,
    ServerUnreachable,
    UnexpectedResponse,
    all_items,
    server_url,
)
from ocx.domain.operations.states import OperationState
from tests.unit.client import payloads

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler, token: str | None = "ocx_secret") -> OcxClient:
    """A client whose every request goes to ``handler``."""
    return OcxClient("http://ocx.test:8080", token, timeout=5,
                     transport=httpx.MockTransport(handler))


def test_create_sends_json_token_and_user_agent_and_parses_the_answer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=payloads.org("acme", display_name="Acme"))

    with client_for(handler) as client:
        org = client.create_org("acme", display_name="Acme")
    assert org.name == "acme" and org.display_name == "Acme"
    request = seen[0]
    assert (request.method, request.url.path) == ("POST", "/api/v1/organizations")
    assert json.loads(request.content) == {"name": "acme", "display_name": "Acme"}
    assert request.headers["authorization"] == "Bearer ocx_secret"
    assert request.headers["user-agent"] == f"ocx-cli/{__version__}"


def test_path_segments_are_quoted_and_no_token_means_no_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=payloads.user("bob+x@example.org"))

    with client_for(handler, token=None) as client:
        assert client.get_user("bob+x/y@example.org").email == "bob+x@example.org"
    assert seen[0].url.raw_path == b"/api/v1/users/bob%2Bx%2Fy%40example.org"
    assert "authorization" not in seen[0].headers


def test_member_update_sends_only_what_changes_and_null_to_clear_expiry() -> None:
    bodies: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(422, json=payloads.error("invalid_input", "stop here"))

    when = datetime(2026, 12, 31, tzinfo=UTC)
    with client_for(handler) as client:
        for kwargs in ({"role": "pi"}, {"expires_at": when}, {"clear_expiry": True}):
            with pytest.raises(ApiError):
                client.update_member("demo", "bob@example.org", **kwargs)  # type: ignore[arg-type]
    assert bodies == [{"role": "pi"}, {"expires_at": "2026-12-31T00:00:00Z"},
                      {"expires_at": None}]


def test_delete_returns_none_on_204() -> None:
    with client_for(lambda request: httpx.Response(204)) as client:
        assert client.delete_org("acme") is None


def test_error_body_becomes_api_error() -> None:
    answer = httpx.Response(409, json=payloads.error("conflict", "organization acme already "
                                                     "exists"))
    with client_for(lambda request: answer) as client, pytest.raises(ApiError) as caught:
        client.create_org("acme")
    assert (caught.value.status, caught.value.type) == (409, "conflict")
    assert str(caught.value) == "organization acme already exists"


@pytest.mark.parametrize("answer", [
    httpx.Response(502, text="<html><h1>502 Bad Gateway</h1></html>"),
    httpx.Response(503, json={"detail": "maintenance"}),
    httpx.Response(500, json=["not", "an", "object"]),
])
def test_error_without_ocx_body_gets_a_clear_message(answer: httpx.Response) -> None:
    with client_for(lambda request: answer) as client, pytest.raises(ApiError) as caught:
        client.list_orgs()
    assert caught.value.status == answer.status_code
    assert caught.value.type == "http_error"
    assert "GET http://ocx.test:8080/api/v1/organizations answered HTTP" in caught.value.message
    assert "without an OCX error body" in caught.value.message


@pytest.mark.parametrize("answer", [httpx.Response(200, text="<html>web page</html>"),
                                    httpx.Response(200, json={"unexpected": True})])
def test_success_with_a_body_of_another_shape_is_unexpected(answer: httpx.Response) -> None:
    with client_for(lambda request: answer) as client, pytest.raises(UnexpectedResponse,
                                                                    match=r"ocx\.test:8080"):
        client.me()


def test_all_items_follows_next_cursor_with_filters_and_page_size() -> None:
    queries: list[dict[str, str]] = []
    pages = {None: payloads.page([payloads.org("a1"), payloads.org("a2")], "c1"),
             "c1": payloads.page([payloads.org("a3")], "c2"),
             "c2": payloads.page([])}

    def handler(request: httpx.Request) -> httpx.Response:
        queries.append(dict(request.url.params))
        return httpx.Response(200, json=pages[request.url.params.get("cursor")])

    with client_for(handler) as client:
        names = [org.name for org in all_items(client.list_orgs, page_size=2, name="a")]
    assert names == ["a1", "a2", "a3"]
    assert queries == [{"limit": "2", "name": "a"}, {"limit": "2", "name": "a", "cursor": "c1"},
                       {"limit": "2", "name": "a", "cursor": "c2"}]


def test_operations_parse_into_the_domain_schema() -> None:
    body = payloads.operation("failed", attempts=8, last_error="keystone said no")
    with client_for(lambda request: httpx.Response(200, json=body)) as client:
        op = client.get_operation(body["id"])
    assert op.state is OperationState.FAILED
    assert op.last_error == "keystone said no"


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def _time_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(("handler", "reason"), [(_refuse, "Connection refused"),
                                                 (_time_out, "no answer within 5s")])
def test_connection_failures_name_the_url(handler: Handler, reason: str) -> None:
    with client_for(handler) as client, pytest.raises(ServerUnreachable) as caught:
        client.health()
    assert str(caught.value).startswith("cannot reach OCX at http://ocx.test:8080: ")
    assert reason in str(caught.value)


@pytest.mark.parametrize(("given", "normal"), [
    ("http://ocx.test:8080", "http://ocx.test:8080"),
    ("https://ocx.example.org/", "https://ocx.example.org"),
    (" http://ocx.test:8080/api/v1/ ", "http://ocx.test:8080"),
])
def test_server_url_is_normalized(given: str, normal: str) -> None:
    assert server_url(given) == normal


@pytest.mark.parametrize("bad", ["ocx.test:8080", "ftp://ocx.test", "http://", "http://[::1"])
def test_server_url_rejects_what_is_not_http(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid OCX URL"):
        server_url(bad)

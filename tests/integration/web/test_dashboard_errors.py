"""Domain errors raised by pages become the error page; the API keeps its JSON errors."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from tests.integration.web.forms import sign_in_as
from tests.support.world import World


@pytest.mark.parametrize("url", [
    "/projects/{b}", "/projects/{b}/members", "/projects/{b}/budget", "/projects/{b}/usage",
    "/allocations/{missing}", "/operations/{missing}", "/invoices/{missing}",
])
def test_a_page_out_of_reach_is_the_error_page_with_navigation(
        client: TestClient, world: World, url: str) -> None:
    sign_in_as(client, world, "pi_a")
    response = client.get(url.format(b=world.project_ids["b"], missing=uuid.uuid4()))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in response.text
    assert "<title>Not found · Open Cloud eXchange</title>" in response.text
    assert 'aria-label="main"' in response.text  # the navigation is there
    assert "proj-b" not in response.text


def test_operator_pages_refuse_others_with_one_message(client: TestClient,
                                                       world: World) -> None:
    sign_in_as(client, world, "admin_a")
    response = client.get("/operator/audit")
    assert response.status_code == 403
    assert "<h1>Operators only</h1>" in response.text
    assert "exchange&#39;s operators" in response.text


def test_the_api_keeps_its_json_errors(client: TestClient,
                                                        world: World) -> None:
    sign_in_as(client, world, "pi_a")
    api = client.get(f"/api/v1/projects/{world.project_ids['b']}",
                     headers=world["pi_a"].headers)
    assert api.status_code == 404
    assert api.json()["error"]["type"] == "not_found"
    nowhere = client.get("/api/v1/nothing-here", headers=world["pi_a"].headers)
    assert nowhere.status_code == 404 and nowhere.json()["error"]["type"] == "not_found"


def test_bad_addresses_of_pages_are_error_pages(client: TestClient, world: World) -> None:
    sign_in_as(client, world, "pi_a")
    bad = client.get("/invoices/not-a-uuid")
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    assert "<h1>That did not work</h1>" in bad.text and "invoice_id" in bad.text
    nowhere = client.get("/no-such-page")
    assert nowhere.status_code == 404 and "There is no page at /no-such-page." in nowhere.text
    assert "<h1>Not found</h1>" in nowhere.text


def test_a_bad_export_format_is_an_error_page(client: TestClient, world: World) -> None:
    sign_in_as(client, world, "admin_a")
    response = client.get(f"/invoices/{uuid.uuid4()}/export?format=xls")
    assert response.status_code == 422
    assert "is not one of csv, focus, pdf" in response.text
    assert "<h1>That did not work</h1>" in response.text

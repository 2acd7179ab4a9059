"""The researcher's dashboard: projects, requesting allocations, credentials, operations."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ocx.runtime import Runtime
from tests.integration.web.forms import csrf_token, sign_in_as
from tests.support.operations import run_due_operations
from tests.support.world import World

API = "/api/v1"
COMPONENTS = [
    {"name": "cores", "unit": "core", "max": 64, "default": 4},
    {"name": "ram_mib", "unit": "MiB", "max": 262144, "default": 8192},
]


@pytest.fixture
def offering(client: TestClient, world: World) -> dict[str, Any]:
    """org-b sells "compute" (fake driver, approved automatically) with one plan."""
    op, admin = world["operator"].headers, world["admin_b"].headers
    provider = client.post(f"{API}/providers", headers=op,
                           json={"organization": "org-b", "name": "cloudb"})
    assert provider.status_code == 201, provider.text
    made = client.post(f"{API}/offerings", headers=admin, json={
        "provider": "cloudb", "name": "compute", "kind": "openstack", "driver": "fake",
        "driver_settings": {"cloud": f"web-{uuid.uuid4().hex}"}, "components": COMPONENTS,
        "auto_approve": True})
    assert made.status_code == 201, made.text
    plan = client.post(f"{API}/offerings/cloudb:compute/plans", headers=admin, json={
        "name": "standard", "currency": "USD", "rates": [
            {"component": "cores", "kind": "usage", "unit": "core-hour",
             "unit_price": "0.012", "valid_from": "2026-01-01T00:00:00Z"}]})
    assert plan.status_code == 201, plan.text
    return {"offering": made.json(), "plan": plan.json()}


@pytest.fixture
def allocation(client: TestClient, world: World, runtime: Runtime,
               offering: dict[str, Any]) -> dict[str, Any]:
    """An active allocation of org-a's project, requested by its PI through the API."""
    made = client.post(f"{API}/allocations", headers=world["pi_a"].headers, json={
        "project": "org-a:proj-a", "offering": "cloudb:compute", "quota": {"cores": 8}})
    assert made.status_code == 201, made.text
    run_due_operations(runtime)
    body: dict[str, Any] = client.get(f"{API}/allocations/{made.json()['id']}",
                                      headers=world["pi_a"].headers).json()
    assert body["state"] == "active", body
    return body


def _shows_quota(html: str, component: str, limit: int) -> bool:
    return re.search(rf'quota-name">{component}</span> {limit} ', html) is not None


def _request(client: TestClient, project_id: str, offering_id: str,
             **fields: str) -> Any:
    page = client.get(f"/projects/{project_id}/allocations/new?offering={offering_id}")
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_token(page.text), "offering": offering_id, **fields}
    return client.post(f"/projects/{project_id}/allocations/new", data=data,
                       follow_redirects=False)


# --- home and project pages ------------------------------------------------------------

def test_home_shows_projects_allocations_and_operations(
        client: TestClient, world: World, allocation: dict[str, Any]) -> None:
    sign_in_as(client, world, "pi_a")
    page = client.get("/").text
    assert f'href="/projects/{world.project_ids["a"]}"' in page
    assert '<span class="badge">pi</span>' in page
    assert f'href="/allocations/{allocation["id"]}"' in page
    assert "cloudb:compute" in page and "state-active" in page
    assert "Your recent operations" in page
    assert "Apply the allocation on the provider" in page
    assert "Your organizations" in page and "Sign out of every browser" in page


def _project_page(client: TestClient, world: World, who: str) -> tuple[str, str]:
    """org-a's project page as ``who`` sees it, and the project's id."""
    sign_in_as(client, world, who)
    project_id = world.project_ids["a"]
    page = client.get(f"/projects/{project_id}")
    assert page.status_code == 200
    return page.text, project_id


def test_project_page_lists_allocations_and_links_the_other_areas(
        client: TestClient, world: World, allocation: dict[str, Any]) -> None:
    page, project_id = _project_page(client, world, "pi_a")
    for area in ("members", "budget", "usage"):
        assert f'href="/projects/{project_id}/{area}"' in page
    assert f'href="/allocations/{allocation["id"]}"' in page
    assert "state-active" in page and "standard" in page
    assert _shows_quota(page, "cores", 8)
    assert "Request an allocation" in page


def test_a_member_sees_the_project_but_may_not_request(
        client: TestClient, world: World, allocation: dict[str, Any]) -> None:
    page, project_id = _project_page(client, world, "member_a")
    assert "Request an allocation" not in page
    assert client.get(f"/projects/{project_id}/allocations/new").status_code == 403
    shown = client.get(f"/allocations/{allocation['id']}").text
    assert "Ask for a change" not in shown
    assert "Issue new credentials" in shown


@pytest.mark.parametrize("path", [
    "/projects/{project}", "/projects/{project}/allocations/new",
    "/allocations/{allocation}", "/allocations/{allocation}/status",
    "/operations/{operation}", "/operations/{operation}/progress",
])
def test_other_tenants_pages_are_not_found(client: TestClient, world: World,
                                           allocation: dict[str, Any], path: str) -> None:
    operation = _operation_ids(client, world, allocation["id"])[0]
    sign_in_as(client, world, "pi_b")
    url = path.format(project=world.project_ids["a"], allocation=allocation["id"],
                      operation=operation)
    response = client.get(url)
    assert response.status_code == 404, url
    assert "not found" in response.text
    assert "proj-a" not in response.text


def test_other_tenants_forms_are_refused(client: TestClient, world: World,
                                         allocation: dict[str, Any]) -> None:
    sign_in_as(client, world, "pi_b")
    token = csrf_token(client.get("/").text)
    for url in (f"/allocations/{allocation['id']}/changes",
                f"/allocations/{allocation['id']}/credentials",
                f"/projects/{world.project_ids['a']}/allocations/new"):
        response = client.post(url, data={"csrf_token": token, "quota_cores": "9",
                                          "offering": allocation["offering_id"]})
        assert response.status_code == 404, url


def test_malformed_ids_are_not_found(client: TestClient, world: World) -> None:
    sign_in_as(client, world, "pi_a")
    for url in ("/projects/proj-a", "/allocations/nope", "/operations/nope"):
        assert client.get(url).status_code == 404, url


def test_pages_need_a_signed_in_person(client: TestClient, world: World) -> None:
    response = client.get(f"/projects/{world.project_ids['a']}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


# --- requesting an allocation ----------------------------------------------------------

def test_request_an_allocation_and_see_it_become_active(
        client: TestClient, world: World, runtime: Runtime, offering: dict[str, Any]) -> None:
    sign_in_as(client, world, "pi_a")
    project_id, offering_id = world.project_ids["a"], offering["offering"]["id"]
    market = client.get(f"/projects/{project_id}/allocations/new").text
    assert f"?offering={offering_id}" in market and "automatic" in market
    form = client.get(f"/projects/{project_id}/allocations/new?offering={offering_id}").text
    assert 'name="quota_cores"' in form and 'value="4"' in form and "standard" in form
    response = _request(client, project_id, offering_id, quota_cores="16",
                        quota_ram_mib="16384", plan=offering["plan"]["id"],
                        ends_at="2099-12-31", justification="a study")
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/allocations/[0-9a-f-]{36}", location)
    page = client.get(location).text
    assert "being provisioned" in page
    assert "state-provisioning" in page and 'hx-trigger="every 2s"' in page
    run_due_operations(runtime)
    status = client.get(f"{location}/status?live=true")
    assert "state-active" in status.text and "hx-trigger" not in status.text
    assert status.headers.get("HX-Refresh") == "true"
    page = client.get(location).text
    assert "state-active" in page and _shows_quota(page, "ram_mib", 16384)
    assert "2099-12-31" in page


@pytest.mark.parametrize(("fields", "message"), [
    ({"quota_cores": "65"}, "cores 65 exceeds the offering&#39;s max of 64"),
    ({"quota_cores": "many"}, "cores must be a whole number"),
    ({"ends_at": "2001-01-01"}, "ends_at must be in the future"),
    ({"ends_at": "someday"}, "is not a date"),
    ({"plan": "gold"}, "has no plan gold"),
    ({"justification": "x" * 5000}, "justification"),
])
def test_request_form_shows_validation_errors(client: TestClient, world: World,
                                              offering: dict[str, Any],
                                              fields: dict[str, str], message: str) -> None:
    sign_in_as(client, world, "pi_a")
    response = _request(client, world.project_ids["a"], offering["offering"]["id"], **fields)
    assert 400 <= response.status_code < 500, response.text
    assert 'role="alert"' in response.text and message in response.text
    assert 'name="quota_cores"' in response.text  # the form is shown again


def test_second_request_on_the_same_offering_is_a_conflict(
        client: TestClient, world: World, allocation: dict[str, Any]) -> None:
    sign_in_as(client, world, "pi_a")
    response = _request(client, world.project_ids["a"], allocation["offering_id"])
    assert response.status_code == 409
    assert "ask for a change instead" in response.text


def test_unknown_offering_is_refused_on_the_form(client: TestClient, world: World,
                                                 offering: dict[str, Any]) -> None:
    sign_in_as(client, world, "pi_a")
    project_id = world.project_ids["a"]
    page = client.get(f"/projects/{project_id}/allocations/new?offering={uuid.uuid4()}")
    assert page.status_code == 422 and "choose one of the offerings" in page.text


def test_forms_need_the_csrf_token(client: TestClient, world: World,
                                   allocation: dict[str, Any]) -> None:
    sign_in_as(client, world, "pi_a")
    for url in (f"/projects/{world.project_ids['a']}/allocations/new",
                f"/allocations/{allocation['id']}/changes",
                f"/allocations/{allocation['id']}/credentials"):
        response = client.post(url, data={"offering": allocation["offering_id"]})
        assert response.status_code == 403, url
        assert "Form expired" in response.text


# --- changes, credentials and operations -----------------------------------------------

def _post_on_allocation_page(client: TestClient, allocation_id: str, action: str,
                             **fields: str) -> Any:
    token = csrf_token(client.get(f"/allocations/{allocation_id}").text)
    return client.post(f"/allocations/{allocation_id}/{action}",
                       data={"csrf_token": token, **fields}, follow_redirects=False)


def test_pi_changes_the_quota(client: TestClient, world: World, runtime: Runtime,
                              allocation: dict[str, Any]) -> None:
    sign_in_as(client, world, "pi_a")
    response = _post_on_allocation_page(client, allocation["id"], "changes", kind="quota",
                                        quota_cores="12", quota_ram_mib="8192")
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    assert "Change approved" in page and "state-changing" in page
    run_due_operations(runtime)
    page = client.get(response.headers["location"]).text
    assert "state-active" in page and _shows_quota(page, "cores", 12)


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "quota", "quota_cores": "8", "quota_ram_mib": "8192"}, "change at least one"),
    ({"kind": "quota", "quota_cores": "100"}, "exceeds the offering&#39;s max of 64"),
    ({"kind": "renewal"}, "choose the date"),
    ({"kind": "renewal", "ends_at": "2001-01-01"}, "ends_at must be in the future"),
])
def test_change_form_shows_validation_errors(client: TestClient, world: World,
                                             allocation: dict[str, Any],
                                             fields: dict[str, str], message: str) -> None:
    sign_in_as(client, world, "pi_a")
    response = _post_on_allocation_page(client, allocation["id"], "changes", **fields)
    assert 400 <= response.status_code < 500
    assert 'role="alert"' in response.text and message in response.text


def test_a_member_may_not_ask_for_a_change(client: TestClient, world: World,
                                           allocation: dict[str, Any]) -> None:
    sign_in_as(client, world, "member_a")
    response = _post_on_allocation_page(client, allocation["id"], "changes", kind="quota",
                                        quota_cores="12")
    assert response.status_code == 403
    assert "may not allocation change" in response.text


def test_issue_and_download_credentials_once(client: TestClient, world: World,
                                             runtime: Runtime,
                                             allocation: dict[str, Any]) -> None:
    sign_in_as(client, world, "member_a")
    response = _post_on_allocation_page(client, allocation["id"], "credentials")
    assert response.status_code == 303
    operation_url = response.headers["location"]
    pending = client.get(operation_url).text
    assert "Issue credentials" in pending and 'hx-trigger="every 2s"' in pending
    run_due_operations(runtime)
    done = client.get(f"{operation_url}/progress").text
    assert "hx-trigger" not in done and "Download credentials" in done
    assert "fake-credentials.ini" in done
    token = csrf_token(done)
    download_url = f"/allocations/{allocation['id']}/credentials/{operation_url.split('/')[-1]}"
    first = client.post(download_url, data={"csrf_token": token})
    assert first.status_code == 200
    assert first.headers["content-disposition"] == 'attachment; filename="fake-credentials.ini"'
    assert "key_id = " in first.text and "secret = " in first.text
    again = client.post(download_url, data={"csrf_token": token})
    assert again.status_code == 409 and "collected already" in again.text
    assert "Download credentials" not in client.get(f"/allocations/{allocation['id']}").text


def test_credentials_of_someone_else_are_not_found(client: TestClient, world: World,
                                                   runtime: Runtime,
                                                   allocation: dict[str, Any]) -> None:
    sign_in_as(client, world, "member_a")
    issued = _post_on_allocation_page(client, allocation["id"], "credentials")
    run_due_operations(runtime)
    operation_id = issued.headers["location"].split("/")[-1]
    with TestClient(client.app) as other:
        sign_in_as(other, world, "manager_a")
        token = csrf_token(other.get("/").text)
        response = other.post(f"/allocations/{allocation['id']}/credentials/{operation_id}",
                              data={"csrf_token": token})
        assert response.status_code == 404
        assert other.get(f"/operations/{operation_id}").status_code == 404


def test_several_credential_files_come_as_one_zip() -> None:
    from ocx.web.dashboard.allocations import credentials_file

    response = credentials_file({"clouds.yaml": "clouds: {}\n", "openrc.sh": "export A=1\n"},
                                "proj-compute-credentials.zip")
    assert response.headers["content-disposition"] == (
        'attachment; filename="proj-compute-credentials.zip"')
    names = zipfile.ZipFile(io.BytesIO(response.body)).namelist()
    assert sorted(names) == ["clouds.yaml", "openrc.sh"]


def test_allocation_page_lists_its_operations(client: TestClient, world: World,
                                              allocation: dict[str, Any]) -> None:
    sign_in_as(client, world, "pi_a")
    page = client.get(f"/allocations/{allocation['id']}").text
    for operation_id in _operation_ids(client, world, allocation["id"]):
        assert f'href="/operations/{operation_id}"' in page
    operation = client.get(f"/operations/{_operation_ids(client, world, allocation['id'])[0]}")
    assert operation.status_code == 200
    assert "state-done" in operation.text and "hx-trigger" not in operation.text
    assert f'href="/allocations/{allocation["id"]}"' in operation.text


def _operation_ids(client: TestClient, world: World, allocation_id: str) -> list[str]:
    listed = client.get(f"{API}/operations?limit=100", headers=world["operator"].headers)
    return [op["id"] for op in listed.json()["items"] if op["target_id"] == allocation_id]

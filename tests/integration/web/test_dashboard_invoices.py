"""The invoice pages: an admin sees and downloads their organization's invoices, a PI
their projects' pages, nobody another organization's; bad filters get a message."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ocx.runtime import Runtime
from tests.integration.billing.support import API, ok, priced_market, server
from tests.integration.web.forms import sign_in_as
from tests.integration.web.test_dashboard_usage import at
from tests.support.world import World


@pytest.fixture
def october(client: TestClient, runtime: Runtime, world: World) -> dict[str, Any]:
    """October's draft invoices of org-a (server s1 for a day) and org-b (secret-b)."""
    market = priced_market(client, world)
    server(runtime, market, world.project_ids["a"], "s1", at(1), at(2), vcpus=4,
           ram_mib=8192)
    server(runtime, market, world.project_ids["b"], "secret-b", at(1), at(3), vcpus=2,
           ram_mib=4096)
    made = ok(client.post(f"{API}/invoices", headers=world["operator"].headers,
                          json={"period": "2026-10"}))
    by_org = {invoice["organization_id"]: invoice for invoice in made}
    return {"a": by_org[world.org_ids["a"]], "b": by_org[world.org_ids["b"]]}


def test_admin_sees_their_organization_invoice_whole(client: TestClient, world: World,
                                                     october: dict[str, Any]) -> None:
    a, b = october["a"], october["b"]
    sign_in_as(client, world, "admin_a")
    listed = client.get("/invoices")
    assert listed.status_code == 200, listed.text
    assert f'href="/invoices/{a["id"]}"' in listed.text and b["id"] not in listed.text
    assert f"{float(a['total']):,.2f} USD" in listed.text
    page = client.get(f"/invoices/{a['id']}")
    assert page.status_code == 200, page.text
    for text in ("Invoice of org-a for 2026-10", "server s1", "cpu_su", "proj-a",
                 f"{float(a['total']):,.2f} USD", f"/invoices/{a['id']}/export?format=pdf",
                 f"/invoices/{a['id']}/projects/{world.project_ids['a']}"):
        assert text in page.text
    summary = client.get(f"/invoices/{a['id']}/projects/{world.project_ids['a']}")
    assert summary.status_code == 200 and "s1" in summary.text
    assert f"/projects/{world.project_ids['a']}/usage" in summary.text


def test_downloads_have_their_type_and_content(client: TestClient, world: World,
                                              october: dict[str, Any]) -> None:
    invoice = october["a"]["id"]
    sign_in_as(client, world, "admin_a")
    csv = client.get(f"/invoices/{invoice}/export?format=csv")
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.headers["content-disposition"] == (
        'attachment; filename="invoice-org-a-2026-10.csv"')
    assert csv.text.startswith("invoice_id,period,organization,project,")
    assert f"{invoice},2026-10,org-a,proj-a,server,s1," in csv.text
    focus = client.get(f"/invoices/{invoice}/export?format=focus")
    assert focus.status_code == 200 and focus.text.startswith("BillingAccountId,")
    assert "invoice-org-a-2026-10.focus.csv" in focus.headers["content-disposition"]
    api = client.get(f"{API}/invoices/{invoice}/export",
                     headers=world["admin_a"].headers)
    assert csv.text == api.text  # the same export as the API's
    pdf = client.get(f"/invoices/{invoice}/export?format=pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_another_organization_never_sees_the_invoice(client: TestClient, world: World,
                                                     october: dict[str, Any]) -> None:
    b = october["b"]["id"]
    for who in ("admin_a", "pi_a"):
        sign_in_as(client, world, who)
        assert b not in client.get("/invoices").text
        for path in (f"/invoices/{b}", f"/invoices/{b}/export?format=csv",
                     f"/invoices/{b}/export?format=pdf",
                     f"/invoices/{b}/projects/{world.project_ids['b']}",
                     f"/invoices/{b}/projects/{world.project_ids['b']}/export",
                     f"/invoices/{b}/projects/{world.project_ids['b']}/export?format=csv"):
            answer = client.get(path)
            assert answer.status_code == 404, (who, path)
            assert "secret-b" not in answer.text


def test_pi_sees_and_downloads_their_project_page_only(client: TestClient, world: World,
                                                       october: dict[str, Any]) -> None:
    a, project = october["a"], world.project_ids["a"]
    sign_in_as(client, world, "pi_a")
    listed = client.get("/invoices").text
    assert f'href="/invoices/{a["id"]}/projects/{project}"' in listed
    page = client.get(f"/invoices/{a['id']}")
    assert page.status_code == 200, page.text
    assert "You see the pages of the projects you lead" in page.text
    assert "s1" in page.text and "Total" in page.text
    assert f"/invoices/{a['id']}/export?format=csv" not in page.text  # not the whole one
    assert client.get(f"/invoices/{a['id']}/export?format=csv").status_code == 404
    pdf = client.get(f"/invoices/{a['id']}/projects/{project}/export")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    assert f"/invoices/{a['id']}/projects/{project}/export?format=csv" in page.text
    csv = client.get(f"/invoices/{a['id']}/projects/{project}/export?format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    header, *rows = csv.text.splitlines()
    assert header.startswith("invoice_id,period,organization,project") and rows
    assert all(",proj-a," in row for row in rows)
    focus = client.get(f"/invoices/{a['id']}/projects/{project}/export?format=focus")
    assert focus.status_code == 200 and "BilledCost" in focus.text.splitlines()[0]
    bad = client.get(f"/invoices/{a['id']}/projects/{project}/export?format=xls")
    assert bad.status_code == 422 and "is not one of csv, focus, pdf" in bad.text
    sign_in_as(client, world, "member_a")
    assert "No invoices" in client.get("/invoices").text
    assert client.get(f"/invoices/{a['id']}").status_code == 404


def test_filters_by_month_and_state(client: TestClient, world: World,
                                    october: dict[str, Any]) -> None:
    sign_in_as(client, world, "admin_a")
    assert october["a"]["id"] in client.get("/invoices?period=2026-10&state=draft").text
    for query in ("period=2026-09", "state=final"):
        page = client.get(f"/invoices?{query}")
        assert page.status_code == 200 and "No invoices match these filters" in page.text


@pytest.mark.parametrize(("path", "message"), [
    ("/invoices?period=2026-13", "period: &#39;2026-13&#39; is not a month (YYYY-MM)"),
    ("/invoices?state=paid", "state: &#39;paid&#39; is neither draft nor final"),
    ("/invoices/{id}/export?format=xls", "format: &#39;xls&#39; is not one of csv, focus, pdf"),
])
def test_bad_filters_are_refused_with_a_message(client: TestClient, world: World,
                                                october: dict[str, Any], path: str,
                                                message: str) -> None:
    sign_in_as(client, world, "admin_a")
    page = client.get(path.format(id=october["a"]["id"]))
    assert page.status_code == 422
    assert message in page.text

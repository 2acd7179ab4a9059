"""A month of org-a computed by hand, checked to the cent through the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.billing.support import API, ok
from tests.support.world import World

pytestmark = pytest.mark.billing

# (resource, component, unit price) -> (quantity, amount); see docs/billing.md
EXPECTED = {
    ("s1", "cpu_su", "0.013000"): ("1440.000000", "18.72"),  # 4 SU x (240 h + 120 h stopped)
    ("s1", "cpu_su", "0.015000"): ("1440.000000", "21.60"),  # 4 SU x (384 h - 24 h outage)
    ("s2", "cpu_su", "0.013000"): ("1488.000000", "19.34"),  # 4 x 348 h + 8 x 12 h; 19.344
    ("s2", "cpu_su", "0.015000"): ("768.000000", "11.52"),   # 8 SU x 96 h, deleted Oct 20
    ("s3", "cpu_su", "0.013000"): ("24.000000", "0.31"),     # one day, then shelved; 0.312
    ("s5", "gpu_a100_su", "1.500000"): ("48.000000", "72.00"),
    ("v1", "storage_gib", "0.000100"): ("108000.000000", "10.80"),  # 100x360 + 200x(384-24)
    ("f1", "floating_ips", "0.005000"): ("3.000000", "0.02"),  # 0.015: half to even, up
    ("f2", "floating_ips", "0.005000"): ("1.000000", "0.00"),  # 0.005: half to even, down
}


def generate(client: TestClient, world: World, org: str = "org-a") -> dict[str, Any]:
    """Generate org's October invoice and return it in full."""
    made = ok(client.post(f"{API}/invoices", headers=world["operator"].headers,
                          json={"period": "2026-10", "organization": org}))
    assert len(made) == 1
    return ok(client.get(f"{API}/invoices/{made[0]['id']}", headers=world["operator"].headers))


def grant(client: TestClient, world: World, **body: Any) -> dict[str, Any]:
    """Grant a credit as the operator."""
    body = {"organization": "org-a", "valid_from": "2026-01-01T00:00:00Z"} | body
    return ok(client.post(f"{API}/credits", json=body, headers=world["operator"].headers), 201)


def _content(line: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in line.items() if key != "id"}


def test_a_month_to_the_cent(client: TestClient, world: World, october: dict[str, Any]) -> None:
    invoice = generate(client, world)
    got = {(line["resource_id"], line["component"], line["unit_price"]):
           (line["quantity"], line["amount"]) for line in invoice["lines"]}
    assert got == EXPECTED
    assert (invoice["state"], invoice["currency"], invoice["subtotal"], invoice["total"]) == (
        "draft", "USD", "154.31", "154.31")
    assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal("154.31")
    s1 = [line for line in invoice["lines"] if line["resource_id"] == "s1"]
    assert {line["user_id"] for line in s1} == {october["pi"]}
    assert all(len(line["span_ids"]) >= 1 and line["rate_id"] for line in invoice["lines"])


def test_credits_in_their_order(client: TestClient, world: World,
                                october: dict[str, Any]) -> None:
    # org-wide, first by priority but after every credit of the project itself
    dept = grant(client, world, name="dept", amount="30", priority=1)
    new_pi = grant(client, world, name="new-pi", project=october["project"], amount="100",
                   excluded_components=["gpu*"])
    invoice = generate(client, world)
    used: dict[str, Decimal] = {}
    for use in invoice["credits"]:
        used[use["credit_id"]] = used.get(use["credit_id"], Decimal(0)) + Decimal(use["amount"])
    # new-pi pays proj-a's non-GPU lines (154.31 - 72.00 GPU - 0.31 of proj-a2 = 82.00);
    # then dept pays 30 of what is left (the GPU server, proj-a2's server)
    assert used == {new_pi["id"]: Decimal("82.00"), dept["id"]: Decimal("30.00")}
    assert (invoice["credits_total"], invoice["total"]) == ("112.00", "42.31")
    assert invoice["credits"][0]["credit_id"] == new_pi["id"]


def test_project_page(client: TestClient, world: World, october: dict[str, Any]) -> None:
    grant(client, world, name="new-pi", project=october["project"], amount="10")
    invoice = generate(client, world)
    page = ok(client.get(f"{API}/invoices/{invoice['id']}/projects/{october['project']}",
                         headers=world["pi_a"].headers))
    assert (page["project"], page["organization"]) == ("proj-a", "org-a")
    assert [p["email"] for p in page["pis"]] == ["pi@a.example.org"]
    assert {u["email"] for u in page["users"]} == {
        "pi@a.example.org", "manager@a.example.org", "member@a.example.org"}
    servers = {s["resource_id"]: s for s in page["sections"]["servers"]}
    assert set(servers) == {"s1", "s2", "s5"}
    assert (servers["s1"]["quantity"], servers["s1"]["amount"]) == ("2880.000000", "40.32")
    assert servers["s2"]["attributes"]["vcpus"] == 8  # its last shape
    assert page["sections"]["volumes"][0]["amount"] == "10.80"
    assert {f["resource_id"] for f in page["sections"]["floating_ips"]} == {"f1", "f2"}
    assert (page["subtotal"], page["credits"], page["total"]) == ("154.00", "10.00", "144.00")
    other = ok(client.get(f"{API}/invoices/{invoice['id']}/projects/{october['project2']}",
                          headers=world["admin_a"].headers))
    assert (other["subtotal"], other["pis"]) == ("0.31", [])


def test_final_invoices_never_change(client: TestClient, world: World,
                                     october: dict[str, Any]) -> None:
    op = world["operator"].headers
    invoice = generate(client, world)
    again = generate(client, world)  # a draft is replaced, its id kept, the same result
    assert again["id"] == invoice["id"]
    assert [_content(line) for line in again["lines"]] == [
        _content(line) for line in invoice["lines"]]
    final = ok(client.post(f"{API}/invoices/{invoice['id']}/finalize", headers=op))
    assert final["state"] == "final" and final["finalized_at"]
    refused = client.post(f"{API}/invoices", headers=op,
                          json={"period": "2026-10", "organization": "org-a"})
    assert (refused.status_code, refused.json()["error"]["type"]) == (409, "invoice_final")
    assert client.post(f"{API}/invoices/{invoice['id']}/finalize", headers=op).status_code == 409
    # nothing may change the closed month's prices or outages
    late_rate = client.post(f"{API}/price-book/cloudb:compute/plans/standard/rates", headers=op,
                            json={"component": "cpu_su", "unit_price": "1",
                                  "valid_from": "2026-10-20T00:00:00Z"})
    assert late_rate.status_code == 409, late_rate.text
    late_outage = client.post(f"{API}/price-book/outages", headers=op, json={
        "provider": "cloudb", "starts_at": "2026-10-01T00:00:00Z",
        "ends_at": "2026-10-02T00:00:00Z"})
    assert late_outage.status_code == 409
    # generating every organization leaves the final one alone
    ok(client.post(f"{API}/invoices", headers=op, json={"period": "2026-10"}))
    after = ok(client.get(f"{API}/invoices/{invoice['id']}", headers=op))
    assert after["lines"] == again["lines"] and after["total"] == invoice["total"]


def test_credit_note_corrects_a_final_invoice(client: TestClient, world: World,
                                             october: dict[str, Any]) -> None:
    op = world["operator"].headers
    invoice = generate(client, world)
    body = {"reason": "s2 was slow", "lines": [{"project": october["project"],
                                                 "description": "goodwill", "amount": "5.25"}]}
    draft_refused = client.post(f"{API}/invoices/{invoice['id']}/credit-notes", json=body,
                                headers=op)
    assert draft_refused.status_code == 409
    ok(client.post(f"{API}/invoices/{invoice['id']}/finalize", headers=op))
    note = ok(client.post(f"{API}/invoices/{invoice['id']}/credit-notes", json=body,
                          headers=op), 201)
    assert (note["kind"], note["corrects_id"], note["total"]) == (
        "credit_note", invoice["id"], "-5.25")
    ok(client.post(f"{API}/invoices/{note['id']}/finalize", headers=op))
    listed = ok(client.get(f"{API}/invoices?organization=org-a", headers=world["admin_a"].headers))
    assert {i["kind"] for i in listed["items"]} == {"invoice", "credit_note"}


def test_month_not_over_cannot_be_finalized(client: TestClient, world: World,
                                            market: dict[str, Any]) -> None:
    op = world["operator"].headers
    made = ok(client.post(f"{API}/invoices", headers=op,
                          json={"period": "2099-01", "organization": "org-a"}))
    assert made[0]["total"] == "0.00"
    refused = client.post(f"{API}/invoices/{made[0]['id']}/finalize", headers=op)
    assert refused.status_code == 409 and "not over" in refused.json()["error"]["message"]


def test_exports_and_showback(client: TestClient, world: World,
                              october: dict[str, Any]) -> None:
    invoice = generate(client, world)
    csv = client.get(f"{API}/invoices/{invoice['id']}/export?format=csv",
                     headers=world["admin_a"].headers)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    rows = csv.text.splitlines()
    assert rows[0].startswith("invoice_id,period,organization,project")
    assert len(rows) == 1 + len(EXPECTED)
    assert sum(Decimal(r.split(",")[12]) for r in rows[1:]) == Decimal("154.31")
    focus = client.get(f"{API}/invoices/{invoice['id']}/export?format=focus",
                       headers=world["admin_a"].headers)
    header = focus.text.splitlines()[0].split(",")
    assert {"BilledCost", "BillingCurrency", "ChargePeriodStart", "SubAccountName"} <= set(header)
    by_project = ok(client.get(f"{API}/reports/showback?period=2026-10&by=project",
                               headers=world["admin_a"].headers))
    assert {(r["name"], r["amount"]) for r in by_project} == {("proj-a", "154.00"),
                                                            ("proj-a2", "0.31")}
    by_user = ok(client.get(f"{API}/reports/showback?period=2026-10&by=user",
                            headers=world["operator"].headers))
    assert ("pi@a.example.org", "40.32") in {(r["name"], r["amount"]) for r in by_user}
    assert ok(client.get(f"{API}/reports/showback?period=2026-10&by=org",
                         headers=world["admin_b"].headers)) == []

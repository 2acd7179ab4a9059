"""The operator's pages: overview, price book, month close, audit log, failed operations.

Operators only (everyone else gets 403 on every page and every form); real data from the
domain; forms need the CSRF token and answer a person's mistake with a 4xx and a message.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ocx.domain.actor import SYSTEM, Actor
from ocx.domain.audit import service as audit
from ocx.domain.audit.models import AuditEvent
from ocx.domain.identity import service as identity
from ocx.domain.identity.roles import OrgRole
from ocx.domain.operations import service as operations
from ocx.domain.operations.models import Operation, OperationState
from ocx.runtime import Runtime
from tests.integration.billing.support import API, at, ok, priced_market, server
from tests.integration.web.forms import csrf_token, sign_in_as
from tests.support.world import World

PAGES = ["/operator", "/operator/price-book", "/operator/month-close",
         "/operator/month-close/finalize?period=2026-10", "/operator/audit",
         "/operator/operations"]


@pytest.fixture
def operator(client: TestClient, world: World) -> TestClient:
    """The test browser, signed in as the operator."""
    sign_in_as(client, world, "operator")
    return client


@pytest.fixture
def october(client: TestClient, world: World, runtime: Runtime) -> dict[str, Any]:
    """cloudb:compute priced, and org-a's server s1 running 4 SU for 10 days of October."""
    market = priced_market(client, world)
    server(runtime, market, world.project_ids["a"], "s1", at(1), at(11), vcpus=4,
           ram_mib=8192)
    return market


def _failed_operation(runtime: Runtime, error: str = "keystone said no") -> str:
    """A notification operation that ran out of attempts."""
    with runtime.sessions.begin() as session:
        op = operations.enqueue(session, SYSTEM, kind="notify.member_added",
                                target=("membership", uuid.uuid4()),
                                idempotency_key=f"test:{uuid.uuid4()}")
        op.state, op.attempts, op.last_error = OperationState.FAILED, 8, error
        return str(op.id)


def _post(client: TestClient, url: str, data: dict[str, Any], page: str = "/operator"
          ) -> Any:
    """Submit a form of ``page`` with that page's CSRF token."""
    token = csrf_token(client.get(page).text)
    return client.post(url, data=data | {"csrf_token": token}, follow_redirects=False)


def _error(page: str) -> str:
    """The text of the page's alert."""
    found = re.search(r'role="alert">([^<]*)<', page)
    assert found, "the page shows no error"
    return html.unescape(found.group(1))


@pytest.mark.parametrize("who", ["admin_a", "pi_a", "outsider"])
def test_everyone_but_operators_gets_403(client: TestClient, world: World, runtime: Runtime,
                                         who: str) -> None:
    op_id = _failed_operation(runtime)
    sign_in_as(client, world, who)
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Operators only" in response.text
        assert "keystone said no" not in response.text and "org-b" not in response.text
    token = csrf_token(client.get("/").text)
    for url, data in [("/operator/price-book/rates", {"offering": "x", "plan": "y"}),
                      ("/operator/month-close/generate", {"period": "2026-10"}),
                      ("/operator/month-close/finalize", {"period": "2026-10",
                                                          "invoice": str(uuid.uuid4())}),
                      (f"/operator/operations/{op_id}/retry", {})]:
        response = client.post(url, data=data | {"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403, url
    with runtime.sessions() as session:
        assert session.get(Operation, uuid.UUID(op_id)).state is OperationState.FAILED
    assert 'href="/operator"' not in client.get("/").text  # not in the navigation either


def test_signed_out_browsers_go_to_sign_in(client: TestClient) -> None:
    for url in PAGES:
        response = client.get(url, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_forms_need_the_csrf_token(operator: TestClient, october: dict[str, Any],
                                   runtime: Runtime) -> None:
    op_id = _failed_operation(runtime)
    for url, data in [("/operator/month-close/generate", {"period": "2026-10"}),
                      (f"/operator/operations/{op_id}/retry", {}),
                      ("/operator/price-book/rates", {
                          "offering": "cloudb:compute", "plan": "standard",
                          "component": "cpu_su", "unit_price": "1", "valid_from": "2027-01-01"})]:
        for token in ({}, {"csrf_token": "forged"}):
            response = operator.post(url, data=data | token, follow_redirects=False)
            assert response.status_code == 403, url
            assert "Form expired" in response.text
    assert "No invoice for 2026-10 yet." in operator.get(
        "/operator/month-close?period=2026-10").text
    with runtime.sessions() as session:
        assert session.get(Operation, uuid.UUID(op_id)).state is OperationState.FAILED


def test_overview_counts_organizations_failures_and_drafts(
        operator: TestClient, world: World, runtime: Runtime, october: dict[str, Any]) -> None:
    _failed_operation(runtime)
    ok(operator.post(f"{API}/invoices", json={"period": "2026-10"},
                     headers=world["operator"].headers))
    page = operator.get("/operator")
    assert page.status_code == 200
    rows = re.findall(r'<th scope="row" class="name">(org-[ab])</th><td>(Org [AB])</td>'
                      r'<td class="num">(\d+)</td><td class="num">(\d+)</td>', page.text)
    # each org: one project; its admin and its pi, manager and member belong to it
    assert rows == [("org-a", "Org A", "1", "4"), ("org-b", "Org B", "1", "4")]
    assert re.search(r'Failed operations</dt><dd><a href="/operator/operations">1<', page.text)
    assert re.search(r'Draft invoices</dt><dd><a href="/operator/month-close">1<', page.text)
    for link in ("/operator/price-book", "/operator/month-close", "/operator/audit"):
        assert f'href="{link}"' in page.text


def test_org_counts_only_for_organizations_the_actor_sees(world: World,
                                                          runtime: Runtime) -> None:
    org_a, org_b = (uuid.UUID(world.org_ids[side]) for side in "ab")
    admin = Actor(user_id=uuid.uuid4(), email="admin@a.example.org",
                  org_roles={org_a: OrgRole.ADMIN})
    with runtime.sessions() as session:
        counts = identity.count_org_contents(session, admin, [org_a, org_b])
        assert counts == {org_a: identity.OrgCounts(projects=1, members=4)}
        everything = identity.count_org_contents(session, SYSTEM, [org_a, org_b])
        assert everything[org_b] == identity.OrgCounts(projects=1, members=4)


def test_price_book_shows_rates_rules_and_outages(operator: TestClient, world: World,
                                                  october: dict[str, Any]) -> None:
    ok(operator.post(f"{API}/price-book/outages", headers=world["operator"].headers, json={
        "provider": "cloudb", "starts_at": "2026-10-25T00:00:00Z",
        "ends_at": "2026-10-26T00:00:00Z", "reason": "power cut"}), 201)
    page = operator.get("/operator/price-book").text  # the only offering is shown
    assert "cloudb:compute: rates" in page
    assert re.search(r"cpu_su</th><td>usage</td><td class=\"num\">0.013000</td><td>SU-hour"
                     r"</td>\s*<td>2026-01-01 00:00</td><td>2026-10-16 00:00</td>", page)
    assert "gpu_a100_su (1 \u00d7 a100)" in page and "volume.storage → storage_gib" in page
    assert "power cut" in page and "the provider" in page
    unknown = operator.get("/operator/price-book?offering=nobody:nothing")
    assert unknown.status_code == 404 and "not found" in _error(unknown.text)


def test_adding_a_dated_rate(operator: TestClient, world: World, runtime: Runtime,
                             october: dict[str, Any]) -> None:
    offering = october["offering_id"]
    form = {"offering": offering, "plan": "standard", "component": "cpu_su",
            "unit_price": "0.02", "valid_from": "2027-01-01", "unit": ""}
    done = _post(operator, "/operator/price-book/rates", form, "/operator/price-book")
    assert done.status_code == 303
    assert done.headers["location"] == f"/operator/price-book?offering={offering}"
    page = operator.get(done.headers["location"]).text
    assert "cpu_su of plan standard costs 0.02 per SU-hour from 2027-01-01 00:00 UTC." \
        in page
    assert re.search(r"0.015000</td><td>SU-hour</td>\s*<td>2026-10-16 00:00</td>"
                     r"<td>2027-01-01 00:00</td>", page)
    with runtime.sessions() as session:
        event = audit.list_events(session, SYSTEM, cursor=None, limit=1,
                                  action="price_book.set_rate", newest_first=True,
                                  search=audit.AuditSearch(actor="operator@")).items[0]
        assert event.changes["rate"]["unit_price"] == "0.02"


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"unit_price": "cheap"}, 422, "unit_price: Input should be a valid decimal"),
    ({"unit_price": "-1"}, 422, "unit_price: Input should be greater than or equal to 0"),
    ({"valid_from": ""}, 422, "valid_from: say from which date the price applies"),
    ({"valid_from": "next tuesday"}, 422, "valid_from: enter a date as YYYY-MM-DD"),
    ({"component": "unicorns"}, 422, "component: standard prices none called unicorns"),
    ({"valid_from": "2026-06-01"}, 409, "price changes go forward in time"),
    ({"plan": "gold"}, 422, "gold"),
])
def test_a_wrong_rate_is_refused_with_a_message(
        operator: TestClient, october: dict[str, Any], change: dict[str, str], status: int,
        message: str) -> None:
    form = {"offering": october["offering_id"], "plan": "standard", "component": "cpu_su",
            "unit_price": "0.02", "valid_from": "2027-01-01"} | change
    refused = _post(operator, "/operator/price-book/rates", form, "/operator/price-book")
    assert refused.status_code == status
    assert message in _error(refused.text)
    assert 'name="unit_price" value="' + form["unit_price"] in refused.text  # kept as typed
    assert "0.020000" not in operator.get("/operator/price-book").text


def _invoice_ids(page: str) -> list[str]:
    return re.findall(r'href="/invoices/([0-9a-f-]{36})"', page)


def test_generate_review_and_finalize_a_month(operator: TestClient, world: World,
                                              runtime: Runtime,
                                              october: dict[str, Any]) -> None:
    empty = operator.get("/operator/month-close?period=2026-10").text
    assert "No invoice for 2026-10 yet." in empty
    made = _post(operator, "/operator/month-close/generate", {"period": "2026-10"})
    assert made.headers["location"] == "/operator/month-close?period=2026-10"
    page = operator.get(made.headers["location"]).text
    assert "Generated 1 draft invoice for 2026-10." in page
    # 4 SU x 240 h x 0.013 = 12.48
    assert re.search(r'org-a</th><td>invoice</td><td><span class="badge badge-draft">draft'
                     r'</span></td>\s*<td class="num">12.48</td><td class="num">0.00</td>'
                     r'<td class="num">12.48 USD</td>', page)
    (invoice_id,) = _invoice_ids(page)

    confirm = operator.get("/operator/month-close/finalize?period=2026-10")
    assert "Finalize 1 draft invoice?" in confirm.text and _invoice_ids(confirm.text) == [
        invoice_id]
    assert ok(operator.get(f"{API}/invoices/{invoice_id}",
                           headers=world["operator"].headers))["state"] == "draft"
    done = _post(operator, "/operator/month-close/finalize",
                 {"period": "2026-10", "invoice": invoice_id},
                 "/operator/month-close/finalize?period=2026-10")
    assert done.status_code == 303
    page = operator.get(done.headers["location"]).text
    assert "Finalized 1 invoice for 2026-10." in page
    assert 'badge-final">final' in page
    invoice = ok(operator.get(f"{API}/invoices/{invoice_id}", headers=world["operator"].headers))
    assert invoice["state"] == "final" and invoice["total"] == "12.48"
    with runtime.sessions() as session:
        (event,) = audit.list_events(session, SYSTEM, cursor=None, limit=10,
                                     action="invoice.finalize").items
        assert (event.actor, event.target_id) == ("operator@ocx.example.org", invoice_id)
    nothing_left = operator.get("/operator/month-close/finalize?period=2026-10",
                                follow_redirects=False)
    assert nothing_left.headers["location"] == "/operator/month-close?period=2026-10"


def test_month_close_refusals(operator: TestClient, world: World) -> None:
    bad = operator.get("/operator/month-close?period=2026-13")
    assert bad.status_code == 422 and "is not a month" in _error(bad.text)
    refused = _post(operator, "/operator/month-close/generate", {"period": "October"})
    assert refused.status_code == 422 and "'October' is not a month" in _error(refused.text)
    nothing = _post(operator, "/operator/month-close/generate", {"period": "2026-10"})
    assert "Nothing to generate for 2026-10" in operator.get(nothing.headers["location"]).text
    # a month that is not over cannot be finalized: the draft stays a draft
    (draft,) = ok(operator.post(f"{API}/invoices", json={"period": "2099-01",
                                                         "organization": "org-a"},
                                headers=world["operator"].headers))
    early = _post(operator, "/operator/month-close/finalize",
                  {"period": "2099-01", "invoice": draft["id"]})
    assert early.status_code == 409 and "2099-01 is not over" in _error(early.text)
    assert ok(operator.get(f"{API}/invoices/{draft['id']}",
                           headers=world["operator"].headers))["state"] == "draft"
    junk = _post(operator, "/operator/month-close/finalize", {"period": "2099-01",
                                                              "invoice": "drop table"})
    assert junk.status_code == 422 and "is not an invoice id" in _error(junk.text)


def test_audit_search_filters_and_pages(operator: TestClient, runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        for n in range(55):
            audit.record(session, SYSTEM, "test.tick", "widget", f"w{n}")
        audit.record(session, Actor(user_id=None, email="Ada@Lab.example.org"),
                     "test.other", "gadget", "g1", changes={"why": "because"})
    first = operator.get("/operator/audit", params={"action": "test.tick"}).text
    assert first.count("<code>w") == 50 and "<code>w54</code>" in first  # newest first
    older = re.search(r'href="(/operator/audit\?action=test.tick&amp;cursor=[^"]+)"', first)
    assert older, "no link to the older events"
    second = operator.get(older.group(1).replace("&amp;", "&")).text
    assert second.count("<code>w") == 5 and "<code>w0</code>" in second
    assert "Newest events" in second and "Older events" not in second

    by_actor = operator.get("/operator/audit", params={"actor": "ada@lab"}).text
    assert "test.other" in by_actor and "test.tick" not in by_actor
    by_type = operator.get("/operator/audit", params={"target_type": "gadget",
                                                      "target_id": "g1"}).text
    assert "because" in by_type and "<code>w" not in by_type
    today = datetime.now(UTC).date().isoformat()
    in_range = operator.get("/operator/audit", params={"since": today, "until": today,
                                                       "action": "test.other"}).text
    assert "test.other</th>" in in_range
    before = operator.get("/operator/audit", params={"until": "2020-01-01"}).text
    assert "No event matches this search." in before
    bad = operator.get("/operator/audit", params={"since": "yesterday"})
    assert bad.status_code == 422 and "since: enter a date" in _error(bad.text)
    forged = operator.get("/operator/audit", params={"cursor": "not-a-cursor"})
    assert forged.status_code == 422 and "invalid cursor" in _error(forged.text)


def test_failed_operations_are_listed_and_retried(operator: TestClient,
                                                  runtime: Runtime) -> None:
    op_id = _failed_operation(runtime, "quota exceeded at provider")
    page = operator.get("/operator/operations").text
    assert "notify.member_added" in page and "quota exceeded at provider" in page
    assert "8/" in page
    retried = _post(operator, f"/operator/operations/{op_id}/retry", {},
                    "/operator/operations")
    assert retried.status_code == 303
    after = operator.get(retried.headers["location"]).text
    assert "is queued again." in after and "No failed operation" in after
    with runtime.sessions() as session:
        op = session.get(Operation, uuid.UUID(op_id))
        assert (op.state, op.attempts) == (OperationState.PENDING, 0)
    again = _post(operator, f"/operator/operations/{op_id}/retry", {},
                  "/operator/operations")
    assert again.status_code == 409
    assert "only failed operations can be retried" in _error(again.text)
    missing = _post(operator, f"/operator/operations/{uuid.uuid4()}/retry", {},
                    "/operator/operations")
    assert missing.status_code == 404


def test_audit_search_time_range_is_half_open(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        event = audit.record(session, SYSTEM, "test.edge", "widget", "edge")
        session.flush()
        stamp = event.created_at
    with runtime.sessions() as session:
        def found(**search: Any) -> list[AuditEvent]:
            return audit.list_events(session, SYSTEM, cursor=None, limit=5,
                                     action="test.edge",
                                     search=audit.AuditSearch(**search)).items
        assert len(found(since=stamp, until=None)) == 1
        assert found(since=None, until=stamp) == []

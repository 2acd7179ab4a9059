"""The provider's pages: their providers, pending requests, nodes, leases and revenue.

org-b runs provider ``cloudb`` (priced, with October 2026 invoiced) and owns node ``bn1``;
org-a runs provider ``clouda`` and owns nodes n1 and n2 (n1 leased to proj-b). proj-a asks
cloudb for compute and proj-b asks clouda for storage: each provider's admins see and
decide only their own requests, and see only their own nodes, leases and revenue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ocx.domain.actor import Actor
from ocx.domain.allocations import service as allocations
from ocx.domain.billing import reports
from ocx.domain.identity import service as identity
from ocx.domain.identity import tokens
from ocx.drivers.power.fake import forget_fake_machines
from ocx.drivers.switch.fake import forget_fake_switches
from ocx.errors import OcxError
from ocx.runtime import Runtime
from tests.integration.baremetal.support import build_lab, offer_and_lease
from tests.integration.billing.support import API, at, ok, priced_market, server
from tests.integration.web.forms import csrf_token, sign_in
from tests.support.world import World

PASSWORD = "correct horse battery staple"
Browser = Callable[[str], TestClient]


@dataclass(frozen=True)
class Market:
    """The ids the tests act on."""

    cloudb_offering: str
    clouda_offering: str
    request_a: str  # proj-a on cloudb:compute
    request_b: str  # proj-b on clouda:storage


def _request(client: TestClient, world: World, who: str, side: str, offering: str,
             quota: dict[str, int], why: str) -> str:
    body = {"project": world.project_ids[side], "offering": offering, "quota": quota,
            "justification": why}
    found: str = ok(client.post(f"{API}/allocations", json=body, headers=world[who].headers),
                    201)["id"]
    return found


def _clouda(client: TestClient, world: World) -> str:
    ok(client.post(f"{API}/providers", headers=world["operator"].headers,
                   json={"organization": "org-a", "name": "clouda",
                         "display_name": "Cloud A"}), 201)
    offering = ok(client.post(f"{API}/offerings", headers=world["admin_a"].headers, json={
        "provider": "clouda", "name": "storage", "kind": "openstack", "driver": "fake",
        "driver_settings": {"cloud": "clouda-test"},
        "components": [{"name": "storage_gib", "unit": "GiB", "max": 5000, "default": 100}]}),
        201)
    return str(offering["id"])


@pytest.fixture
def market(client: TestClient, world: World, runtime: Runtime) -> Iterator[Market]:
    """Both providers, a request to each, nodes and a lease, and cloudb's October invoiced."""
    cloudb = priced_market(client, world)
    clouda = _clouda(client, world)
    request_a = _request(client, world, "pi_a", "a", "cloudb:compute", {"cores": 8},
                         "protein folding runs")
    request_b = _request(client, world, "pi_b", "b", "clouda:storage", {"storage_gib": 500},
                         "sequencer output")
    lab = build_lab(client, world, runtime)
    offer_and_lease(lab, "n1", "b")
    lab.call("admin_b", "POST", "/nodes", {
        "name": "bn1", "site": lab.site, "owner": "org-b", "resource_class": "cpu",
        "power_driver": "fake", "power_settings": {"bmc": "bn1-bmc", "password": "pw-b-1234"}},
        expect=201)
    server(runtime, cloudb, world.project_ids["a"], "s1", at(1), at(11), vcpus=4,
           ram_mib=8192)
    ok(client.post(f"{API}/invoices", json={"period": "2026-10"},
                   headers=world["operator"].headers))
    yield Market(cloudb["offering_id"], clouda, request_a, request_b)
    forget_fake_switches()
    forget_fake_machines()


@pytest.fixture
def browser(app: FastAPI, client: TestClient, world: World) -> Iterator[Browser]:
    """``browser(who)``: a browser signed in as the world's ``who``."""
    opened: list[TestClient] = []

    def open_as(who: str) -> TestClient:
        person = world[who]
        ok(client.patch(f"{API}/users/me", json={"password": PASSWORD},
                        headers=person.headers))
        signed = TestClient(app)
        opened.append(signed)
        assert sign_in(signed, person.email, PASSWORD).status_code == 303
        return signed

    yield open_as
    for signed in opened:
        signed.close()


def _state(client: TestClient, world: World, allocation: str) -> str:
    found: str = ok(client.get(f"{API}/allocations/{allocation}",
                               headers=world["operator"].headers))["state"]
    return found


def _audited(client: TestClient, world: World, action: str, target: str) -> list[Any]:
    events: list[Any] = ok(client.get(f"{API}/audit", params={"action": action,
                                                               "target_id": target},
                                      headers=world["operator"].headers))["items"]
    return events


def _decide(browser: TestClient, path: str, **form: str) -> Any:
    token = csrf_token(browser.get("/provider").text)
    return browser.post(path, data={"csrf_token": token, **form}, follow_redirects=False)


def _node_cell(name: str) -> str:
    return f'<td class="name">{name}</td>'


def test_provider_admin_sees_only_their_providers_requests_nodes_and_revenue(
        browser: Browser, market: Market) -> None:
    page = browser("admin_b").get("/provider", params={"month": "2026-10"})
    assert page.status_code == 200, page.text
    html = page.text
    assert "cloudb" in html and "clouda" not in html
    assert "protein folding runs" in html and "sequencer output" not in html
    assert f'action="/provider/requests/{market.request_a}"' in html
    assert _node_cell("bn1") in html and _node_cell("n1") not in html
    assert "Revenue in 2026-10" in html
    # s1: 4 SU for 240 hours at 0.013
    assert '<td>compute</td><td class="amount">12.48 USD</td>' in html

    other = browser("admin_a").get("/provider", params={"month": "2026-10"}).text
    assert "clouda" in other and "cloudb" not in other
    # admin_a administers proj-a's organization and may read its request to cloudb, but
    # that request waits for cloudb, not for them.
    assert "sequencer output" in other and "protein folding runs" not in other
    assert _node_cell("n1") in other and _node_cell("n2") in other
    assert _node_cell("bn1") not in other
    assert "org-b:proj-b" in other  # n1's lessee
    assert "USD" not in other  # clouda sold nothing in October


def test_operators_see_every_provider_and_can_narrow_to_one(browser: Browser,
                                                            market: Market) -> None:
    operator = browser("operator")
    html = operator.get("/provider").text
    assert "cloudb" in html and "clouda" in html
    assert "protein folding runs" in html and "sequencer output" in html
    narrowed = operator.get("/provider", params={"provider": "clouda"}).text
    assert "sequencer output" in narrowed and "protein folding runs" not in narrowed
    assert _node_cell("bn1") not in narrowed and _node_cell("n1") in narrowed


def test_people_who_run_no_provider_are_refused(browser: Browser, market: Market) -> None:
    pi = browser("pi_a")
    assert pi.get("/provider").status_code == 403
    # The offering is open to everyone, but only its provider's admins manage it.
    assert pi.get(f"/provider/offerings/{market.cloudb_offering}").status_code == 404
    admin_a = browser("admin_a")
    assert admin_a.get(f"/provider/offerings/{market.cloudb_offering}").status_code == 404
    assert admin_a.get("/provider", params={"provider": "cloudb"}).status_code == 404
    assert admin_a.get("/provider/offerings/not-an-offering").status_code == 404


def test_the_offering_page_shows_components_prices_and_allocations(browser: Browser,
                                                                   market: Market) -> None:
    page = browser("admin_b").get(f"/provider/offerings/{market.cloudb_offering}")
    assert page.status_code == 200, page.text
    html = page.text
    assert _node_cell("storage_gib") in html and "GiB" in html
    assert "standard" in html and "0.015 USD / " in html
    assert "org-a:proj-a" in html and ">requested<" in html


def test_approving_a_request_starts_provisioning_and_is_audited(
        client: TestClient, world: World, browser: Browser, market: Market) -> None:
    admin_b = browser("admin_b")
    answer = _decide(admin_b, f"/provider/requests/{market.request_a}", decision="approve",
                     month="2026-10")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/provider?month=2026-10"
    after = admin_b.get(answer.headers["location"]).text
    assert "The request of org-a:proj-a on cloudb:compute was approved." in after
    assert "protein folding runs" not in after  # no longer pending
    assert _state(client, world, market.request_a) == "provisioning"
    [event] = _audited(client, world, "allocation.approved", market.request_a)
    assert event["actor"] == world["admin_b"].email


def test_rejecting_needs_a_reason_which_the_requester_reads(
        client: TestClient, world: World, browser: Browser, market: Market) -> None:
    admin_a = browser("admin_a")
    path = f"/provider/requests/{market.request_b}"
    refused = _decide(admin_a, path, decision="reject", reason="   ")
    assert refused.status_code == 422
    assert 'role="alert">reason: say why you reject the request' in refused.text
    assert _state(client, world, market.request_b) == "requested"

    answer = _decide(admin_a, path, decision="reject", reason="no capacity until March")
    assert answer.status_code == 303, answer.text
    shown = ok(client.get(f"{API}/allocations/{market.request_b}",
                          headers=world["pi_b"].headers))
    assert (shown["state"], shown["status_message"]) == ("denied", "no capacity until March")
    [event] = _audited(client, world, "allocation.denied", market.request_b)
    assert event["changes"]["reason"] == "no capacity until March"


def test_deciding_others_requests_or_twice_is_refused_with_a_message(
        client: TestClient, world: World, browser: Browser, market: Market) -> None:
    admin_a = browser("admin_a")
    foreign = _decide(admin_a, f"/provider/requests/{market.request_a}", decision="approve")
    assert foreign.status_code in (403, 404)
    assert _state(client, world, market.request_a) == "requested"
    assert _decide(admin_a, "/provider/requests/nonsense",
                   decision="approve").status_code == 404
    bad = _decide(admin_a, f"/provider/requests/{market.request_b}", decision="maybe")
    assert bad.status_code == 422 and "choose Approve or Reject" in bad.text
    too_long = _decide(admin_a, f"/provider/requests/{market.request_b}", decision="reject",
                       reason="x" * 4001)
    assert too_long.status_code == 422 and "at most 4000 characters" in too_long.text
    assert _decide(admin_a, f"/provider/requests/{market.request_b}",
                   decision="approve").status_code == 303
    twice = _decide(admin_a, f"/provider/requests/{market.request_b}", decision="approve")
    assert twice.status_code == 409 and "not requested" in twice.text


def test_forms_need_the_csrf_token(client: TestClient, world: World, browser: Browser,
                                   market: Market) -> None:
    admin_b = browser("admin_b")
    answer = admin_b.post(f"/provider/requests/{market.request_a}",
                          data={"decision": "approve"}, follow_redirects=False)
    assert answer.status_code == 403 and "Form expired" in answer.text
    assert _state(client, world, market.request_a) == "requested"


def test_a_bad_month_is_refused_with_a_message(browser: Browser, market: Market) -> None:
    page = browser("admin_b").get("/provider", params={"month": "October"})
    assert page.status_code == 422
    assert "month: &#39;October&#39; is not a month; use YYYY-MM" in page.text


def test_change_requests_wait_for_the_provider_and_are_decided_here(
        client: TestClient, world: World, browser: Browser, market: Market) -> None:
    admin_b = browser("admin_b")
    assert _decide(admin_b, f"/provider/requests/{market.request_a}",
                   decision="approve").status_code == 303
    change = ok(client.post(f"{API}/allocations/{market.request_a}/changes",
                            json={"quota": {"cores": 16}, "justification": "bigger runs"},
                            headers=world["pi_a"].headers), 201)
    html = admin_b.get("/provider").text
    assert "bigger runs" in html and "cores 16" in html
    assert "bigger runs" not in browser("admin_a").get("/provider").text
    path = f"/provider/requests/{market.request_a}/changes/{change['id']}"
    answer = _decide(admin_b, path, decision="approve", reason="fine")
    assert answer.status_code == 303, answer.text
    [shown] = ok(client.get(f"{API}/allocations/{market.request_a}/changes",
                            headers=world["pi_a"].headers))
    assert shown["state"] == "approved"
    assert _decide(admin_b, f"/provider/requests/{market.request_a}/changes/not-a-uuid",
                   decision="approve").status_code == 404


def test_revenue_and_pending_changes_stay_with_the_provider(runtime: Runtime,
                                                            market: Market) -> None:
    with runtime.sessions() as session:
        admin_a = _actor(session, "admin@a.example.org")
        with pytest.raises(OcxError) as refused:
            reports.provider_revenue(session, admin_a, "cloudb", "2026-10")
        assert refused.value.status in (403, 404)
        assert reports.provider_revenue(session, admin_a, "clouda", "2026-10") == []
        assert allocations.pending_changes(session, admin_a, limit=10) == []


def test_the_overview_opens_on_the_latest_month_with_revenue(runtime: Runtime, browser: Browser,
                                                             market: Market) -> None:
    assert "Revenue in 2026-10" in browser("admin_b").get("/provider").text
    with runtime.sessions() as session:
        admin_a, admin_b = (_actor(session, f"admin@{side}.example.org") for side in "ab")
        assert reports.latest_revenue_period(session, admin_b, ["cloudb"]) == "2026-10"
        assert reports.latest_revenue_period(session, admin_a, ["clouda"]) is None
        assert reports.latest_revenue_period(session, admin_a, []) is None
        with pytest.raises(OcxError) as refused:
            reports.latest_revenue_period(session, admin_a, ["cloudb"])
        assert refused.value.status in (403, 404)


def _actor(session: Session, email: str) -> Actor:
    return tokens.actor_for(session, identity.find_user(session, email))


def test_an_admin_whose_organization_sells_nothing_is_told_so(browser: Browser) -> None:
    page = browser("admin_a").get("/provider")
    assert page.status_code == 200, page.text
    assert "No provider yet" in page.text and "Nothing waits for your decision." in page.text

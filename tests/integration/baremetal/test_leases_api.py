"""Offers and leases: who may lease what, no overlaps, and the lease lifecycle (start, end,
usage), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from ocx.domain.audit.models import AuditEvent
from ocx.domain.baremetal import usage
from ocx.domain.baremetal.models import Lease
from ocx.domain.metering.models import UsageSpan
from ocx.drivers.power.fake import fake_machine
from ocx.drivers.switch.fake import fake_switch
from ocx.persistence.base import utcnow
from tests.integration.baremetal.support import Lab, offer_and_lease


def _offer(lab: Lab, **body: object) -> dict[str, object]:
    body.setdefault("ends_at", (utcnow() + timedelta(days=7)).isoformat())
    offer: dict[str, object] = lab.call("admin_a", "POST", "/offers", body, expect=201)
    return offer


def _lease(lab: Lab, offer: dict[str, object], who: str = "pi_b", side: str = "b",
           expect: int = 201, hours_from: float = 0, hours: float = 2) -> dict[str, object]:
    start = utcnow() + timedelta(hours=hours_from)
    body: dict[str, object] = {"offer": offer["id"], "project": lab.world.project_ids[side],
                               "ends_at": (start + timedelta(hours=hours)).isoformat()}
    if hours_from:
        body["starts_at"] = start.isoformat()
    lease: dict[str, object] = lab.call(who, "POST", "/leases", body, expect=expect)
    return lease


def test_overlapping_leases_are_refused_naming_the_conflict(lab: Lab) -> None:
    offer = _offer(lab, node="n1")
    first = _lease(lab, offer, hours_from=1, hours=2)
    clash = _lease(lab, offer, who="pi_a", side="a", expect=409, hours_from=2, hours=2)
    message = clash["error"]["message"]  # type: ignore[index]
    assert "node n1 is already leased" in message and str(first["id"]) in message
    # Back to back is no overlap.
    _lease(lab, offer, who="pi_a", side="a", hours_from=3, hours=1)


def test_a_class_offer_hands_out_each_node_once(lab: Lab) -> None:
    offer = _offer(lab, resource_class="gpu", owner="org-a", site=lab.site)
    nodes = {_lease(lab, offer, who=f"{role}_b")["node"] for role in ("pi", "manager")}
    assert nodes == {"n1", "n2"}
    full = _lease(lab, offer, who="pi_a", side="a", expect=409)
    assert "n1" in str(full) and "n2" in str(full)


def test_who_may_offer_and_lease(lab: Lab) -> None:
    lab.call("admin_b", "POST", "/offers", {"node": "n1", "ends_at": (
        utcnow() + timedelta(days=1)).isoformat()}, expect=403)
    private = _offer(lab, node="n1", project=lab.world.project_ids["a"])
    # Offered to proj-a only: proj-b does not see it; proj-a's members do.
    assert [o["id"] for o in lab.call("pi_b", "GET", "/offers", expect=200)["items"]] == []
    _lease(lab, private, expect=404)
    assert lab.call("member_a", "GET", f"/offers/{private['id']}", expect=200)["node"] == "n1"
    # Members may not lease; PIs and managers may.
    _lease(lab, private, who="member_a", side="a", expect=403)
    _lease(lab, private, who="manager_a", side="a")
    lab.call("admin_a", "DELETE", f"/offers/{private['id']}", expect=200)
    withdrawn = _lease(lab, private, who="pi_a", side="a", expect=409, hours_from=3)
    assert "withdrawn" in str(withdrawn)


def test_a_lease_must_fit_its_offer(lab: Lab) -> None:
    offer = _offer(lab, node="n1", ends_at=(utcnow() + timedelta(hours=3)).isoformat())
    refused = _lease(lab, offer, expect=409, hours=4)
    assert "fit in the offer's window" in str(refused)
    lease = _lease(lab, offer, hours=1)
    lab.call("pi_b", "POST", f"/leases/{lease['id']}/extend",
             {"ends_at": (utcnow() + timedelta(hours=5)).isoformat()}, expect=409)
    extended = lab.call("pi_b", "POST", f"/leases/{lease['id']}/extend",
                        {"ends_at": (utcnow() + timedelta(hours=2)).isoformat()}, expect=200)
    assert extended["ends_at"] > lease["ends_at"]  # type: ignore[operator]


def test_extending_into_the_next_lease_is_refused(lab: Lab) -> None:
    offer = _offer(lab, node="n1")
    first = _lease(lab, offer, hours=1)
    second = _lease(lab, offer, who="pi_a", side="a", hours_from=2, hours=1)
    clash = lab.call("pi_b", "POST", f"/leases/{first['id']}/extend",
                     {"ends_at": (utcnow() + timedelta(hours=3)).isoformat()}, expect=409)
    assert str(second["id"]) in clash["error"]["message"]


def test_the_lease_lifecycle_returns_a_clean_node_and_records_usage_once(lab: Lab) -> None:
    lease = offer_and_lease(lab, "n1")
    lab.call("pi_b", "POST", "/networks", {"name": "blue", "project": "org-b:proj-b",
                                           "site": lab.site}, expect=201)
    lab.call("pi_b", "POST", "/nodes/n1/connect", {"nic": "eth0", "network": "blue"},
             expect=202)
    lab.call("pi_b", "POST", "/nodes/n1/power", {"action": "on"}, expect=409)  # busy
    lab.drain()
    lab.call("pi_b", "POST", "/nodes/n1/power", {"action": "on"}, expect=202)
    lab.drain()
    assert fake_machine(f"{lab.switch_key}-n1").power.value == "on"
    # Its time is up: the lessee is out at once, the job cleans the node.
    later = utcnow() + timedelta(hours=5)
    assert lab.move_leases(later) == 1
    ending = lab.call("pi_b", "GET", f"/leases/{lease['id']}", expect=200)
    assert ending["state"] == "ending"
    lab.call("pi_b", "POST", "/nodes/n1/power", {"action": "on"}, expect=403)
    lab.drain()
    ended = lab.call("pi_b", "GET", f"/leases/{lease['id']}", expect=200)
    assert ended["state"] == "expired" and ended["ended_at"] == lease["ends_at"]
    assert fake_switch(lab.switch_key).ports["p1"].isolated
    assert fake_machine(f"{lab.switch_key}-n1").power.value == "off"
    node = lab.node("n1", "admin_a")
    assert node["lessee"] is None and node["nics"][0]["networks"] == []
    # Back with its owner.
    lab.call("admin_a", "POST", "/nodes/n1/power", {"action": "status"}, expect=202)
    with lab.runtime.sessions() as session:
        (span,) = session.scalars(select(UsageSpan)).all()
        assert (span.project_id.hex, span.resource_kind, span.unit) == (
            lab.world.project_ids["b"].replace("-", ""), "baremetal.node", "hour")
        assert span.meter == "baremetal.node_hours.gpu"
        assert Decimal("3.99") < span.quantity <= Decimal("4.00")
        assert span.source_event_id == f"baremetal.lease:{lease['id']}:end"
    assert lab.move_leases(later) == 0


def test_the_usage_of_one_lease_is_recorded_once(lab: Lab) -> None:
    lease = offer_and_lease(lab, "n1")
    with lab.runtime.sessions() as session, session.begin():
        row = session.get(Lease, uuid.UUID(lease["id"]))
        assert row is not None
        first = usage.record_lease_usage(session, row, utcnow())
        again = usage.record_lease_usage(session, row, utcnow() + timedelta(hours=1))
        assert again.id == first.id and again.quantity == first.quantity
    with lab.runtime.sessions() as session:
        assert len(session.scalars(select(UsageSpan)).all()) == 1


def test_cancel_ends_an_active_lease_now_and_a_future_one_for_good(lab: Lab) -> None:
    active = offer_and_lease(lab, "n1")
    future = _lease(lab, _offer(lab, node="n2"), hours_from=24)
    lab.call("member_b", "POST", f"/leases/{active['id']}/cancel", expect=403)
    ended = lab.call("pi_b", "POST", f"/leases/{active['id']}/cancel", expect=200)
    assert ended["state"] == "ending" and ended["ends_at"] < active["ends_at"]
    cancelled = lab.call("pi_b", "POST", f"/leases/{future['id']}/cancel", expect=200)
    assert cancelled["state"] == "cancelled"
    lab.call("pi_b", "POST", f"/leases/{future['id']}/cancel", expect=409)
    lab.drain()
    assert lab.call("pi_b", "GET", f"/leases/{active['id']}", expect=200)["state"] == "expired"
    with lab.runtime.sessions() as session:
        assert len(session.scalars(select(UsageSpan)).all()) == 1  # the cancelled one: none


def test_only_operators_reclaim_and_it_is_audited(lab: Lab) -> None:
    lease = offer_and_lease(lab, "n1")
    for who in ("admin_a", "pi_b"):
        lab.call(who, "POST", f"/leases/{lease['id']}/reclaim", {"reason": "disk failure"},
                 expect=403)
    reclaimed = lab.call("operator", "POST", f"/leases/{lease['id']}/reclaim",
                         {"reason": "owner needs it for repairs"}, expect=200)
    assert reclaimed["state"] == "ending"
    lab.drain()
    with lab.runtime.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "lease.reclaim"))
        assert event is not None and event.actor == "operator@ocx.example.org"
        assert event.changes["reason"] == "owner needs it for repairs"
    lab.call("admin_a", "POST", "/nodes/n1/power", {"action": "status"}, expect=202)


def test_a_lease_waits_for_the_previous_one_to_be_cleaned(lab: Lab) -> None:
    offer = _offer(lab, node="n1")
    first = _lease(lab, offer, hours=1)
    second = _lease(lab, offer, who="pi_a", side="a", hours_from=1, hours=1)
    lab.move_leases()
    at_switch = utcnow() + timedelta(hours=1, minutes=1)
    lab.move_leases(at_switch)  # first ends (its cleaning is pending), second must wait
    states = {lab.call("operator", "GET", f"/leases/{lease['id']}", expect=200)["state"]
              for lease in (first, second)}
    assert states == {"ending", "created"}
    lab.drain()
    lab.move_leases(at_switch)
    assert lab.call("pi_a", "GET", f"/leases/{second['id']}", expect=200)["state"] == "active"


def test_lease_listing_is_scoped(lab: Lab) -> None:
    lease = offer_and_lease(lab, "n1")
    for who, expected in (("pi_b", [lease["id"]]), ("member_b", [lease["id"]]),
                          ("admin_a", [lease["id"]]), ("pi_a", []), ("outsider", [])):
        found = lab.call(who, "GET", "/leases", expect=200)["items"]
        assert [item["id"] for item in found] == expected, who
    lab.call("pi_a", "GET", f"/leases/{lease['id']}", expect=404)


def test_the_periodic_job_starts_leases_once_across_workers(lab: Lab) -> None:
    from ocx.workers.periodic import run_periodic_job

    offer = _offer(lab, node="n1")
    lease = _lease(lab, offer)
    job = next(job for job in lab.runtime.tasks.jobs if job.name == "leases_move")
    assert job.period_s == lab.runtime.settings.sweep_interval_s
    assert run_periodic_job(lab.runtime.sessions, job, "worker-1")
    assert lab.call("pi_b", "GET", f"/leases/{lease['id']}", expect=200)["state"] == "active"


def test_a_withdrawn_offer_extends_no_lease(lab: Lab) -> None:
    offer = _offer(lab, node="n1")
    lease = _lease(lab, offer, hours=2)
    later = {"ends_at": (utcnow() + timedelta(hours=3)).isoformat()}
    lab.call("admin_a", "DELETE", f"/offers/{offer['id']}", expect=200)
    refused = lab.call("pi_b", "POST", f"/leases/{lease['id']}/extend", later, expect=409)
    assert f"offer {offer['id']} was withdrawn" in refused["error"]["message"]
    # The lease itself stays as it was.
    assert lab.call("pi_b", "GET", f"/leases/{lease['id']}")["ends_at"] == lease["ends_at"]

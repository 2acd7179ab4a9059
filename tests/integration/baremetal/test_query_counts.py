"""Bare-metal lists cost a fixed number of queries, however many rows they return (no N+1)."""

from __future__ import annotations

from datetime import timedelta

from ocx.persistence.base import utcnow
from tests.integration.api.test_query_counts import count_queries
from tests.integration.baremetal.support import Lab

LISTS = ["/nodes", "/switches", "/sites", "/networks", "/offers", "/leases"]


def _costs(lab: Lab) -> dict[str, int]:
    costs = {}
    lab.call("operator", "GET", "/me")  # the token's last-use stamp is written once a minute
    for url in LISTS:
        with count_queries(lab.runtime.engine) as statements:
            lab.call("operator", "GET", url, expect=200)
        costs[url] = len(statements)
    return costs


def _grow(lab: Lab, n: int) -> None:
    """One more switch, a node cabled to it and connected to a new network, an offer of
    the node and a future lease of it."""
    lab.call("admin_a", "POST", "/switches", {"name": f"sw-{n}", "site": lab.site,
                                              "owner": "org-a", "driver": "fake"}, expect=201)
    lab.call("admin_a", "POST", f"/switches/sw-{n}/ports", {"names": ["p"]}, expect=201)
    lab.call("admin_a", "POST", "/nodes", {"name": f"x{n}", "site": lab.site, "owner": "org-a",
                                           "resource_class": "gpu", "power_driver": "fake"},
             expect=201)
    lab.call("admin_a", "POST", f"/nodes/x{n}/nics", {
        "name": "eth0", "mac": f"52:54:00:77:00:{n:02x}", "switch": f"sw-{n}", "port": "p"},
        expect=201)
    network = lab.call("pi_a", "POST", "/networks", {
        "name": f"net{n}", "project": lab.world.project_ids["a"], "site": lab.site}, expect=201)
    lab.drain()
    lab.call("admin_a", "POST", f"/nodes/x{n}/connect",
             {"nic": "eth0", "network": network["id"]}, expect=202)
    now = utcnow()
    offer = lab.call("admin_a", "POST", "/offers", {
        "node": f"x{n}", "ends_at": (now + timedelta(days=9)).isoformat()}, expect=201)
    lab.call("pi_b", "POST", "/leases", {
        "offer": offer["id"], "project": lab.world.project_ids["b"],
        "starts_at": (now + timedelta(days=2)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat()}, expect=201)


def test_bare_metal_lists_do_not_grow_with_rows(lab: Lab) -> None:
    _grow(lab, 0)
    before = _costs(lab)
    for n in range(1, 6):
        _grow(lab, n)
    assert _costs(lab) == before

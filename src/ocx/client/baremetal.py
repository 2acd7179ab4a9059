"""Client calls for bare metal: sites, switches, nodes, networks, offers, leases (mixed into
``OcxClient``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from ocx.client.models import Page
from ocx.client.transport import Transport as _Transport
from ocx.client.transport import clean as _body
from ocx.client.transport import seg as _seg
from ocx.domain.baremetal.schemas import (
    LeasePublic,
    NetworkPublic,
    NodePublic,
    OfferPublic,
    SitePublic,
    SwitchPublic,
)
from ocx.domain.images.provision_schemas import NodeDiskPublic
from ocx.domain.operations.schemas import OperationPublic


class BaremetalCalls:
    """Bare-metal inventory, isolation, power, offers and leases."""

    # --- sites ------------------------------------------------------------------------

    def create_site(self: _Transport, name: str, *, vlan_min: int, vlan_max: int,
                    description: str | None = None) -> SitePublic:
        """Create a site and its VLAN pool (operators)."""
        body = _body(name=name, vlan_min=vlan_min, vlan_max=vlan_max, description=description)
        return self._read(SitePublic, "POST", "sites", body)

    def list_sites(self: _Transport, *, cursor: str | None = None,
                   limit: int | None = None) -> Page[SitePublic]:
        """One page of sites."""
        return self._page(Page[SitePublic], "sites", cursor, limit)

    def get_site(self: _Transport, site: str) -> SitePublic:
        """One site."""
        return self._read(SitePublic, "GET", f"sites/{_seg(site)}")

    def delete_site(self: _Transport, site: str) -> None:
        """Delete an empty site."""
        self._send("DELETE", f"sites/{_seg(site)}")

    # --- switches ---------------------------------------------------------------------

    def create_switch(self: _Transport, name: str, *, site: str, owner: str, driver: str,
                      settings: dict[str, Any]) -> SwitchPublic:
        """Register a switch with its driver settings."""
        body = _body(name=name, site=site, owner=owner, driver=driver, settings=settings)
        return self._read(SwitchPublic, "POST", "switches", body)

    def list_switches(self: _Transport, *, site: str | None = None, cursor: str | None = None,
                      limit: int | None = None) -> Page[SwitchPublic]:
        """One page of the switches of the caller's organizations."""
        return self._page(Page[SwitchPublic], "switches", cursor, limit, site=site)

    def get_switch(self: _Transport, switch: str) -> SwitchPublic:
        """One switch with its ports."""
        return self._read(SwitchPublic, "GET", f"switches/{_seg(switch)}")

    def update_switch(self: _Transport, switch: str, settings: dict[str, Any]) -> SwitchPublic:
        """Change a switch's driver settings."""
        return self._read(SwitchPublic, "PATCH", f"switches/{_seg(switch)}",
                          _body(settings=settings))

    def delete_switch(self: _Transport, switch: str) -> None:
        """Delete a switch no NIC is cabled to."""
        self._send("DELETE", f"switches/{_seg(switch)}")

    def add_ports(self: _Transport, switch: str, names: list[str]) -> SwitchPublic:
        """Add ports to a switch."""
        return self._read(SwitchPublic, "POST", f"switches/{_seg(switch)}/ports",
                          _body(names=names))

    def remove_port(self: _Transport, switch: str, port: str) -> None:
        """Remove a port no NIC is cabled to."""
        self._send("DELETE", f"switches/{_seg(switch)}/ports/{_seg(port)}")

    # --- nodes ------------------------------------------------------------------------

    def register_node(self: _Transport, name: str, *, site: str, owner: str,
                      resource_class: str, power_driver: str, power_settings: dict[str, Any],
                      description: str | None = None) -> NodePublic:
        """Register a node an organization lends, with its BMC."""
        body = _body(name=name, site=site, owner=owner, resource_class=resource_class,
                     power_driver=power_driver, power_settings=power_settings,
                     description=description)
        return self._read(NodePublic, "POST", "nodes", body)

    def list_nodes(self: _Transport, *, site: str | None = None, owner: str | None = None,
                   resource_class: str | None = None, leased_by: str | None = None,
                   cursor: str | None = None, limit: int | None = None) -> Page[NodePublic]:
        """One page of the exchange's nodes."""
        return self._page(Page[NodePublic], "nodes", cursor, limit, site=site, owner=owner,
                          resource_class=resource_class, leased_by=leased_by)

    def get_node(self: _Transport, node: str) -> NodePublic:
        """One node, with its NICs, networks, power and lessee."""
        return self._read(NodePublic, "GET", f"nodes/{_seg(node)}")

    def update_node(self: _Transport, node: str, **changes: Any) -> NodePublic:
        """Change a node's class, description, power driver or settings."""
        return self._read(NodePublic, "PATCH", f"nodes/{_seg(node)}", _body(**changes))

    def delete_node(self: _Transport, node: str) -> None:
        """Delete a node that was never leased."""
        self._send("DELETE", f"nodes/{_seg(node)}")

    def add_nic(self: _Transport, node: str, name: str, *, mac: str, switch: str | None = None,
                port: str | None = None) -> NodePublic:
        """Add a NIC, optionally cabled to a switch port."""
        body = _body(name=name, mac=mac, switch=switch, port=port)
        return self._read(NodePublic, "POST", f"nodes/{_seg(node)}/nics", body)

    def remove_nic(self: _Transport, node: str, nic: str) -> None:
        """Remove a NIC that carries no network."""
        self._send("DELETE", f"nodes/{_seg(node)}/nics/{_seg(nic)}")

    def connect_node(self: _Transport, node: str, *, nic: str, network: str,
                     mode: str | None = None) -> OperationPublic:
        """Connect a NIC to a network (202: the switch operation)."""
        return self._read(OperationPublic, "POST", f"nodes/{_seg(node)}/connect",
                          _body(nic=nic, network=network, mode=mode))

    def detach_node(self: _Transport, node: str, *, nic: str,
                    network: str | None = None) -> OperationPublic:
        """Detach a NIC from one network or all (202: the switch operation)."""
        return self._read(OperationPublic, "POST", f"nodes/{_seg(node)}/detach",
                          _body(nic=nic, network=network))

    def power_node(self: _Transport, node: str, action: str) -> OperationPublic:
        """Power on, off, cycle, or read the state (202: the BMC operation)."""
        return self._read(OperationPublic, "POST", f"nodes/{_seg(node)}/power",
                          _body(action=action))

    def set_boot_device(self: _Transport, node: str, device: str,
                        persistent: bool = True) -> OperationPublic:
        """Boot from PXE or disk (202: the BMC operation)."""
        return self._read(OperationPublic, "POST", f"nodes/{_seg(node)}/boot-device",
                          _body(device=device, persistent=persistent))

    def provision_node(self: _Transport, node: str, image: str, *,
                       keep_snapshot: bool = False) -> OperationPublic:
        """Boot a node diskless from a fresh clone of an image (202: the operation)."""
        return self._read(OperationPublic, "POST", f"nodes/{_seg(node)}/provision",
                          {"image": image, "keep_snapshot": keep_snapshot})

    def unprovision_node(self: _Transport, node: str, *,
                         keep_snapshot: bool | None = None) -> OperationPublic:
        """Power a node off and give its disk back (202: the operation)."""
        return self._read(OperationPublic, "POST", f"nodes/{_seg(node)}/unprovision",
                          _body(keep_snapshot=keep_snapshot))

    def node_disk(self: _Transport, node: str) -> NodeDiskPublic:
        """What a node boots from now."""
        return self._read(NodeDiskPublic, "GET", f"nodes/{_seg(node)}/provision")

    # --- networks ---------------------------------------------------------------------

    def create_network(self: _Transport, name: str, *, project: str,
                       site: str) -> NetworkPublic:
        """Create a project network at a site (a VLAN from its pool)."""
        return self._read(NetworkPublic, "POST", "networks",
                          _body(name=name, project=project, site=site))

    def list_networks(self: _Transport, *, project: str | None = None,
                      cursor: str | None = None, limit: int | None = None
                      ) -> Page[NetworkPublic]:
        """One page of the networks of the caller's projects."""
        return self._page(Page[NetworkPublic], "networks", cursor, limit, project=project)

    def get_network(self: _Transport, network: str) -> NetworkPublic:
        """One network, by id, name or PROJECT/NAME."""
        return self._read(NetworkPublic, "GET", f"networks/{quote(network, safe='/:')}")

    def delete_network(self: _Transport, network: str) -> None:
        """Delete a network no node is connected to."""
        self._send("DELETE", f"networks/{quote(network, safe='/:')}")

    # --- offers and leases ------------------------------------------------------------

    def create_offer(self: _Transport, *, ends_at: datetime, node: str | None = None,
                     resource_class: str | None = None, owner: str | None = None,
                     site: str | None = None, project: str | None = None,
                     starts_at: datetime | None = None) -> OfferPublic:
        """Offer a node or a resource class for a time window."""
        body = _body(node=node, resource_class=resource_class, owner=owner, site=site,
                     project=project, starts_at=starts_at, ends_at=ends_at)
        return self._read(OfferPublic, "POST", "offers", body)

    def list_offers(self: _Transport, *, node: str | None = None,
                    resource_class: str | None = None, include_past: bool | None = None,
                    cursor: str | None = None, limit: int | None = None
                    ) -> Page[OfferPublic]:
        """One page of the offers open to the caller."""
        return self._page(Page[OfferPublic], "offers", cursor, limit, node=node,
                          resource_class=resource_class,
                          include_past=str(include_past).lower() if include_past else None)

    def get_offer(self: _Transport, offer: str) -> OfferPublic:
        """One offer."""
        return self._read(OfferPublic, "GET", f"offers/{_seg(offer)}")

    def withdraw_offer(self: _Transport, offer: str) -> OfferPublic:
        """Withdraw an offer (leases already made stay)."""
        return self._read(OfferPublic, "DELETE", f"offers/{_seg(offer)}")

    def create_lease(self: _Transport, *, offer: str, project: str, ends_at: datetime,
                     starts_at: datetime | None = None) -> LeasePublic:
        """Lease a node under an offer for a project."""
        body = _body(offer=offer, project=project, starts_at=starts_at, ends_at=ends_at)
        return self._read(LeasePublic, "POST", "leases", body)

    def list_leases(self: _Transport, *, project: str | None = None, node: str | None = None,
                    state: str | None = None, cursor: str | None = None,
                    limit: int | None = None) -> Page[LeasePublic]:
        """One page of the leases of the caller's projects and nodes."""
        return self._page(Page[LeasePublic], "leases", cursor, limit, project=project,
                          node=node, state=state)

    def get_lease(self: _Transport, lease: str) -> LeasePublic:
        """One lease."""
        return self._read(LeasePublic, "GET", f"leases/{_seg(lease)}")

    def cancel_lease(self: _Transport, lease: str) -> LeasePublic:
        """Cancel a future lease or end an active one now."""
        return self._read(LeasePublic, "POST", f"leases/{_seg(lease)}/cancel")

    def extend_lease(self: _Transport, lease: str, ends_at: datetime) -> LeasePublic:
        """Move a lease's end later."""
        return self._read(LeasePublic, "POST", f"leases/{_seg(lease)}/extend",
                          _body(ends_at=ends_at))

    def reclaim_lease(self: _Transport, lease: str, reason: str) -> LeasePublic:
        """End a lease now for the node's owner (operators)."""
        return self._read(LeasePublic, "POST", f"leases/{_seg(lease)}/reclaim",
                          _body(reason=reason))

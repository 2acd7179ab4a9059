"""API shapes for bare metal, named by role: XCreate, XUpdate, XPublic (no SQLAlchemy)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import Field, StringConstraints, model_validator

from ocx.domain.baremetal.states import AttachmentMode, AttachmentState, LeaseState, OfferState
from ocx.domain.identity.schemas import LongText, Public, Slug, Strict, UtcDatetime
from ocx.drivers.power.base import BootDevice

Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
DriverName = Annotated[str, StringConstraints(min_length=1, max_length=63,
                                              pattern=r"^[a-z0-9_-]+$")]
# Never starting with "-": a port name is an argument of switch commands (ovs-vsctl's "--").
PortName = Annotated[str, StringConstraints(min_length=1, max_length=100,
                                            pattern=r"^[A-Za-z0-9/_.:][A-Za-z0-9/_.:-]*$")]
Mac = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True,
                                       pattern=r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")]
Vlan = Annotated[int, Field(ge=1, le=4094)]
Settings = Annotated[dict[str, Any], Field(description="the driver's settings (JSON); secrets "
                                                       "are sealed at rest and shown as ***")]


class SiteCreate(Strict):
    name: Slug
    description: LongText = ""
    vlan_min: Vlan = Field(description="first VLAN id of the site's pool")
    vlan_max: Vlan = Field(description="last VLAN id of the site's pool")

    @model_validator(mode="after")
    def _pool(self) -> Self:
        if self.vlan_min > self.vlan_max:
            raise ValueError("vlan_min must not exceed vlan_max")
        return self


class SitePublic(Public):
    id: uuid.UUID
    name: str
    description: str
    vlan_min: int
    vlan_max: int
    networks: int = Field(description="VLAN ids in use")
    created_at: datetime


class SwitchCreate(Strict):
    name: Slug
    site: Ref = Field(description="site id or name")
    owner: Ref = Field(description="owner organization id or name")
    driver: DriverName = Field(description="switch driver: ovs, fake...")
    settings: Settings = Field(default_factory=dict)


class SwitchUpdate(Strict):
    settings: Settings = Field(description="changed settings; *** keeps a secret as it is")


class SwitchPublic(Public):
    id: uuid.UUID
    name: str
    site: str
    owner: str
    owner_org_id: uuid.UUID
    driver: str
    settings: dict[str, Any]
    ports: list[str]
    created_at: datetime


class PortsAdd(Strict):
    names: list[PortName] = Field(min_length=1, max_length=1000)


class NodeCreate(Strict):
    name: Slug
    site: Ref = Field(description="site id or name")
    owner: Ref = Field(description="owner organization id or name (the one lending it)")
    resource_class: Slug
    description: LongText = ""
    power_driver: DriverName = Field(description="power driver: redfish, ipmi, fake...")
    power_settings: Settings = Field(default_factory=dict)


class NodeUpdate(Strict):
    resource_class: Slug | None = None
    description: LongText | None = None
    power_driver: DriverName | None = None
    power_settings: Settings | None = Field(
        default=None, description="changed settings; *** keeps a secret as it is")


class NicCreate(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=63,
                                           pattern=r"^[A-Za-z0-9_.-]+$")]
    mac: Mac
    switch: Ref | None = Field(default=None, description="switch it is cabled to")
    port: PortName | None = Field(default=None, description="the switch port")

    @model_validator(mode="after")
    def _cabled(self) -> Self:
        if (self.switch is None) != (self.port is None):
            raise ValueError("give both switch and port, or neither")
        return self


class AttachmentPublic(Public):
    network_id: uuid.UUID
    network: str
    project: str
    vlan: int
    mode: AttachmentMode
    state: AttachmentState


class NicPublic(Public):
    id: uuid.UUID
    name: str
    mac: str
    switch: str | None
    port: str | None
    networks: list[AttachmentPublic]


class NodePublic(Public):
    id: uuid.UUID
    name: str
    site: str
    owner: str
    owner_org_id: uuid.UUID
    resource_class: str
    description: str
    power_driver: str
    power_settings: dict[str, Any] | None = Field(
        description="shown to the owner's admins and operators only (secrets as ***)")
    power_state: str | None
    boot_device: str | None
    power_checked_at: datetime | None
    power_error: str | None = Field(description="the BMC's last failure, until a success")
    lessee: str | None = Field(description="the project leasing it now (ORG:PROJECT)")
    lease_id: uuid.UUID | None
    busy_with: uuid.UUID | None = Field(description="the unfinished operation holding it")
    nics: list[NicPublic]
    created_at: datetime


class NetworkCreate(Strict):
    name: Slug
    project: Ref = Field(description="owner project: id, name or ORG:NAME")
    site: Ref = Field(description="site id or name")


class NetworkPublic(Public):
    id: uuid.UUID
    name: str
    project: str
    project_id: uuid.UUID
    site: str
    vlan: int
    created_at: datetime


class ConnectRequest(Strict):
    nic: Ref = Field(description="NIC name, MAC or id")
    network: Ref = Field(description="network id, name, or PROJECT/NAME")
    mode: AttachmentMode = Field(default=AttachmentMode.ACCESS,
                                 description="access (untagged, one per NIC) or tagged")


class DetachRequest(Strict):
    nic: Ref = Field(description="NIC name, MAC or id")
    network: Ref | None = Field(default=None, description="only this network (default: all)")


class PowerVerb(StrEnum):
    """What ``POST /nodes/{node}/power`` asks the BMC."""

    ON = "on"
    OFF = "off"
    CYCLE = "cycle"
    STATUS = "status"


class PowerRequest(Strict):
    action: PowerVerb


class BootDeviceRequest(Strict):
    device: BootDevice
    persistent: bool = Field(default=True, description="false: only for the next boot")


class OfferCreate(Strict):
    node: Ref | None = Field(default=None, description="one node (id or name)")
    resource_class: Slug | None = Field(default=None,
                                        description="or any node of this class")
    owner: Ref | None = Field(default=None, description="the lending organization (needed "
                                                        "with resource_class)")
    site: Ref | None = Field(default=None, description="the site (needed with resource_class)")
    project: Ref | None = Field(default=None, description="only this project (default: all)")
    starts_at: UtcDatetime | None = Field(default=None, description="default: now")
    ends_at: UtcDatetime

    @model_validator(mode="after")
    def _node_or_class(self) -> Self:
        if (self.node is None) == (self.resource_class is None):
            raise ValueError("give a node or a resource_class, not both")
        if self.resource_class is not None and (self.owner is None or self.site is None):
            raise ValueError("an offer of a resource class needs an owner and a site")
        if self.starts_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class OfferPublic(Public):
    id: uuid.UUID
    owner: str
    site: str
    node: str | None
    resource_class: str | None
    project: str | None
    starts_at: datetime
    ends_at: datetime
    state: OfferState
    created_at: datetime


class LeaseCreate(Strict):
    offer: uuid.UUID
    project: Ref = Field(description="the leasing project: id, name or ORG:NAME")
    starts_at: UtcDatetime | None = Field(default=None, description="default: now")
    ends_at: UtcDatetime

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.starts_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class LeaseExtend(Strict):
    ends_at: UtcDatetime = Field(description="the new end, later than the current one")


class LeaseReclaim(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3,
                                             max_length=500)]


class LeasePublic(Public):
    id: uuid.UUID
    offer_id: uuid.UUID
    node: str
    node_id: uuid.UUID
    project: str
    project_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    state: LeaseState
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime

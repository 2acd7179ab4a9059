"""Bare-metal tables: inventory (sites, switches, nodes), isolation (networks) and leases.

What is wanted is in rows; what the switch and the BMC actually do is changed only by
journalled operations. A ``NetworkAttachment`` is the wish "this NIC carries that
network"; a ``PortChange`` is HIL's ``NetworkingAction``: "this switch port must be
brought in line with its attachments", queued per switch and applied in batches.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocx.domain.baremetal.states import (
    AttachmentMode,
    AttachmentState,
    LeaseState,
    OfferState,
    PortChangeState,
)
from ocx.domain.identity.models import Organization, Project
from ocx.persistence.base import Base, IdMixin, TimestampMixin, str_enum

__all__ = ["Lease", "Network", "NetworkAttachment", "Nic", "Node", "Offer", "PortChange",
           "Site", "Switch", "SwitchPort"]



class Site(IdMixin, TimestampMixin, Base):
    """A place with switches and nodes, and the VLAN ids its networks are given."""

    __tablename__ = "bm_sites"
    __table_args__ = (
        CheckConstraint("vlan_min >= 1 AND vlan_max <= 4094 AND vlan_min <= vlan_max",
                        name="vlan_pool"),
    )

    name: Mapped[str] = mapped_column(String(63), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    vlan_min: Mapped[int]
    vlan_max: Mapped[int]


class Switch(IdMixin, TimestampMixin, Base):
    """A switch of a provider, reached by a driver with validated (partly sealed) settings."""

    __tablename__ = "bm_switches"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    site_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_sites.id", ondelete="RESTRICT"), index=True)
    owner_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    driver: Mapped[str] = mapped_column(String(63))
    # The driver's Settings as JSON; SecretStr fields are sealed (ocx.persistence.sealed).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    site: Mapped[Site] = relationship()
    owner: Mapped[Organization] = relationship()
    ports: Mapped[list[SwitchPort]] = relationship(
        back_populates="switch", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SwitchPort.name")


class SwitchPort(IdMixin, TimestampMixin, Base):
    """A port of a switch, named as the switch names it."""

    __tablename__ = "bm_switch_ports"
    __table_args__ = (UniqueConstraint("switch_id", "name"),)

    switch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_switches.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))

    switch: Mapped[Switch] = relationship(back_populates="ports")


class Node(IdMixin, TimestampMixin, Base):
    """A bare-metal machine an organization lends, with the BMC that powers it.

    Who may use it now is not stored here: it follows from its active lease, if any.
    ``locked_by`` is the operation that holds the node; a new one may take it only
    once that operation is done or failed (a compare-and-set, see ``locks``).
    """

    __tablename__ = "bm_nodes"

    site_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_sites.id", ondelete="RESTRICT"), index=True)
    owner_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    resource_class: Mapped[str] = mapped_column(String(63), index=True)
    power_driver: Mapped[str] = mapped_column(String(63))
    # The power driver's Settings as JSON; SecretStr fields (passwords) are sealed.
    power_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    power_state: Mapped[str | None] = mapped_column(String(16), default=None)
    boot_device: Mapped[str | None] = mapped_column(String(16), default=None)
    power_checked_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set when the BMC last failed (the reason); cleared by the next success.
    power_error: Mapped[str | None] = mapped_column(Text, default=None)
    locked_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("operations.id", ondelete="SET NULL"), default=None)

    site: Mapped[Site] = relationship()
    owner: Mapped[Organization] = relationship()
    nics: Mapped[list[Nic]] = relationship(
        back_populates="node", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Nic.name")


class Nic(IdMixin, TimestampMixin, Base):
    """A network interface of a node, and the switch port it is cabled to."""

    __tablename__ = "bm_nics"
    __table_args__ = (UniqueConstraint("node_id", "name"),)

    node_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_nodes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    mac: Mapped[str] = mapped_column(String(17), unique=True)
    port_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bm_switch_ports.id", ondelete="RESTRICT"), unique=True, default=None)

    node: Mapped[Node] = relationship(back_populates="nics")
    port: Mapped[SwitchPort | None] = relationship()
    attachments: Mapped[list[NetworkAttachment]] = relationship(
        back_populates="nic", passive_deletes=True)


class Network(IdMixin, TimestampMixin, Base):
    """A project's layer-2 network at a site: one VLAN id from the site's pool.

    The unique (site, vlan) pair is what makes allocation safe under concurrency: two
    requests that pick the same free id cannot both insert it.
    """

    __tablename__ = "bm_networks"
    __table_args__ = (UniqueConstraint("site_id", "vlan"), UniqueConstraint("project_id", "name"))

    site_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_sites.id", ondelete="RESTRICT"), index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    vlan: Mapped[int]

    site: Mapped[Site] = relationship()
    project: Mapped[Project] = relationship()


class NetworkAttachment(IdMixin, TimestampMixin, Base):
    """The wish that a NIC carries a network (untagged or tagged), and how far it got."""

    __tablename__ = "bm_network_attachments"
    __table_args__ = (
        UniqueConstraint("nic_id", "network_id"),
        # At most one untagged network per NIC (a partial unique index on both databases).
        Index("uq_bm_network_attachments_access", "nic_id", unique=True,
              sqlite_where=text("mode = 'access'"), postgresql_where=text("mode = 'access'")),
    )

    nic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_nics.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_networks.id", ondelete="RESTRICT"), index=True)
    mode: Mapped[AttachmentMode] = mapped_column(str_enum(AttachmentMode, "bm_attachment_mode"))
    state: Mapped[AttachmentState] = mapped_column(
        str_enum(AttachmentState, "bm_attachment_state"))

    nic: Mapped[Nic] = relationship(back_populates="attachments")
    network: Mapped[Network] = relationship()


class PortChange(IdMixin, TimestampMixin, Base):
    """A switch port that must be brought in line with its attachments (HIL's
    NetworkingAction). Pending changes of one switch are applied together, in one
    switch session, by whichever operation claims them first."""

    __tablename__ = "bm_port_changes"
    __table_args__ = (Index("ix_bm_port_changes_switch_state", "switch_id", "state"),)

    # The port's switch, repeated so that claiming a switch's batch is one single-table
    # UPDATE (a compare-and-set) rather than an UPDATE over a join.
    switch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_switches.id", ondelete="CASCADE"))
    port_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_switch_ports.id", ondelete="CASCADE"), index=True)
    operation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    state: Mapped[PortChangeState] = mapped_column(
        str_enum(PortChangeState, "bm_port_change_state"), default=PortChangeState.PENDING)
    # The operation whose batch applies it, and since when (a stale claim is taken over).
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class Offer(IdMixin, TimestampMixin, Base):
    """An owner lends a node, or any of its nodes of a resource class, for a time window,
    to every project or to one."""

    __tablename__ = "bm_offers"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window"),
        CheckConstraint("(node_id IS NULL) <> (resource_class IS NULL)", name="node_or_class"),
    )

    owner_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    site_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_sites.id", ondelete="RESTRICT"), index=True)
    node_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bm_nodes.id", ondelete="CASCADE"), index=True, default=None)
    resource_class: Mapped[str | None] = mapped_column(String(63), default=None)
    # Only this project may lease; None: every project.
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True, default=None)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    state: Mapped[OfferState] = mapped_column(str_enum(OfferState, "bm_offer_state"),
                                              default=OfferState.AVAILABLE)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)

    owner: Mapped[Organization] = relationship()
    site: Mapped[Site] = relationship()
    node: Mapped[Node | None] = relationship()
    project: Mapped[Project | None] = relationship()


class Lease(IdMixin, TimestampMixin, Base):
    """A project's use of one node for a time window, under an offer.

    Leases of one node never overlap while they are ``created``, ``active`` or
    ``ending``: on PostgreSQL an exclusion constraint over ``tstzrange(starts_at,
    ends_at)`` (migration 0004) refuses the second one even when two requests race; on
    SQLite writers are serialized, so the service's own check is enough.
    """

    __tablename__ = "bm_leases"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_bm_leases_state_starts_at", "state", "starts_at"),
        Index("ix_bm_leases_state_ends_at", "state", "ends_at"),
    )

    offer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_offers.id", ondelete="RESTRICT"), index=True)
    node_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_nodes.id", ondelete="RESTRICT"), index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    state: Mapped[LeaseState] = mapped_column(str_enum(LeaseState, "bm_lease_state"),
                                              default=LeaseState.CREATED)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)

    offer: Mapped[Offer] = relationship()
    node: Mapped[Node] = relationship()
    project: Mapped[Project] = relationship()

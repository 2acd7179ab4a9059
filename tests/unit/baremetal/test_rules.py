"""Pure bare-metal rules: usage hours, port configurations from attachments, who uses a node,
and the CLI's parsers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import typer

from ocx.cli.leases import parse_when
from ocx.cli.sites import parse_vlans
from ocx.cli.switches import parse_settings
from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.baremetal.models import Network, NetworkAttachment
from ocx.domain.baremetal.states import AttachmentMode, AttachmentState
from ocx.domain.baremetal.switching import port_config
from ocx.domain.baremetal.usage import hours
from ocx.domain.identity.roles import OrgRole, ProjectRole
from ocx.domain.policy import Action, Target
from ocx.drivers.switch import PortConfig

START = datetime(2026, 11, 1, tzinfo=UTC)


def test_usage_hours_are_exact_decimals() -> None:
    assert hours(START, START + timedelta(minutes=90)) == Decimal("1.500000")
    assert hours(START, START + timedelta(seconds=1)) == Decimal("0.000278")
    assert hours(START, START + timedelta(days=31)) == Decimal("744.000000")


def _attachment(vlan: int, mode: AttachmentMode) -> NetworkAttachment:
    return NetworkAttachment(network=Network(vlan=vlan, name=f"n{vlan}"), mode=mode,
                             state=AttachmentState.ATTACHED)


def test_a_port_carries_its_nic_attachments() -> None:
    assert port_config("p", []) == PortConfig("p")
    assert port_config("p", [_attachment(5, AttachmentMode.ACCESS),
                             _attachment(6, AttachmentMode.TAGGED),
                             _attachment(7, AttachmentMode.TAGGED)]) == PortConfig(
        "p", access_vlan=5, trunk_vlans=frozenset({6, 7}))


def test_a_node_is_used_by_its_lessee_during_a_lease_else_by_its_owner() -> None:
    org, project = uuid.uuid4(), uuid.uuid4()
    owner_admin = Actor(user_id=uuid.uuid4(), email="a@x", org_roles={org: OrgRole.ADMIN})
    lessee = Actor(user_id=uuid.uuid4(), email="m@x",
                   project_roles={project: ProjectRole.MEMBER})
    idle, leased = Target(org_id=org), Target(project_id=project)
    assert policy.can(owner_admin, Action.NODE_POWER, idle)
    assert not policy.can(owner_admin, Action.NODE_POWER, leased)
    assert policy.can(lessee, Action.NODE_CONNECT, leased)
    assert not policy.can(lessee, Action.NODE_CONNECT, idle)
    assert not policy.can(owner_admin, Action.NODE_UPDATE, leased)
    assert not policy.can(lessee, Action.LEASE_RECLAIM, leased)


def test_cli_parsers() -> None:
    assert parse_vlans("100-199") == (100, 199) and parse_vlans("7") == (7, 7)
    with pytest.raises(typer.BadParameter):
        parse_vlans("a-b")
    assert parse_settings(["port=6640", "bridge=br0", "ssl=true"], '{"db": "tcp:x"}') == {
        "db": "tcp:x", "port": 6640, "bridge": "br0", "ssl": True}
    with pytest.raises(typer.BadParameter):
        parse_settings(["novalue"])
    soon = parse_when("+4h") - datetime.now(UTC)
    assert timedelta(hours=3, minutes=59) < soon <= timedelta(hours=4)
    assert parse_when("2026-12-31") == datetime(2026, 12, 31, tzinfo=UTC)

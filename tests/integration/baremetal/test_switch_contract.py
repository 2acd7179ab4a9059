"""The switch driver contract, for the fake and for Open vSwitch (real, in namespaces)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ocx.drivers.registry import DriverRegistry
from ocx.drivers.switch import PortConfig, SwitchDriver
from ocx.drivers.switch.fake import forget_fake_switches
from ocx.errors import DriverError, PermanentDriverError
from tests.servers.ovs import Ovs

pytestmark = pytest.mark.baremetal


@dataclass
class Subject:
    """A driver under test, two of its ports, and settings that cannot reach it."""

    driver: SwitchDriver
    ports: tuple[str, str]
    unreachable: SwitchDriver


@pytest.fixture(params=["fake", "ovs"])
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    registry = DriverRegistry()
    if request.param == "fake":
        name = f"contract-{uuid.uuid4().hex[:6]}"
        yield Subject(registry.create(SwitchDriver, "fake", {"name": name, "ports": ["a", "b"]}),
                      ("a", "b"),
                      registry.create(SwitchDriver, "fake", {"name": name, "fail": "temporary"}))
        forget_fake_switches()
        return
    ovs: Ovs = request.getfixturevalue("ovs")
    ports = (ovs.add_node("c1", 11), ovs.add_node("c2", 12))
    yield Subject(registry.create(SwitchDriver, "ovs", {"db": ovs.db, "bridge": ovs.bridge}),
                  ports,
                  registry.create(SwitchDriver, "ovs", {"db": f"unix:{ovs.base}/nothing.sock",
                                                        "bridge": ovs.bridge, "timeout_s": 2}))


def test_a_port_carries_exactly_what_it_is_given(subject: Subject) -> None:
    a, b = subject.ports
    subject.driver.set_access_vlan(a, 101)
    assert subject.driver.read_port(a) == PortConfig(a, access_vlan=101)
    subject.driver.set_trunk_vlans(a, frozenset({102, 103}), native_vlan=101)
    assert subject.driver.read_port(a) == PortConfig(a, 101, frozenset({102, 103}))
    subject.driver.set_trunk_vlans(a, frozenset({104}))
    assert subject.driver.read_port(a) == PortConfig(a, trunk_vlans=frozenset({104}))
    subject.driver.isolate(a)
    assert subject.driver.read_port(a).isolated
    subject.driver.isolate(a)  # again: no error, same state
    assert subject.driver.read_port(b).port == b


def test_a_batch_is_applied_whole_or_not_at_all(subject: Subject) -> None:
    a, b = subject.ports
    subject.driver.apply([PortConfig(a, access_vlan=201), PortConfig(b, access_vlan=201)])
    assert [subject.driver.read_port(p).access_vlan for p in (a, b)] == [201, 201]
    with pytest.raises(PermanentDriverError, match="no-such-port"):
        subject.driver.apply([PortConfig(a, access_vlan=202), PortConfig("no-such-port", 202)])
    assert subject.driver.read_port(a).access_vlan == 201
    with pytest.raises(PermanentDriverError):
        subject.driver.read_port("no-such-port")


def test_an_unreachable_switch_is_a_temporary_error(subject: Subject) -> None:
    with pytest.raises(DriverError) as raised:
        subject.unreachable.apply([PortConfig(subject.ports[0], access_vlan=300)])
    assert not isinstance(raised.value, PermanentDriverError)
    with pytest.raises(DriverError):
        subject.unreachable.read_port(subject.ports[0])

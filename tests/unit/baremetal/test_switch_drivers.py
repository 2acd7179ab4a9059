"""Switch drivers without a switch: port configurations, the fake, and the OVS driver's
translation of a configuration into OVSDB columns."""

from __future__ import annotations

import pytest

from ocx.drivers.switch import PortConfig
from ocx.drivers.switch.fake import FakeSwitch, fake_switch, forget_fake_switches
from ocx.drivers.switch.ovs import OvsSwitch, _ints
from ocx.errors import DriverError, PermanentDriverError


def test_a_port_config_checks_its_vlans() -> None:
    assert PortConfig("p").isolated
    assert not PortConfig("p", trunk_vlans=frozenset({5})).isolated
    with pytest.raises(ValueError, match="1-4094"):
        PortConfig("p", access_vlan=4095)
    with pytest.raises(ValueError, match="both untagged and tagged"):
        PortConfig("p", access_vlan=10, trunk_vlans=frozenset({10}))


def test_the_fake_switch_counts_sessions_and_shares_state() -> None:
    forget_fake_switches()
    first = FakeSwitch(FakeSwitch.Settings(name="unit", ports=["a", "b"]))
    first.apply([PortConfig("a", access_vlan=7), PortConfig("b", access_vlan=8)])
    again = FakeSwitch(FakeSwitch.Settings(name="unit", ports=["a", "b"]))
    assert again.read_port("a") == PortConfig("a", access_vlan=7)
    again.isolate("a")
    assert fake_switch("unit").sessions == 2 and fake_switch("unit").ports["a"].isolated
    with pytest.raises(PermanentDriverError, match="no port 'c'"):
        again.apply([PortConfig("a", access_vlan=9), PortConfig("c")])
    assert again.read_port("a").isolated  # nothing of the refused batch landed
    with pytest.raises(DriverError):
        FakeSwitch(FakeSwitch.Settings(name="unit", fail="temporary")).read_port("a")
    forget_fake_switches()


def _ovs(**settings: object) -> OvsSwitch:
    return OvsSwitch(OvsSwitch.Settings.model_validate(
        {"db": "unix:/run/ovs.sock", "bridge": "br0", **settings}))


@pytest.mark.parametrize(("config", "columns"), [
    (PortConfig("p"), ["tag=4095", "trunks=[]", "vlan_mode=access", "protected=true"]),
    (PortConfig("p", access_vlan=101),
     ["tag=101", "trunks=[]", "vlan_mode=access", "protected=false"]),
    (PortConfig("p", trunk_vlans=frozenset({103, 102})),
     ["tag=[]", "trunks=[102,103]", "vlan_mode=trunk", "protected=false"]),
    (PortConfig("p", access_vlan=101, trunk_vlans=frozenset({102})),
     ["tag=101", "trunks=[102]", "vlan_mode=native-untagged", "protected=false"]),
])
def test_ovs_columns_never_leave_a_port_open_to_every_vlan(config: PortConfig,
                                                          columns: list[str]) -> None:
    assert _ovs()._columns(config) == columns


def test_ovs_settings_and_values() -> None:
    assert _ovs(isolation_vlan=4000)._columns(PortConfig("p"))[0] == "tag=4000"
    with pytest.raises(ValueError, match="db"):
        _ovs(db="/no/scheme")
    assert _ints(7) == [7] and _ints(["set", [1, 2]]) == [1, 2]
    with pytest.raises(DriverError):
        _ints("seven")


def test_ovs_without_ovs_vsctl_is_a_permanent_error() -> None:
    with pytest.raises(PermanentDriverError, match="not installed"):
        _ovs(ovs_vsctl="/nonexistent/ovs-vsctl").read_port("p")
    _ovs().apply([])  # an empty batch calls nothing

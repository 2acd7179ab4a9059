"""Bare metal: nodes that owners lend, leased by projects, isolated by VLAN at the switch."""

"""Fixtures and collection rules shared by every test group."""

from __future__ import annotations

import os

import pytest

# Tests never read the developer's environment for OCX settings.
for _name in [n for n in os.environ if n.startswith("OCX_")]:
    del os.environ[_name]

# Markers whose tests share one heavy server per session, or a cache built on disk: under
# pytest-xdist each of these groups runs whole on one worker, so no server starts twice
# and no two workers build the same cache at once.
SERVER_GROUPS = ("openstack", "ceph", "images")


def _group(item: pytest.Item) -> str:
    for marker in SERVER_GROUPS:
        if item.get_closest_marker(marker) is not None:
            return marker
    # One module on one database per group: a module's shared app is built once.
    callspec = getattr(item, "callspec", None)
    database = callspec.params.get("database_url", "") if callspec is not None else ""
    return f"{item.nodeid.split('::', 1)[0]}:{database}"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group tests for ``--dist loadgroup`` (see docs/development.md).

    The server groups go first: xdist hands out groups in collection order, so the
    longest ones start at once and the rest fill in around them.
    """
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))
    if config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None):
        items.sort(key=lambda item: _group(item) not in SERVER_GROUPS)

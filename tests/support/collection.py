"""Collection helpers shared by conftest files."""

from __future__ import annotations

from pathlib import Path

import pytest


def sqlite_only(config: pytest.Config, items: list[pytest.Item], here: Path) -> None:
    """Deselect the PostgreSQL copies of the tests under ``here``: tests about a provider,
    not the database (both databases run the same flows against the fake drivers)."""
    dropped = [item for item in items if item.path.is_relative_to(here)
               and getattr(item, "callspec", None) is not None
               and item.callspec.params.get("database_url") == "postgresql"]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]

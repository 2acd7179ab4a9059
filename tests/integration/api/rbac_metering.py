"""RBAC expectations for usage: a project's people, its organization's admins, operators."""

from __future__ import annotations

from tests.support.rbac import PROJECT_PEOPLE, Case, only

METERING_CASES: dict[str, Case] = {
    "usage.read": Case("GET", "/usage?project={project}&from=2026-10-01T00:00:00Z"
                              "&to=2026-11-01T00:00:00Z", only(*PROJECT_PEOPLE)),
}

"""Project-style drivers: a tenant on a provider (OpenStack project, RGW user, namespace)."""

from ocx.drivers.project.base import (
    Credentials,
    ProjectDriver,
    ProjectSpec,
    ProjectState,
    ProjectUser,
)

__all__ = ["Credentials", "ProjectDriver", "ProjectSpec", "ProjectState", "ProjectUser"]

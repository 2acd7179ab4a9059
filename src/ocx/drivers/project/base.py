"""The ``ProjectDriver`` interface: one OCX allocation = one tenant on a provider.

An allocation of a project on an offering becomes a tenant on the offering's provider
(a Keystone project, an RGW user, a Kubernetes namespace...). The worker calls these
methods from journalled operations, so every method must be idempotent: calling it
twice, or after a crash half-way, leaves the same state as calling it once.

Quotas are expressed in OCX component names with units in the name (``cores``,
``ram_mib``, ``instances``, ``volumes``, ``storage_gib``, ``floating_ips``,
``networks``...); each driver lists the components it understands in ``components``
and maps them onto its own services.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from pydantic import SecretStr

from ocx.drivers.base import Driver
from ocx.errors import PermanentDriverError


@dataclass(frozen=True)
class ProjectSpec:
    """What OCX wants to exist on the provider for one allocation."""

    allocation_id: str  # the OCX allocation's id; the driver tags the tenant with it
    name: str  # a readable, unique name, e.g. "ocx-acme-demo-1a2b3c4d"
    description: str = ""


@dataclass(frozen=True)
class ProjectUser:
    """An OCX user who should have access to the tenant."""

    user_id: str  # the OCX user's id: stable, unlike an email address
    email: str
    name: str = ""
    role: str = "member"  # the provider-side role to grant (the driver maps it)


@dataclass(frozen=True)
class ProjectState:
    """What the provider actually has, for the reconciler to compare with OCX's wishes."""

    external_id: str
    enabled: bool
    quota: Mapping[str, int]  # component -> limit (-1: unlimited)
    usage: Mapping[str, int]  # component -> in use now
    users: frozenset[str]  # OCX user ids that have access


@dataclass(frozen=True)
class Credentials:
    """Working credentials for one user on one tenant, shown to that user once.

    ``files`` are ready-to-use files (e.g. ``clouds.yaml``, ``openrc.sh``) whose text
    contains the secret; OCX never logs them and stores them only sealed.
    """

    credential_id: str  # the provider's id for the credential, to revoke it later
    files: Mapping[str, SecretStr]
    expires_at: datetime | None = None
    hints: Mapping[str, str] = field(default_factory=dict)  # non-secret facts (endpoint...)


class ProjectMissing(PermanentDriverError):
    """The tenant does not exist (any more) on the provider."""


class ProjectDriver(Driver, abc.ABC):
    """A tenant on a provider. Entry-point group: ``ocx.drivers.project``."""

    interface = "project"
    components: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def ensure_project(self, spec: ProjectSpec) -> str:
        """Create the tenant for ``spec.allocation_id`` unless it exists; its external id.

        Finds an existing tenant by the allocation id it was tagged with, so that a retry
        after a crash does not create a second one.

        Raises:
            DriverError: the provider is unreachable or busy (retried).
            PermanentDriverError: the provider refused (bad settings, name taken by a
                tenant OCX did not create).
        """

    @abc.abstractmethod
    def describe(self, external_id: str) -> ProjectState:
        """The tenant's actual state: enabled, quota, usage and users.

        Raises:
            DriverError: the provider is unreachable (retried).
            PermanentDriverError: the tenant does not exist (``ProjectMissing`` where the
                driver can tell), or the provider refused.
        """

    def describe_many(self, external_ids: Sequence[str]) -> dict[str, ProjectState]:
        """``describe`` of many tenants at once, by external id, for the reconciler.

        Tenants that do not exist are left out of the answer. This default asks one by
        one; drivers whose provider can answer for many tenants in a few calls override it
        and must answer exactly what ``describe`` would.

        Raises:
            DriverError: the provider is unreachable (retried).
            PermanentDriverError: the provider refused.
        """
        states: dict[str, ProjectState] = {}
        for external_id in dict.fromkeys(external_ids):
            try:
                states[external_id] = self.describe(external_id)
            except ProjectMissing:
                continue
        return states

    @abc.abstractmethod
    def set_quota(self, external_id: str, quota: Mapping[str, int]) -> None:
        """Set the limits of the given components (others are left as they are).

        Raises:
            DriverError: the provider is unreachable (retried).
            PermanentDriverError: an unknown component, or a limit the provider refuses.
        """

    @abc.abstractmethod
    def ensure_user(self, external_id: str, user: ProjectUser) -> None:
        """Give ``user`` access to the tenant (creating the provider-side user if needed).

        Raises:
            DriverError: the provider is unreachable (retried).
        """

    @abc.abstractmethod
    def remove_user(self, external_id: str, user: ProjectUser) -> None:
        """Take ``user``'s access away and revoke the credentials issued to them here.

        Removing a user who has no access is not an error.

        Raises:
            DriverError: the provider is unreachable (retried).
        """

    @abc.abstractmethod
    def set_enabled(self, external_id: str, enabled: bool) -> None:
        """Enable or disable the tenant; disabling also revokes issued credentials.

        Raises:
            DriverError: the provider is unreachable (retried).
        """

    @abc.abstractmethod
    def issue_credentials(self, external_id: str, user: ProjectUser) -> Credentials:
        """New credentials for ``user`` on the tenant (the user must have access).

        Raises:
            DriverError: the provider is unreachable (retried).
            PermanentDriverError: the user has no access to the tenant.
        """

    @abc.abstractmethod
    def delete_project(self, external_id: str) -> None:
        """Delete the tenant and what OCX created for it, and nothing else.

        Deleting a tenant that no longer exists is not an error.

        Raises:
            DriverError: the provider is unreachable (retried).
        """

"""An in-process stand-in for a provider's tenants: for unit tests, the demo and contracts.

Its "cloud" is shared by every instance with the same ``cloud`` name in one process
(a provider is one place, however many driver objects talk to it). Fakes are refused
in production (``DriverRegistry.allow_fakes``).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from pydantic import SecretStr

from ocx.drivers.project.base import (
    Credentials,
    ProjectDriver,
    ProjectMissing,
    ProjectSpec,
    ProjectState,
    ProjectUser,
)
from ocx.errors import DriverError, PermanentDriverError

_CLOUDS: dict[str, dict[str, Any]] = {}  # the fake's own "remote" state, per cloud name
_LOCK = threading.Lock()
COMPONENTS = frozenset({"cores", "ram_mib", "instances", "volumes", "storage_gib",
                        "floating_ips", "networks"})


class FakeProject(ProjectDriver):
    """Tenants kept in memory (or a file); ``down=True`` plays an unreachable provider."""

    components: ClassVar[frozenset[str]] = COMPONENTS

    class Settings(ProjectDriver.Settings):
        cloud: str = "default"
        down: bool = False

    settings: Settings

    @contextmanager
    def _cloud(self) -> Iterator[dict[str, Any]]:
        if self.settings.down:
            raise DriverError(f"fake cloud {self.settings.cloud} is unreachable")
        with _LOCK:
            yield _CLOUDS.setdefault(self.settings.cloud, {"projects": {}})

    def _project(self, cloud: dict[str, Any], external_id: str) -> dict[str, Any]:
        project = cloud["projects"].get(external_id)
        if project is None:
            raise ProjectMissing(f"no project {external_id} on {self.settings.cloud}")
        return project  # type: ignore[no-any-return]

    @staticmethod
    def _state(external_id: str, project: dict[str, Any]) -> ProjectState:
        return ProjectState(external_id=external_id, enabled=project["enabled"],
                            quota=dict(project["quota"]), usage=dict(project["usage"]),
                            users=frozenset(project["users"]))

    def ensure_project(self, spec: ProjectSpec) -> str:
        """Create the tenant unless one is tagged with the allocation already."""
        with self._cloud() as cloud:
            for external_id, project in cloud["projects"].items():
                if project["allocation_id"] == spec.allocation_id:
                    return str(external_id)
            external_id = f"fake-{secrets.token_hex(6)}"
            cloud["projects"][external_id] = {
                "allocation_id": spec.allocation_id, "name": spec.name, "enabled": True,
                "quota": {c: 0 for c in sorted(COMPONENTS)}, "usage": {}, "users": {},
                "credentials": {}}
            return external_id

    def describe(self, external_id: str) -> ProjectState:
        """The tenant as the fake holds it."""
        with self._cloud() as cloud:
            return self._state(external_id, self._project(cloud, external_id))

    def describe_many(self, external_ids: Sequence[str]) -> dict[str, ProjectState]:
        """Every tenant asked for that exists, read at once (missing ones left out)."""
        with self._cloud() as cloud:
            return {external_id: self._state(external_id, cloud["projects"][external_id])
                    for external_id in external_ids if external_id in cloud["projects"]}

    def set_quota(self, external_id: str, quota: Mapping[str, int]) -> None:
        """Set the given limits."""
        unknown = set(quota) - COMPONENTS
        if unknown:
            raise PermanentDriverError(f"unknown components: {', '.join(sorted(unknown))}")
        with self._cloud() as cloud:
            self._project(cloud, external_id)["quota"].update(quota)

    def ensure_user(self, external_id: str, user: ProjectUser) -> None:
        """Grant access."""
        with self._cloud() as cloud:
            self._project(cloud, external_id)["users"][user.user_id] = user.role

    def remove_user(self, external_id: str, user: ProjectUser) -> None:
        """Take access and the user's credentials away."""
        with self._cloud() as cloud:
            project = self._project(cloud, external_id)
            project["users"].pop(user.user_id, None)
            project["credentials"] = {k: v for k, v in project["credentials"].items()
                                      if v != user.user_id}

    def set_enabled(self, external_id: str, enabled: bool) -> None:
        """Enable or disable; disabling revokes every credential."""
        with self._cloud() as cloud:
            project = self._project(cloud, external_id)
            project["enabled"] = enabled
            if not enabled:
                project["credentials"] = {}

    def issue_credentials(self, external_id: str, user: ProjectUser) -> Credentials:
        """A random key pair for a user with access."""
        with self._cloud() as cloud:
            project = self._project(cloud, external_id)
            if user.user_id not in project["users"]:
                raise PermanentDriverError(f"{user.email} has no access to {project['name']}")
            credential_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
            project["credentials"][credential_id] = user.user_id
        text = f"[{project['name']}]\nkey_id = {credential_id}\nsecret = {secret}\n"
        return Credentials(credential_id=credential_id,
                           files={"fake-credentials.ini": SecretStr(text)},
                           hints={"cloud": self.settings.cloud})

    def delete_project(self, external_id: str) -> None:
        """Delete the tenant (gone already is fine)."""
        with self._cloud() as cloud:
            cloud["projects"].pop(external_id, None)

    # --- for tests and the demo: what an outside actor would do on the provider -------

    def tamper(self, external_id: str, **changes: Any) -> None:
        """Change the tenant behind OCX's back (quota, usage, enabled, users)."""
        with self._cloud() as cloud:
            project = self._project(cloud, external_id)
            for key, value in changes.items():
                if isinstance(project.get(key), dict) and isinstance(value, dict):
                    project[key].update(value)
                else:
                    project[key] = value

    def credential_valid(self, external_id: str, credential_id: str) -> bool:
        """Whether a credential still works (it does until revoked or disabled)."""
        with self._cloud() as cloud:
            project = cloud["projects"].get(external_id)
            return bool(project and project["enabled"]
                        and credential_id in project["credentials"])

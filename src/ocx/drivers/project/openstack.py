"""An OCX allocation as a Keystone project, with Nova/Cinder/Neutron quotas.

What the driver creates: Keystone projects tagged ``ocx`` and
``ocx-allocation-<allocation id>``, Keystone users named ``ocx-<OCX user id>`` (marked
in their description as created by OCX), role assignments of those users on those
projects, and application credentials restricted to one project. It never changes or
deletes anything else. Users get in with application credentials only: their Keystone
password is random and never shown.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, cast

import openstack
from openstack import exceptions as sdk_exceptions
from openstack.connection import Connection
from openstack.identity.v3._proxy import Proxy as IdentityV3
from pydantic import Field, SecretStr

from ocx.drivers.project import openstack_quota as quotas
from ocx.drivers.project.base import (
    Credentials,
    ProjectDriver,
    ProjectSpec,
    ProjectState,
    ProjectUser,
)
from ocx.drivers.project.openstack_errors import translated
from ocx.drivers.project.openstack_files import credential_files
from ocx.errors import PermanentDriverError

OCX_TAG = "ocx"
USER_PREFIX = "ocx-"
CREATED_MARK = "Created by OCX"
_SIGN_IN_ATTEMPTS = 3
_REVOCATION_RESOLUTION_S = 1.1


def _identity(conn: Connection) -> IdentityV3:
    return cast(IdentityV3, conn.identity)


def credential_name(project_id: str) -> str:
    """The name of a user's OCX application credential on a project (one per user)."""
    return f"ocx-{project_id}"


def allocation_tag(allocation_id: str) -> str:
    """The Keystone tag that finds an allocation's project again."""
    return f"ocx-allocation-{allocation_id}"


class OpenStackProject(ProjectDriver):
    """Keystone projects, users, roles and application credentials; service quotas."""

    components: ClassVar[frozenset[str]] = frozenset(quotas.COMPONENTS)

    class Settings(ProjectDriver.Settings):
        """Where the cloud is and how OCX signs in to it as an administrator."""

        secret_destination: ClassVar[frozenset[str] | None] = frozenset(
            {"auth_url", "verify_tls"})

        auth_url: str
        username: str
        password: SecretStr
        project_name: str = "admin"
        user_domain_name: str = "Default"  # of the admin user
        project_domain_name: str = "Default"  # of the admin project
        region: str = "RegionOne"
        domain: str = "Default"  # where OCX creates projects and users
        user_mode: Literal["local", "federated"] = "local"
        idp_id: str = ""  # federated mode: the Keystone identity provider...
        protocol: str = "openid"  # ...and protocol whose unique id is the OCX user id
        member_role: str = "member"
        role_map: dict[str, str] = Field(default_factory=dict)  # OCX role -> Keystone role
        verify_tls: bool = True
        timeout_s: float = Field(default=30.0, gt=0)

    settings: Settings

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._conn: Connection | None = None

    # -- connections ---------------------------------------------------------------

    def _connect(self, auth: Mapping[str, str]) -> Connection:
        s = self.settings
        return openstack.connect(auth_type="password", auth=dict(auth), region_name=s.region,
                                 verify=s.verify_tls, api_timeout=s.timeout_s,
                                 load_yaml_config=False, load_envvars=False, app_name="ocx")

    @property
    def conn(self) -> Connection:
        """The admin connection, made once and shared by threads (keystoneauth is)."""
        with self._lock:
            if self._conn is None:
                s = self.settings
                self._conn = self._connect({
                    "auth_url": s.auth_url, "username": s.username,
                    "password": s.password.get_secret_value(), "project_name": s.project_name,
                    "user_domain_name": s.user_domain_name,
                    "project_domain_name": s.project_domain_name})
            return self._conn

    @property
    def identity(self) -> IdentityV3:
        """Keystone v3 (the only version OCX speaks)."""
        return _identity(self.conn)

    def _call(self, action: str) -> Any:
        return translated(self.settings.auth_url, action)

    def _domain_id(self) -> str:
        domain = self.identity.find_domain(self.settings.domain, ignore_missing=False)
        return str(domain.id)

    # -- projects ------------------------------------------------------------------

    def _find_project(self, allocation_id: str) -> Any:
        found = list(self.identity.projects(tags=allocation_tag(allocation_id)))
        return found[0] if found else None

    def ensure_project(self, spec: ProjectSpec) -> str:
        """Create the Keystone project for the allocation unless its tag finds one."""
        with self._call(f"create project {spec.name}"):
            existing = self._find_project(spec.allocation_id)
            if existing is not None:
                return str(existing.id)
            domain_id = self._domain_id()
            if self.identity.find_project(spec.name, domain_id=domain_id) is not None:
                raise PermanentDriverError(f"a Keystone project named {spec.name} already "
                                           "exists and OCX did not create it")
            project = self.identity.create_project(
                name=spec.name, description=spec.description, domain_id=domain_id,
                tags=[OCX_TAG, allocation_tag(spec.allocation_id)], is_enabled=True)
            return str(project.id)

    def _project(self, external_id: str) -> Any:
        project = self.identity.find_project(external_id, ignore_missing=True)
        if project is None or project.id != external_id:
            raise PermanentDriverError(f"Keystone project {external_id} does not exist")
        return project

    def describe(self, external_id: str) -> ProjectState:
        """Enabled, quota and usage from each service in the catalog, and OCX members."""
        with self._call(f"describe project {external_id}"):
            project = self._project(external_id)
            quota: dict[str, int] = {}
            usage: dict[str, int] = {}
            for service in quotas.SERVICES:
                if self.conn.has_service(service):
                    limits, used = quotas.read(self.conn, external_id, service)
                    quota.update(limits)
                    usage.update(used)
            users = frozenset(self._members(external_id).values())
            return ProjectState(external_id=external_id, enabled=bool(project.is_enabled),
                                quota=quota, usage=usage, users=users)

    def set_quota(self, external_id: str, quota: Mapping[str, int]) -> None:
        """Set the given components on Nova, Cinder and Neutron; others stay."""
        with self._call(f"set the quota of project {external_id}"):
            self._project(external_id)
            quotas.write(self.conn, external_id, quota)

    def set_enabled(self, external_id: str, enabled: bool) -> None:
        """Enable or disable the project; disabling revokes its application credentials."""
        with self._call(f"{'enable' if enabled else 'disable'} project {external_id}"):
            self.identity.update_project(self._project(external_id), is_enabled=enabled)
            if not enabled:
                for keystone_id in self._members(external_id):
                    self._revoke(keystone_id, external_id)

    def delete_project(self, external_id: str) -> None:
        """Delete the project, then the OCX-created users left with no other project."""
        with self._call(f"delete project {external_id}"):
            try:
                self._project(external_id)
            except PermanentDriverError:
                return
            members = self._members(external_id)
            self.identity.delete_project(external_id, ignore_missing=True)
            for keystone_id in members:
                self._delete_user_if_orphaned(keystone_id)

    # -- users ---------------------------------------------------------------------

    def _members(self, external_id: str) -> dict[str, str]:
        """Keystone user id -> OCX user id of the OCX users with a role on the project."""
        members: dict[str, str] = {}
        for assignment in self.identity.role_assignments(scope_project_id=external_id,
                                                              include_names=True):
            user = assignment.user or {}
            name = str(user.get("name", ""))
            if name.startswith(USER_PREFIX):
                members[str(user["id"])] = name.removeprefix(USER_PREFIX)
        return members

    def _find_user(self, user: ProjectUser) -> Any:
        # Keystone lists a user with both local and federated entries once per entry, so
        # find_user() would call it a duplicate: compare ids instead.
        name = USER_PREFIX + user.user_id
        found = {u.id: u for u in self.identity.users(name=name, domain_id=self._domain_id())}
        if len(found) > 1:
            raise PermanentDriverError(f"Keystone has {len(found)} users named {name}")
        return next(iter(found.values()), None)

    def _create_user(self, user: ProjectUser) -> Any:
        s = self.settings
        attrs: dict[str, Any] = {
            "name": USER_PREFIX + user.user_id, "domain_id": self._domain_id(),
            "email": user.email, "description": f"{CREATED_MARK} for {user.name or user.email}",
            "password": secrets.token_urlsafe(32), "is_enabled": True,
            # OCX resets the password to issue credentials: keep Keystone's PCI rules quiet
            "options": {"ignore_change_password_upon_first_use": True,
                        "ignore_password_expiry": True, "ignore_lockout_failure_attempts": True}}
        if s.user_mode == "federated":
            attrs["federated"] = [{"idp_id": s.idp_id, "protocols": [
                {"protocol_id": s.protocol, "unique_id": user.user_id}]}]
        return self.identity.create_user(**attrs)

    def _role(self, user: ProjectUser) -> Any:
        name = self.settings.role_map.get(user.role, self.settings.member_role)
        return self.identity.find_role(name, ignore_missing=False)

    def ensure_user(self, external_id: str, user: ProjectUser) -> None:
        """Create ``ocx-<user id>`` if needed and grant it its role on the project."""
        with self._call(f"add user {user.user_id} to project {external_id}"):
            project = self._project(external_id)
            keystone_user = self._find_user(user) or self._create_user(user)
            self.identity.assign_project_role_to_user(project, keystone_user,
                                                           self._role(user))

    def remove_user(self, external_id: str, user: ProjectUser) -> None:
        """Remove every role of the user on the project and revoke their credentials; an
        OCX-made user left with no role anywhere is deleted."""
        with self._call(f"remove user {user.user_id} from project {external_id}"):
            keystone_user = self._find_user(user)
            if keystone_user is None:
                return
            for assignment in self.identity.role_assignments(
                    scope_project_id=external_id, user_id=keystone_user.id):
                self.identity.unassign_project_role_from_user(
                    external_id, keystone_user.id, assignment.role["id"])
            self._revoke(keystone_user.id, external_id)
            self._delete_user_if_orphaned(keystone_user.id)

    def _revoke(self, keystone_user_id: str, external_id: str) -> None:
        """Delete the user's application credentials scoped to the project."""
        for credential in self.identity.application_credentials(user=keystone_user_id):
            if credential.project_id == external_id:
                self.identity.delete_application_credential(keystone_user_id, credential)

    def _delete_user_if_orphaned(self, keystone_user_id: str) -> None:
        user = self.identity.get_user(keystone_user_id)
        if not str(user.description or "").startswith(CREATED_MARK):
            return
        if next(iter(self.identity.role_assignments(user_id=keystone_user_id)), None):
            return
        self.identity.delete_user(keystone_user_id, ignore_missing=True)

    # -- credentials ---------------------------------------------------------------

    def issue_credentials(self, external_id: str, user: ProjectUser) -> Credentials:
        """An application credential of the user, restricted to the project."""
        with self._call(f"issue credentials on project {external_id}"):
            project = self._project(external_id)
            keystone_user = self._find_user(user)
            if keystone_user is None or keystone_user.id not in self._members(external_id):
                raise PermanentDriverError(f"user {user.user_id} has no access to Keystone "
                                           f"project {project.name}")
            credential = self._replace_credential(keystone_user.id, project)
            files = credential_files(cloud=str(project.name), auth_url=self.settings.auth_url,
                                     region=self.settings.region, credential_id=credential.id,
                                     secret=credential.secret)
            return Credentials(credential_id=str(credential.id), files=files,
                               hints={"auth_url": self.settings.auth_url,
                                      "region": self.settings.region,
                                      "project_id": external_id})

    def _replace_credential(self, keystone_user_id: str, project: Any) -> Any:
        """The user's one OCX credential on the project, made anew.

        Its name is fixed per user and project, so a retry after a crash between
        Keystone's answer and OCX recording it replaces the credential the crashed attempt
        made (whose secret nobody has) instead of leaving it behind.
        """
        name = credential_name(project.id)
        for existing in self.identity.application_credentials(user=keystone_user_id):
            if existing.name == name:
                self.identity.delete_application_credential(keystone_user_id, existing)
        return self._create_credential(keystone_user_id, project, name)

    def _create_credential(self, keystone_user_id: str, project: Any, name: str) -> Any:
        """Keystone lets only the user create their own: sign in as them once, briefly.

        The password is set to a fresh random value, used for one token and forgotten.
        """
        password = secrets.token_urlsafe(32)
        self.identity.update_user(keystone_user_id, password=password)
        # A password change revokes every token of the user issued up to the end of that
        # second (Keystone's token timestamps have one-second resolution), application
        # credential tokens included: sign in only after it.
        time.sleep(_REVOCATION_RESOLUTION_S)
        for attempt in range(_SIGN_IN_ATTEMPTS):
            as_user = self._connect({"auth_url": self.settings.auth_url,
                                     "user_id": keystone_user_id, "password": password,
                                     "project_id": project.id})
            try:
                return _identity(as_user).create_application_credential(
                    keystone_user_id, name=name,
                    description=f"Issued by OCX for project {project.name}")
            except sdk_exceptions.HttpException as exc:
                # Keystone's clock may run a little behind ours: try again a bit later.
                if exc.status_code != 401 or attempt == _SIGN_IN_ATTEMPTS - 1:
                    raise
                time.sleep(1.0)
            finally:
                as_user.close()
        raise AssertionError("unreachable")

    # -- the reconciler's bulk read (see openstack_bulk) ---------------------------

    def describe_many(self, external_ids: Sequence[str]) -> dict[str, ProjectState]:
        """``describe`` of many projects in a few listings plus per-project Nova/Cinder."""
        from ocx.drivers.project import openstack_bulk  # it builds on this module

        with self._call(f"describe {len(external_ids)} projects"):
            return openstack_bulk.describe_many(self, external_ids)

"""``OcxClient``: one typed method per API call, over httpx."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from ocx import __version__
from ocx.client.baremetal import BaremetalCalls
from ocx.client.billing import BillingCalls
from ocx.client.errors import ApiError, ServerUnreachable, UnexpectedResponse
from ocx.client.images import ImageCalls
from ocx.client.marketplace import MarketplaceCalls
from ocx.client.models import AuditEvent, Health, Page
from ocx.client.onboarding import OnboardingCalls
from ocx.client.transport import clean as _body
from ocx.client.usage import UsageCalls
from ocx.domain.identity.schemas import (
    Me,
    MembershipPublic,
    OrganizationPublic,
    OrgMembershipPublic,
    ProjectPublic,
    TokenCreated,
    TokenPublic,
    UserPublic,
)
from ocx.domain.identity.sso_schemas import DeviceLoginPublic, DeviceLoginResult
from ocx.domain.operations.schemas import OperationPublic

M = TypeVar("M", bound=BaseModel)
USER_AGENT = f"ocx-cli/{__version__}"
API_PREFIX = "/api/v1"


def server_url(url: str) -> str:
    """The server's base URL, normalized (``/api/v1`` and trailing slashes dropped).

    Raises:
        ValueError: ``url`` is not an http:// or https:// URL with a host.
    """
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise ValueError(f"invalid OCX URL {url!r}: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"invalid OCX URL {url!r}: expected http(s)://host[:port]")
    return str(parsed).rstrip("/").removesuffix(API_PREFIX)


def error_from(response: httpx.Response) -> ApiError:
    """The ``ApiError`` an error response stands for, whatever its body."""
    try:
        error = response.json().get("error")
        return ApiError(response.status_code, str(error.get("type") or "error"),
                        str(error["message"]))
    except (ValueError, AttributeError, KeyError, TypeError):
        request = response.request
        return ApiError(response.status_code, "http_error",
                        f"{request.method} {request.url} answered HTTP {response.status_code} "
                        f"{response.reason_phrase} without an OCX error body "
                        "(a proxy in the way, or not an OCX server?)")


def _segment(ref: object) -> str:
    return quote(str(ref), safe="")




def all_items(fetch: Callable[..., Page[M]], /, *, page_size: int = 100,
              **filters: Any) -> Iterator[M]:
    """Every item of a list, fetching page after page by following ``next_cursor``."""
    cursor: str | None = None
    while True:
        page = fetch(cursor=cursor, limit=page_size, **filters)
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


class OcxClient(MarketplaceCalls, BaremetalCalls, UsageCalls, BillingCalls, OnboardingCalls,
                ImageCalls):
    """A typed client of the OCX API; use as a context manager or call ``close()``.

    Every method raises ``ApiError`` when the API answers with an error,
    ``ServerUnreachable`` when it does not answer, and ``UnexpectedResponse`` when a
    success body is not the documented shape.
    """

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = server_url(url)
        self.timeout = timeout
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=f"{self.url}{API_PREFIX}/", headers=headers,
                                  timeout=timeout, transport=transport)

    def __enter__(self) -> OcxClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # --- plumbing ---------------------------------------------------------------------

    def _send(self, method: str, path: str, body: Mapping[str, Any] | None = None,
              params: Mapping[str, Any] | None = None) -> httpx.Response:
        query = {key: str(value) for key, value in (params or {}).items() if value is not None}
        try:
            response = self._http.request(method, path, json=body, params=query)
        except httpx.TimeoutException as exc:
            raise ServerUnreachable(self.url, f"no answer within {self.timeout:g}s") from exc
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.url, str(exc) or type(exc).__name__) from exc
        if response.is_error:
            raise error_from(response)
        return response

    def _read(self, model: type[M], method: str, path: str,
              body: Mapping[str, Any] | None = None,
              params: Mapping[str, Any] | None = None) -> M:
        response = self._send(method, path, body, params)
        try:
            return model.model_validate(response.json())
        except ValueError as exc:
            raise UnexpectedResponse(
                f"{method} {response.url} answered with a body this client does not "
                f"understand; is {self.url} an OCX server compatible with {USER_AGENT}?"
            ) from exc

    def _page(self, model: type[Page[M]], path: str, cursor: str | None, limit: int | None,
              **filters: Any) -> Page[M]:
        return self._read(model, "GET", path, params={"cursor": cursor, "limit": limit,
                                                      **filters})

    # --- server and session -----------------------------------------------------------

    def health(self) -> Health:
        """Whether the server is up and reaches its database (needs no token)."""
        return self._read(Health, "GET", "health")

    def login(self, email: str, password: str, token_name: str | None = None) -> TokenCreated:
        """Exchange a local account's email and password for a new API token."""
        body = _body(email=email, password=password, token_name=token_name)
        return self._read(TokenCreated, "POST", "auth/login", body)

    def me(self) -> Me:
        """The caller, with their organizations and projects and the role in each."""
        return self._read(Me, "GET", "me")

    # --- organizations ----------------------------------------------------------------

    def create_org(self, name: str, *, display_name: str | None = None,
                   description: str | None = None) -> OrganizationPublic:
        """Create an organization (operators)."""
        body = _body(name=name, display_name=display_name, description=description)
        return self._read(OrganizationPublic, "POST", "organizations", body)

    def list_orgs(self, *, name: str | None = None, cursor: str | None = None,
                  limit: int | None = None) -> Page[OrganizationPublic]:
        """One page of the organizations the caller may see (``name``: a prefix)."""
        return self._page(Page[OrganizationPublic], "organizations", cursor, limit, name=name)

    def get_org(self, org: str) -> OrganizationPublic:
        """One organization, by id or name."""
        return self._read(OrganizationPublic, "GET", f"organizations/{_segment(org)}")

    def update_org(self, org: str, *, display_name: str | None = None,
                   description: str | None = None) -> OrganizationPublic:
        """Change an organization's display name or description."""
        body = _body(display_name=display_name, description=description)
        return self._read(OrganizationPublic, "PATCH", f"organizations/{_segment(org)}", body)

    def delete_org(self, org: str) -> None:
        """Delete an organization that sponsors no project (operators)."""
        self._send("DELETE", f"organizations/{_segment(org)}")

    def list_org_members(self, org: str, *, cursor: str | None = None,
                         limit: int | None = None) -> Page[OrgMembershipPublic]:
        """One page of an organization's affiliated users and admins."""
        return self._page(Page[OrgMembershipPublic], f"organizations/{_segment(org)}/members",
                          cursor, limit)

    def add_org_member(self, org: str, email: str, *, role: str = "member",
                       expires_at: datetime | None = None) -> OrgMembershipPublic:
        """Affiliate a user with an organization, or change their role in it."""
        body = _body(email=email, role=role, expires_at=expires_at)
        return self._read(OrgMembershipPublic, "POST",
                          f"organizations/{_segment(org)}/members", body)

    def remove_org_member(self, org: str, user: str) -> None:
        """End a user's affiliation with an organization."""
        self._send("DELETE", f"organizations/{_segment(org)}/members/{_segment(user)}")

    # --- users ------------------------------------------------------------------------

    def create_user(self, email: str, *, name: str | None = None, password: str | None = None,
                    organization: str | None = None) -> UserPublic:
        """Create a user, optionally with a password and an organization."""
        body = _body(email=email, name=name, password=password, organization=organization)
        return self._read(UserPublic, "POST", "users", body)

    def list_users(self, *, email: str | None = None, cursor: str | None = None,
                   limit: int | None = None) -> Page[UserPublic]:
        """One page of the users the caller may see (``email``: a prefix)."""
        return self._page(Page[UserPublic], "users", cursor, limit, email=email)

    def get_user(self, user: str) -> UserPublic:
        """One user, by id, email, or ``me``."""
        return self._read(UserPublic, "GET", f"users/{_segment(user)}")

    def update_user(self, user: str, *, name: str | None = None, password: str | None = None,
                    is_active: bool | None = None) -> UserPublic:
        """Change a user's name or password; operators also (de)activate accounts."""
        body = _body(name=name, password=password, is_active=is_active)
        return self._read(UserPublic, "PATCH", f"users/{_segment(user)}", body)

    # --- projects and their members ---------------------------------------------------

    def create_project(self, name: str, *, organization: str,
                       description: str | None = None) -> ProjectPublic:
        """Create a project sponsored by an organization."""
        body = _body(name=name, organization=organization, description=description)
        return self._read(ProjectPublic, "POST", "projects", body)

    def list_projects(self, *, organization: str | None = None, name: str | None = None,
                      cursor: str | None = None, limit: int | None = None
                      ) -> Page[ProjectPublic]:
        """One page of the projects the caller is in or administers."""
        return self._page(Page[ProjectPublic], "projects", cursor, limit,
                          organization=organization, name=name)

    def get_project(self, project: str) -> ProjectPublic:
        """One project, by id or name."""
        return self._read(ProjectPublic, "GET", f"projects/{_segment(project)}")

    def update_project(self, project: str, *, description: str | None = None
                       ) -> ProjectPublic:
        """Change a project's description."""
        body = _body(description=description)
        return self._read(ProjectPublic, "PATCH", f"projects/{_segment(project)}", body)

    def delete_project(self, project: str) -> None:
        """Delete a project."""
        self._send("DELETE", f"projects/{_segment(project)}")

    def list_members(self, project: str, *, cursor: str | None = None,
                     limit: int | None = None) -> Page[MembershipPublic]:
        """One page of a project's members and their roles."""
        return self._page(Page[MembershipPublic], f"projects/{_segment(project)}/members",
                          cursor, limit)

    def add_member(self, project: str, email: str, *, role: str = "member",
                   expires_at: datetime | None = None) -> MembershipPublic:
        """Add a user to a project with a role (pi, manager or member)."""
        body = _body(email=email, role=role, expires_at=expires_at)
        return self._read(MembershipPublic, "POST", f"projects/{_segment(project)}/members",
                          body)

    def update_member(self, project: str, user: str, *, role: str | None = None,
                      expires_at: datetime | None = None,
                      clear_expiry: bool = False) -> MembershipPublic:
        """Change a member's role or expiry (``clear_expiry``: make it open-ended)."""
        body = _body(role=role, expires_at=expires_at)
        if clear_expiry:
            body["expires_at"] = None
        return self._read(MembershipPublic, "PATCH",
                          f"projects/{_segment(project)}/members/{_segment(user)}", body)

    def remove_member(self, project: str, user: str) -> None:
        """Remove a user from a project."""
        self._send("DELETE", f"projects/{_segment(project)}/members/{_segment(user)}")

    # --- tokens -----------------------------------------------------------------------

    def create_token(self, name: str, *, expires_in_days: int | None = None) -> TokenCreated:
        """Create an API token for the caller; the secret is in this answer only."""
        body = _body(name=name, expires_in_days=expires_in_days)
        return self._read(TokenCreated, "POST", "tokens", body)

    def list_tokens(self, *, cursor: str | None = None,
                    limit: int | None = None) -> Page[TokenPublic]:
        """One page of the caller's tokens (never their secrets)."""
        return self._page(Page[TokenPublic], "tokens", cursor, limit)

    def revoke_token(self, token_id: uuid.UUID | str) -> TokenPublic:
        """Revoke a token (the caller's own; operators: anyone's)."""
        return self._read(TokenPublic, "DELETE", f"tokens/{_segment(token_id)}")

    # --- operations -------------------------------------------------------------------

    def list_operations(self, *, state: str | None = None, kind: str | None = None,
                        cursor: str | None = None, limit: int | None = None
                        ) -> Page[OperationPublic]:
        """One page of the operations journal (``state``: pending, running, done, failed)."""
        return self._page(Page[OperationPublic], "operations", cursor, limit, state=state,
                          kind=kind)

    def get_operation(self, operation_id: uuid.UUID | str) -> OperationPublic:
        """One operation, with its state, attempts and last error."""
        return self._read(OperationPublic, "GET", f"operations/{_segment(operation_id)}")

    def retry_operation(self, operation_id: uuid.UUID | str) -> OperationPublic:
        """Run a failed operation again, with a fresh set of attempts (operators)."""
        return self._read(OperationPublic, "POST", f"operations/{_segment(operation_id)}/retry")

    # --- audit ------------------------------------------------------------------------

    def list_audit_events(self, *, action: str | None = None, target_id: str | None = None,
                          organization_id: uuid.UUID | str | None = None,
                          order: str = "oldest", actor: str | None = None,
                          target_type: str | None = None, since: str | None = None,
                          until: str | None = None,
                          cursor: str | None = None, limit: int | None = None
                          ) -> Page[AuditEvent]:
        """One page of the audit trail, ``oldest`` or ``newest`` first, narrowed by
        action, target, actor (part of its label) and time range [since, until)."""
        return self._page(Page[AuditEvent], "audit", cursor, limit, action=action,
                          target_id=target_id, organization_id=organization_id, order=order,
                          actor=actor, target_type=target_type, since=since, until=until)

    # --- single sign-on (device login for `ocx login --sso`) -----------------------------

    def start_device_login(self, provider: str) -> DeviceLoginPublic:
        """Start a device login at identity provider ``provider`` (needs no token)."""
        return self._read(DeviceLoginPublic, "POST", "sso/device", _body(provider=provider))

    def poll_device_login(self, provider: str, device_code: str,
                          token_name: str | None = None) -> DeviceLoginResult:
        """Whether the person approved the device login; once they have, a new token."""
        body = _body(provider=provider, device_code=device_code, token_name=token_name)
        return self._read(DeviceLoginResult, "POST", "sso/device/token", body)

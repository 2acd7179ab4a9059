"""RBAC expectations for onboarding: invitations, join requests, PI eligibility, project
requests, terms of use and organizations' onboarding policies."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.identity import tokens
from ocx.domain.identity.models import Organization, Project, ProjectRole, User
from ocx.domain.identity.onboarding_models import (
    Invitation,
    JoinRequest,
    PiEligibility,
    ProjectRequest,
)
from ocx.domain.identity.onboarding_states import RequestState
from ocx.persistence.base import utcnow
from ocx.runtime import Runtime
from tests.support.rbac import LEADS, PROJECT_PEOPLE, Case, everyone, only
from tests.support.world import World


def _user(session: Session, world: World, key: str) -> User:
    user = session.scalar(select(User).where(User.email == world[key].email))
    assert user is not None
    return user


def _org(session: Session, s: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.name == f"org-{s}"))
    assert org is not None
    return org


def _invitation(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        row = Invitation(project_id=uuid.UUID(world.project_ids[s]), email="invited@x.example.org",
                         role=ProjectRole.MEMBER, digest=tokens.digest(f"rbac-{s}"),
                         expires_at=utcnow() + timedelta(days=1))
        session.add(row)
    return {"invitation": str(row.id)}


def _invite_everyone(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    """A fresh project on side ``s`` with an invitation for every person of the world."""
    with runtime.sessions.begin() as session:
        project = Project(organization_id=_org(session, s).id, name="rbac-invite")
        session.add(project)
        session.flush()
        for key, person in world.people.items():
            session.add(Invitation(project_id=project.id, email=person.email,
                                   role=ProjectRole.MEMBER, digest=tokens.digest(_token(key)),
                                   expires_at=utcnow() + timedelta(days=1)))
    return {}


def _token(key: str) -> str:
    return f"ocxinv_rbac_{key}"


def _second_project(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        project = Project(organization_id=_org(session, s).id, name="rbac-join")
        session.add(project)
    return {"project": str(project.id)}  # not one the world is already in


def _join_request(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        row = JoinRequest(project_id=uuid.UUID(world.project_ids[s]),
                          user_id=_user(session, world, "outsider").id, message="rbac")
        session.add(row)
    return {"join_request": str(row.id)}


def _eligibility_request(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        row = PiEligibility(user_id=_user(session, world, f"member_{s}").id,
                            organization_id=_org(session, s).id, reason="rbac")
        session.add(row)
    return {"eligibility": str(row.id)}


def _everyone_eligible(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        org = _org(session, s)
        for key in world.people:
            session.add(PiEligibility(user_id=_user(session, world, key).id,
                                      organization_id=org.id, state=RequestState.APPROVED))
    return {}


def _project_request(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    _everyone_eligible(runtime, world, s)
    with runtime.sessions.begin() as session:
        row = ProjectRequest(organization_id=_org(session, s).id, name="rbac-proj",
                             requested_by_id=_user(session, world, f"member_{s}").id)
        session.add(row)
    return {"project_request": str(row.id)}


def _owner_or(*roles: str, owner: str) -> Any:
    """Operators, ``roles`` on their own side, and the requester (``owner``)."""
    def rule(role: str, own: bool) -> bool:
        return role == "operator" or (own and role in (*roles, owner)) or (
            role == owner == "outsider")
    return rule


ONBOARDING_CASES: dict[str, Case] = {
    "terms.read": Case("GET", "/terms", everyone, sided=False),
    "terms.accept": Case("POST", "/terms/accept", everyone, sided=False,
                         body=lambda w, s: {"version": "none"}),
    "invitation.create": Case("POST", "/projects/{project}/invitations", only(*LEADS),
                              body=lambda w, s: {"email": "new@x.example.org"}),
    "invitation.list": Case("GET", "/projects/{project}/invitations", only(*LEADS)),
    "invitation.revoke": Case("DELETE", "/projects/{project}/invitations/{invitation}",
                              only(*LEADS), setup=_invitation),
    "invitation.accept": Case("POST", "/invitations/accept", everyone, sided=False,
                              setup=_invite_everyone,
                              actor_body=lambda w, s, key: {"token": _token(key)}),
    "join_request.create": Case("POST", "/projects/{project}/join-requests",
                                only(*PROJECT_PEOPLE), setup=_second_project,
                                body=lambda w, s: {"message": "please"}),
    "join_request.list": Case("GET", "/join-requests", everyone, sided=False),
    "join_request.read": Case("GET", "/join-requests/{join_request}",
                              _owner_or(*LEADS, owner="outsider"), setup=_join_request),
    "join_request.decide": Case("POST", "/join-requests/{join_request}/decision",
                                only(*LEADS), setup=_join_request,
                                body=lambda w, s: {"approve": True}),
    "pi_eligibility.request": Case("POST", "/pi-eligibility", only(*PROJECT_PEOPLE),
                                   body=lambda w, s: {"organization": f"org-{s}"}),
    "pi_eligibility.list": Case("GET", "/pi-eligibility", everyone, sided=False),
    "pi_eligibility.read": Case("GET", "/pi-eligibility/{eligibility}",
                                _owner_or("admin", owner="member"),
                                setup=_eligibility_request),
    "pi_eligibility.decide": Case("POST", "/pi-eligibility/{eligibility}/decision",
                                  only("admin"), setup=_eligibility_request,
                                  body=lambda w, s: {"approve": True}),
    "pi_eligibility.revoke": Case("DELETE", "/pi-eligibility/{eligibility}", only("admin"),
                                  setup=_eligibility_request),
    "project_request.create": Case("POST", "/project-requests", only(*PROJECT_PEOPLE),
                                   setup=_everyone_eligible,
                                   body=lambda w, s: {"organization": f"org-{s}",
                                                      "name": "wanted"}),
    "project_request.list": Case("GET", "/project-requests", everyone, sided=False),
    "project_request.read": Case("GET", "/project-requests/{project_request}",
                                 _owner_or("admin", owner="member"), setup=_project_request),
    "project_request.decide": Case("POST", "/project-requests/{project_request}/decision",
                                   only("admin"), setup=_project_request,
                                   body=lambda w, s: {"approve": True}),
    "onboarding_policy.read": Case("GET", "/organizations/{org}/onboarding-policy",
                                   only(*PROJECT_PEOPLE)),
    "onboarding_policy.update": Case("PUT", "/organizations/{org}/onboarding-policy",
                                     only("admin"),
                                     body=lambda w, s: {"pi_affiliations": ["faculty@x.org"],
                                                        "self_service_projects": True}),
}

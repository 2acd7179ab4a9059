"""The demo's organizations, accounts, projects, memberships and the pending join request,
made through the identity services as an operator and the people themselves would."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.demo.cast import (
    DEMO_PASSWORD,
    JOIN_REQUEST,
    OPERATOR,
    ORGANIZATIONS,
    PEOPLE,
    PROJECTS,
    Person,
)
from ocx.domain.actor import Actor
from ocx.domain.identity import eligibility, join_requests, service, tokens
from ocx.domain.identity.models import User
from ocx.domain.identity.onboarding_schemas import (
    Decision,
    JoinRequestCreate,
    PiEligibilityCreate,
)
from ocx.domain.identity.roles import OrgRole, ProjectRole
from ocx.domain.identity.schemas import (
    MembershipCreate,
    OrganizationCreate,
    OrgMembershipCreate,
    ProjectCreate,
    UserCreate,
    UserUpdate,
)


def act_as(session: Session, email: str) -> Actor:
    """The actor of the user with ``email``, with their roles as they are now."""
    return tokens.actor_for(session, service.find_user(session, email))


def first_operator(session: Session) -> User | None:
    """The oldest active operator (the one ``ocx admin bootstrap`` made), if any."""
    return session.scalar(select(User).where(User.is_operator.is_(True),
                                             User.is_active.is_(True))
                          .order_by(User.created_at).limit(1))


def ensure_operators(session: Session, token_ttl_days: int) -> Actor:
    """The demo operator account (with the demo password), and the actor the demo uses
    for operators' work: the bootstrap operator if there is one, else the demo's."""
    existing = first_operator(session)
    demo, _ = service.bootstrap_operator(session, OPERATOR.email, token_ttl_days)
    acting = act_as(session, (existing or demo).email)
    # A new password ends the account's tokens: the one bootstrap just issued goes too.
    service.update_user(session, acting, OPERATOR.email,
                        UserUpdate(name=OPERATOR.name, password=DEMO_PASSWORD))
    return acting


def create_people(session: Session, operator: Actor) -> None:
    """Organizations, every demo account with its affiliation and org role."""
    for name, (display_name, description) in ORGANIZATIONS.items():
        service.create_org(session, operator, OrganizationCreate(
            name=name, display_name=display_name, description=description))
    for person in PEOPLE:
        service.create_user(session, operator, UserCreate(
            email=person.email, name=person.name, password=DEMO_PASSWORD,
            organization=person.organization))
        if person.org_role == OrgRole.ADMIN:
            service.add_org_member(session, operator, person.organization,
                                   OrgMembershipCreate(email=person.email, role=OrgRole.ADMIN))
        if person.pi_of:
            _make_pi_eligible(session, operator, person)


def _make_pi_eligible(session: Session, operator: Actor, person: Person) -> None:
    """The person asks to lead projects of their organization; an operator approves."""
    assert person.pi_of is not None
    row = eligibility.request(session, act_as(session, person.email), PiEligibilityCreate(
        organization=person.pi_of, reason="Faculty member; leads a research group."))
    eligibility.decide(session, operator, row.id, Decision(approve=True, note="faculty"))


def create_projects(session: Session, operator: Actor) -> None:
    """Every demo project with its PI (added by an operator), managers and members
    (added by the PI)."""
    for plan in PROJECTS:
        project = service.create_project(session, operator, ProjectCreate(
            name=plan.name, organization=plan.organization, description=plan.description))
        ref = str(project.id)
        service.add_member(session, operator, ref,
                           MembershipCreate(email=plan.pi, role=ProjectRole.PI))
        pi = act_as(session, plan.pi)
        for email in plan.managers:
            service.add_member(session, pi, ref,
                               MembershipCreate(email=email, role=ProjectRole.MANAGER))
        for email in plan.members:
            service.add_member(session, pi, ref, MembershipCreate(email=email))


def ask_to_join(session: Session) -> None:
    """A researcher asks to join a project; its PI has not decided yet."""
    email, project, message = JOIN_REQUEST
    join_requests.create(session, act_as(session, email), project,
                         JoinRequestCreate(message=message))

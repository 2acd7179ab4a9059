"""PI eligibility: who may lead projects (be a PI, ask for a project) in an organization.

Eligibility comes from the institution (a scoped affiliation such as
``faculty@campus.example.org`` that the organization's onboarding policy names, checked
at every federated sign-in) or from a person (a request that an operator or one of the
organization's admins approves).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity import decisions, service
from ocx.domain.identity.models import Organization, OrgMembership, User
from ocx.domain.identity.onboarding_models import OnboardingPolicy, PiEligibility
from ocx.domain.identity.onboarding_schemas import (
    Decision,
    OnboardingPolicyUpdate,
    PiEligibilityCreate,
)
from ocx.domain.identity.onboarding_states import EligibilitySource, RequestState
from ocx.domain.policy import Action, Target
from ocx.errors import Conflict, Forbidden, NotFound
from ocx.persistence.pagination import Page, paginate

HINT = "ask for it with `ocx pi-eligibility request ORGANIZATION`"


def is_pi_eligible(session: Session, user_id: uuid.UUID, org_id: uuid.UUID) -> bool:
    """Whether the user may lead projects of the organization."""
    return session.scalar(select(PiEligibility.id).where(
        PiEligibility.user_id == user_id, PiEligibility.organization_id == org_id,
        PiEligibility.state == RequestState.APPROVED)) is not None


def require_pi_eligible(session: Session, user: User, org: Organization) -> None:
    """Raise unless ``user`` may lead projects of ``org``.

    Raises:
        Forbidden: they are not eligible (yet).
    """
    if not is_pi_eligible(session, user.id, org.id):
        raise Forbidden(f"{user.email} is not eligible to lead projects of {org.name} "
                        f"(to be a PI); {HINT}")


# --- the organization's onboarding policy -----------------------------------------------

def policy_of(session: Session, org_id: uuid.UUID) -> OnboardingPolicy:
    """The organization's onboarding policy (a default, unsaved one if none was set)."""
    found = session.scalar(select(OnboardingPolicy).where(
        OnboardingPolicy.organization_id == org_id))
    return found or OnboardingPolicy(organization_id=org_id, pi_affiliations=[],
                                     self_service_projects=False)


def get_policy(session: Session, actor: Actor, org_ref: str) -> tuple[Organization,
                                                                      OnboardingPolicy]:
    """An organization and its onboarding policy (its members and admins, operators)."""
    org = service.find_org(session, org_ref)
    policy.authorize(actor, Action.ONBOARDING_POLICY_READ, Target(org_id=org.id))
    return org, policy_of(session, org.id)


def set_policy(session: Session, actor: Actor, org_ref: str,
               body: OnboardingPolicyUpdate) -> tuple[Organization, OnboardingPolicy]:
    """Replace the organization's onboarding policy; audited."""
    org = service.find_org(session, org_ref)
    policy.authorize(actor, Action.ONBOARDING_POLICY_UPDATE, Target(org_id=org.id))
    row = policy_of(session, org.id)
    session.add(row)
    row.pi_affiliations = sorted(set(body.pi_affiliations))
    row.self_service_projects = body.self_service_projects
    session.flush()
    audit.record(session, actor, "onboarding_policy.update", "organization", org.id,
                 organization_id=org.id,
                 changes={"pi_affiliations": row.pi_affiliations,
                          "self_service_projects": row.self_service_projects})
    return org, row


# --- eligibility from the institution's affiliation attribute ---------------------------

def sync_affiliations(session: Session, actor: Actor, user: User,
                      affiliations: Iterable[str], via: str) -> None:
    """Grant or withdraw affiliation-based eligibility from what the IdP asserted now."""
    asserted = {value.strip().lower() for value in affiliations}
    org_ids = session.scalars(select(OrgMembership.organization_id).where(
        OrgMembership.user_id == user.id))
    for org_id in org_ids:
        wanted = asserted & set(policy_of(session, org_id).pi_affiliations)
        row = session.scalar(select(PiEligibility).where(
            PiEligibility.user_id == user.id, PiEligibility.organization_id == org_id))
        if wanted and (row is None or row.state is not RequestState.APPROVED):
            _grant_by_affiliation(session, actor, user, org_id, row, sorted(wanted), via)
        elif not wanted and row is not None and row.source is EligibilitySource.AFFILIATION:
            audit.record(session, actor, "pi_eligibility.withdraw", "pi_eligibility", row.id,
                         organization_id=org_id,
                         changes={"email": user.email, "reason": f"{via} no longer asserts "
                                  "an affiliation that makes a PI"})
            session.delete(row)


def _grant_by_affiliation(session: Session, actor: Actor, user: User, org_id: uuid.UUID,
                          row: PiEligibility | None, matched: list[str], via: str) -> None:
    if row is None:
        row = PiEligibility(user_id=user.id, organization_id=org_id)
        session.add(row)
    row.source, row.state = EligibilitySource.AFFILIATION, RequestState.APPROVED
    row.reason = f"{via} asserts {', '.join(matched)}"
    session.flush()
    audit.record(session, actor, "pi_eligibility.grant", "pi_eligibility", row.id,
                 organization_id=org_id,
                 changes={"email": user.email, "source": "affiliation", "reason": row.reason})


# --- eligibility by request and approval ------------------------------------------------

def _target(row: PiEligibility) -> Target:
    return Target(org_id=row.organization_id, owner_id=row.user_id)


def request(session: Session, actor: Actor, body: PiEligibilityCreate) -> PiEligibility:
    """Ask to be made eligible to lead projects of an organization one belongs to.

    Raises:
        Conflict: already eligible, or a request is waiting for a decision.
    """
    org = service.find_org(session, body.organization)
    policy.authorize(actor, Action.PI_ELIGIBILITY_REQUEST, Target(org_id=org.id))
    user = service.find_user(session, actor.user_id) if actor.user_id else None
    if user is None:
        raise Conflict("only users can be PIs")
    row = session.scalar(select(PiEligibility).where(
        PiEligibility.user_id == user.id, PiEligibility.organization_id == org.id))
    if row is not None and row.state is not RequestState.DENIED:
        raise Conflict(f"you are already eligible to lead projects of {org.name}"
                       if row.state is RequestState.APPROVED else
                       f"your request for {org.name} is waiting for a decision")
    if row is None:
        row = PiEligibility(user_id=user.id, organization_id=org.id)
        session.add(row)
    decisions.reopen(row)
    row.source, row.reason = EligibilitySource.REQUEST, body.reason
    session.flush()
    audit.record(session, actor, "pi_eligibility.request", "pi_eligibility", row.id,
                 organization_id=org.id, changes={"organization": org.name,
                                                  "reason": body.reason})
    return row


def list_eligibility(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                     state: RequestState | None = None) -> Page[PiEligibility]:
    """One's own eligibility and requests; admins also their organizations'; operators all."""
    policy.authorize(actor, Action.PI_ELIGIBILITY_LIST)
    stmt = select(PiEligibility).options(joinedload(PiEligibility.user),
                                         joinedload(PiEligibility.organization))
    if (org_ids := policy.visible_user_scope(actor)) is not None:
        stmt = stmt.where(or_(PiEligibility.user_id == actor.user_id,
                              PiEligibility.organization_id.in_(org_ids)))
    if state is not None:
        stmt = stmt.where(PiEligibility.state == state)
    return paginate(session, stmt, PiEligibility, cursor=cursor, limit=limit)


def get_eligibility(session: Session, actor: Actor, row_id: uuid.UUID,
                    action: Action = Action.PI_ELIGIBILITY_READ) -> PiEligibility:
    """One eligibility record the actor may see (and take ``action`` on)."""
    row = session.get(PiEligibility, row_id)
    if row is None:
        raise NotFound("pi_eligibility not found")
    policy.authorize(actor, action, _target(row))
    return row


def decide(session: Session, actor: Actor, row_id: uuid.UUID, body: Decision) -> PiEligibility:
    """Approve or deny a pending request (operators, the organization's admins)."""
    row = get_eligibility(session, actor, row_id, Action.PI_ELIGIBILITY_DECIDE)
    decisions.decide(session, actor, row, approve=body.approve, note=body.note,
                     audit_action="pi_eligibility", org_id=row.organization_id,
                     changes={"email": row.user.email, "organization": row.organization.name})
    return row


def revoke(session: Session, actor: Actor, row_id: uuid.UUID) -> None:
    """Withdraw someone's eligibility; the projects they lead already stay theirs."""
    row = get_eligibility(session, actor, row_id, Action.PI_ELIGIBILITY_REVOKE)
    audit.record(session, actor, "pi_eligibility.revoke", "pi_eligibility", row.id,
                 organization_id=row.organization_id,
                 changes={"email": row.user.email, "organization": row.organization.name})
    session.delete(row)


def forget_user(session: Session, actor: Actor, user: User) -> None:
    """A deactivated user leads nothing any more: their eligibility ends (audited each), so
    that a reactivation restores none of it, and their pending requests are denied."""
    from ocx.domain.identity.onboarding_models import JoinRequest, ProjectRequest

    for row in session.scalars(select(PiEligibility).where(PiEligibility.user_id == user.id)):
        audit.record(session, actor, "pi_eligibility.revoke", "pi_eligibility", row.id,
                     organization_id=row.organization_id,
                     changes={"email": user.email, "reason": "deactivated"})
        session.delete(row)
    asked: list[JoinRequest | ProjectRequest] = [
        *session.scalars(select(JoinRequest).where(JoinRequest.user_id == user.id,
                                                   JoinRequest.state == RequestState.PENDING)),
        *session.scalars(select(ProjectRequest).where(
            ProjectRequest.requested_by_id == user.id,
            ProjectRequest.state == RequestState.PENDING))]
    for pending in asked:
        pending.state, pending.note = RequestState.DENIED, "the requester was deactivated"

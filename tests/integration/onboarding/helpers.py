"""Helpers for the onboarding tests: new people, eligibility, the mailed invitation link."""

from __future__ import annotations

import re

from sqlalchemy import select

from ocx.domain.identity import tokens
from ocx.domain.identity.models import Organization, OrgMembership, User
from ocx.domain.identity.onboarding_models import PiEligibility
from ocx.domain.identity.onboarding_states import EligibilitySource, RequestState
from ocx.drivers.notifier.fake import FakeNotifier
from ocx.runtime import Runtime
from tests.support.operations import run_due_operations

API = "/api/v1"
LINK = re.compile(r"ocxinv_[A-Za-z0-9_-]+")


def person(runtime: Runtime, email: str, org: str | None = None) -> dict[str, str]:
    """A new user (in organization ``org``), and the headers of an API token of theirs."""
    with runtime.sessions.begin() as session:
        user = User(email=email, name=email.partition("@")[0].title())
        session.add(user)
        session.flush()
        if org is not None:
            org_id = session.scalar(select(Organization.id).where(Organization.name == org))
            session.add(OrgMembership(organization_id=org_id, user_id=user.id))
        _, secret = tokens.issue(session, user, "test", 1)
    return {"Authorization": f"Bearer {secret}"}


def make_eligible(runtime: Runtime, email: str, org: str) -> None:
    """Make ``email`` eligible to lead projects of ``org`` (as an approved request would)."""
    with runtime.sessions.begin() as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
        org_id = session.scalar(select(Organization.id).where(Organization.name == org))
        session.add(PiEligibility(user_id=user_id, organization_id=org_id,
                                  source=EligibilitySource.REQUEST,
                                  state=RequestState.APPROVED))


def mailed_link(runtime: Runtime, recipient: str) -> str:
    """Run the queued notifications and return the invitation secret mailed to ``recipient``."""
    run_due_operations(runtime)
    notifier = runtime.notifier
    assert isinstance(notifier, FakeNotifier)
    bodies = [n.body for n in notifier.delivered.values() if n.recipient == recipient
              and n.subject.startswith("You are invited")]
    assert len(bodies) == 1, bodies
    found = LINK.search(bodies[-1])
    assert found, bodies[-1]
    return found.group(0)

"""The policy module on its own: rules, 404-versus-403, and role granting."""

from __future__ import annotations

import uuid

import pytest

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.identity.models import OrgRole, ProjectRole
from ocx.domain.policy import Action, Target
from ocx.errors import Forbidden, NotFound

ORG, OTHER_ORG, PROJECT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def person(**kw: object) -> Actor:
    return Actor(user_id=uuid.uuid4(), email="p@example.org", **kw)  # type: ignore[arg-type]


def test_every_action_has_a_rule() -> None:
    assert set(policy.RULES) == set(Action)


def test_hidden_target_is_not_found_visible_one_is_forbidden() -> None:
    member = person(project_roles={PROJECT: ProjectRole.MEMBER}, project_orgs={PROJECT: ORG})
    target = Target(org_id=ORG, project_id=PROJECT)
    policy.authorize(member, Action.PROJECT_READ, target)
    with pytest.raises(Forbidden):
        policy.authorize(member, Action.PROJECT_DELETE, target)
    stranger = person()
    with pytest.raises(NotFound):
        policy.authorize(stranger, Action.PROJECT_DELETE, target)
    with pytest.raises(NotFound, match="organization"):
        policy.authorize(stranger, Action.PROJECT_CREATE, Target(org_id=ORG))


def test_org_admin_rules_stop_at_their_organization() -> None:
    admin = person(org_roles={ORG: OrgRole.ADMIN})
    assert policy.can(admin, Action.PROJECT_CREATE, Target(org_id=ORG))
    assert not policy.can(admin, Action.PROJECT_CREATE, Target(org_id=OTHER_ORG))
    assert policy.can(admin, Action.AUDIT_LIST)
    assert not policy.can(person(org_roles={ORG: OrgRole.MEMBER}), Action.AUDIT_LIST)


def test_operator_may_do_everything_but_take_tenant_credentials() -> None:
    operator = person(is_operator=True)
    target = Target(org_id=ORG, project_id=PROJECT, user_id=uuid.uuid4(), owner_id=uuid.uuid4())
    denied = {action for action in Action if not policy.can(operator, action, target)}
    # Credentials to a project's tenant are for its members only: not even operators.
    assert denied == {Action.ALLOCATION_CREDENTIALS}


@pytest.mark.parametrize(("own", "grant", "allowed"), [
    (ProjectRole.PI, ProjectRole.PI, True),
    (ProjectRole.MANAGER, ProjectRole.MEMBER, True),
    (ProjectRole.MANAGER, ProjectRole.MANAGER, True),
    (ProjectRole.MANAGER, ProjectRole.PI, False),
    (ProjectRole.MEMBER, ProjectRole.MEMBER, True),
])
def test_grant_ranks(own: ProjectRole, grant: ProjectRole, allowed: bool) -> None:
    actor = person(project_roles={PROJECT: own}, project_orgs={PROJECT: ORG})
    target = Target(org_id=ORG, project_id=PROJECT)
    if allowed:
        policy.authorize_grant(actor, target, grant)
    else:
        with pytest.raises(Forbidden):
            policy.authorize_grant(actor, target, grant)


def test_expired_or_other_users_tokens_are_not_theirs() -> None:
    actor = person()
    assert policy.can(actor, Action.TOKEN_REVOKE, Target(owner_id=actor.user_id))
    with pytest.raises(NotFound):
        policy.authorize(actor, Action.TOKEN_REVOKE, Target(owner_id=uuid.uuid4()))

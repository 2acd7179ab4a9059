"""Authorization, in one place: every action an endpoint can take and who may take it.

Services call :func:`authorize` before they act; handlers never check roles themselves.
A rule is a predicate over (actor, target). Reading a target you may not see answers
404 (its existence is not revealed); seeing it but lacking the right answers 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ocx.domain.actor import Actor
from ocx.domain.identity.roles import OrgRole, ProjectRole
from ocx.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Target:
    """What an action is aimed at; unset fields do not apply."""

    org_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    user_org_ids: frozenset[uuid.UUID] = frozenset()
    owner_id: uuid.UUID | None = None  # who created it (operations, tokens)


NO_TARGET = Target()
Rule = Callable[[Actor, Target], bool]


def anyone(actor: Actor, target: Target) -> bool:
    """any signed-in user"""
    return actor.user_id is not None or actor.is_operator


def operator(actor: Actor, target: Target) -> bool:
    """operator"""
    return actor.is_operator


def org_admin(actor: Actor, target: Target) -> bool:
    """org admin"""
    return target.org_id is not None and actor.org_roles.get(target.org_id) is OrgRole.ADMIN


def org_member(actor: Actor, target: Target) -> bool:
    """org member (directly or through a project)"""
    return target.org_id is not None and target.org_id in actor.related_org_ids()


def project_role(*roles: ProjectRole) -> Rule:
    """Holders of one of ``roles`` in the target project (documented as below)."""

    def rule(actor: Actor, target: Target) -> bool:
        return target.project_id is not None and actor.project_roles.get(target.project_id) in roles

    rule.__doc__ = f"project {'/'.join(r.value for r in roles)}"
    return rule


def itself(actor: Actor, target: Target) -> bool:
    """the user themself"""
    return target.user_id is not None and target.user_id == actor.user_id


def admin_of_user(actor: Actor, target: Target) -> bool:
    """admin of an organization the user belongs to"""
    return bool(actor.admin_org_ids() & target.user_org_ids)


def any_org_admin(actor: Actor, target: Target) -> bool:
    """admin of any organization (sees only theirs)"""
    return bool(actor.admin_org_ids())


def owner(actor: Actor, target: Target) -> bool:
    """its owner"""
    return target.owner_id is not None and target.owner_id == actor.user_id


def any_of(*rules: Rule) -> Rule:
    """Allowed when one of ``rules`` allows."""

    def rule(actor: Actor, target: Target) -> bool:
        return any(r(actor, target) for r in rules)

    rule.__doc__ = " or ".join((r.__doc__ or r.__name__).strip() for r in rules)
    return rule


PROJECT_ANY = project_role(ProjectRole.PI, ProjectRole.MANAGER, ProjectRole.MEMBER)
PROJECT_LEADS = project_role(ProjectRole.PI, ProjectRole.MANAGER)


class Action(StrEnum):
    """Everything an API caller can do. Each endpoint declares exactly one."""

    ORG_CREATE = "organization.create"
    ORG_LIST = "organization.list"
    ORG_READ = "organization.read"
    ORG_UPDATE = "organization.update"
    ORG_DELETE = "organization.delete"
    ORG_MEMBER_LIST = "organization.member.list"
    ORG_MEMBER_ADD = "organization.member.add"
    ORG_MEMBER_REMOVE = "organization.member.remove"
    USER_CREATE = "user.create"
    USER_LIST = "user.list"
    USER_READ = "user.read"
    USER_UPDATE = "user.update"
    PROJECT_CREATE = "project.create"
    PROJECT_LIST = "project.list"
    PROJECT_READ = "project.read"
    PROJECT_UPDATE = "project.update"
    PROJECT_DELETE = "project.delete"
    MEMBER_LIST = "member.list"
    MEMBER_ADD = "member.add"
    MEMBER_UPDATE = "member.update"
    MEMBER_REMOVE = "member.remove"
    TOKEN_CREATE = "token.create"
    TOKEN_LIST = "token.list"
    TOKEN_REVOKE = "token.revoke"
    OPERATION_LIST = "operation.list"
    OPERATION_READ = "operation.read"
    OPERATION_RETRY = "operation.retry"
    AUDIT_LIST = "audit.list"


RULES: dict[Action, Rule] = {
    Action.ORG_CREATE: operator,
    Action.ORG_LIST: anyone,  # filtered to visible organizations
    Action.ORG_READ: any_of(operator, org_member),
    Action.ORG_UPDATE: any_of(operator, org_admin),
    Action.ORG_DELETE: operator,
    Action.ORG_MEMBER_LIST: any_of(operator, org_admin),
    Action.ORG_MEMBER_ADD: any_of(operator, org_admin),
    Action.ORG_MEMBER_REMOVE: any_of(operator, org_admin),
    Action.USER_CREATE: any_of(operator, org_admin),
    Action.USER_LIST: anyone,  # filtered to visible users
    Action.USER_READ: any_of(operator, itself, admin_of_user),
    Action.USER_UPDATE: any_of(operator, itself),
    Action.PROJECT_CREATE: any_of(operator, org_admin),
    Action.PROJECT_LIST: anyone,  # filtered to visible projects
    Action.PROJECT_READ: any_of(operator, org_admin, PROJECT_ANY),
    Action.PROJECT_UPDATE: any_of(operator, org_admin, PROJECT_LEADS),
    Action.PROJECT_DELETE: any_of(operator, org_admin),
    Action.MEMBER_LIST: any_of(operator, org_admin, PROJECT_ANY),
    Action.MEMBER_ADD: any_of(operator, org_admin, PROJECT_LEADS),
    Action.MEMBER_UPDATE: any_of(operator, org_admin, PROJECT_LEADS),
    Action.MEMBER_REMOVE: any_of(operator, org_admin, PROJECT_LEADS),
    Action.TOKEN_CREATE: anyone,  # always for oneself
    Action.TOKEN_LIST: anyone,  # one's own tokens
    Action.TOKEN_REVOKE: any_of(operator, owner),
    Action.OPERATION_LIST: anyone,  # filtered to one's own operations
    Action.OPERATION_READ: any_of(operator, owner),
    Action.OPERATION_RETRY: operator,
    Action.AUDIT_LIST: any_of(operator, any_org_admin),  # filtered to administered orgs
}

# Which action decides whether a target is visible at all (else 404, not 403).
READ_ACTION: dict[str, Action] = {
    "organization": Action.ORG_READ,
    "user": Action.USER_READ,
    "project": Action.PROJECT_READ,
    "member": Action.PROJECT_READ,
    "token": Action.TOKEN_REVOKE,
    "operation": Action.OPERATION_READ,
}
# Creating something inside a parent is seen through the parent.
PARENT_READ: dict[Action, Action] = {
    Action.PROJECT_CREATE: Action.ORG_READ,
    Action.USER_CREATE: Action.ORG_READ,
    Action.ORG_MEMBER_LIST: Action.ORG_READ,
    Action.ORG_MEMBER_ADD: Action.ORG_READ,
    Action.ORG_MEMBER_REMOVE: Action.ORG_READ,
}


def can(actor: Actor, action: Action, target: Target = NO_TARGET) -> bool:
    """Whether ``actor`` may take ``action`` on ``target``."""
    return RULES[action](actor, target)


def authorize(actor: Actor, action: Action, target: Target = NO_TARGET) -> None:
    """Raise unless ``actor`` may take ``action`` on ``target``.

    Raises:
        NotFound: the actor may not even see the target.
        Forbidden: the actor sees the target but may not do this.
    """
    if can(actor, action, target):
        return
    noun = action.value.split(".")[0]
    read = PARENT_READ.get(action) or READ_ACTION.get(noun)
    hidden_target = read is not None and (read is action or not can(actor, read, target))
    if target is not NO_TARGET and hidden_target:
        hidden = "organization" if read is Action.ORG_READ else noun
        raise NotFound(f"{hidden} not found")
    raise Forbidden(f"{actor.label} may not {action.value.replace('.', ' ')}")


RANK = {ProjectRole.MEMBER: 0, ProjectRole.MANAGER: 1, ProjectRole.PI: 2}


def authorize_grant(actor: Actor, target: Target, role: ProjectRole) -> None:
    """Project leads may grant or revoke only roles below or equal to their own, PIs any.

    Raises:
        Forbidden: a manager tries to grant, change or remove the PI role.
    """
    if actor.is_operator or org_admin(actor, target):
        return
    own = actor.project_roles.get(target.project_id) if target.project_id else None
    if own is None or RANK[role] > RANK[own]:
        raise Forbidden(f"a project {own.value if own else 'outsider'} may not manage "
                        f"the {role.value} role")


def visible_org_ids(actor: Actor) -> set[uuid.UUID] | None:
    """Organizations the actor may list; None means all of them."""
    return None if actor.is_operator else actor.related_org_ids()


def visible_user_scope(actor: Actor) -> set[uuid.UUID] | None:
    """Organizations whose users the actor may list besides themself; None means all."""
    return None if actor.is_operator else actor.admin_org_ids()


def audit_scope(actor: Actor) -> set[uuid.UUID] | None:
    """Organizations whose audit events the actor may read; None means all events."""
    return None if actor.is_operator else actor.admin_org_ids()


def requester_scope(actor: Actor) -> uuid.UUID | None:
    """Whose operations the actor may list: their own, or (None) everyone's."""
    return None if actor.is_operator else actor.user_id


def visible_project_scope(actor: Actor) -> tuple[set[uuid.UUID], set[uuid.UUID]] | None:
    """(project ids, org ids whose projects are all visible); None means everything."""
    if actor.is_operator:
        return None
    return set(actor.project_roles), actor.admin_org_ids()


def describe() -> list[tuple[str, str]]:
    """(action, who may take it) for every action, as documented in docs/policy.md."""
    return [(action.value, (RULES[action].__doc__ or "").strip())
            for action in Action]


def render_markdown() -> str:
    """The policy table as Markdown (docs/policy.md is this text; a test keeps them equal)."""
    lines = [
        "# Who may do what",
        "",
        "Generated from `src/ocx/domain/policy.py` by `ocx admin policy`; a test fails when",
        "this file and the code disagree. Roles: *operator* (global), *org admin* and",
        "*org member* (an organization's), *pi*, *manager*, *member* (a project's).",
        "Reading a target you may not see answers 404; seeing it without the right, 403.",
        "List actions are open to every signed-in user and answer only what they may read.",
        "",
        "| action | who may |",
        "|---|---|",
    ]
    lines += [f"| `{action}` | {who} |" for action, who in describe()]
    return "\n".join(lines) + "\n"

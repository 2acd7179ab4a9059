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
    provider_org_id: uuid.UUID | None = None  # the organization selling it (marketplace)
    # Organizations that may use an offering; None means every organization.
    audience_org_ids: frozenset[uuid.UUID] | None = None


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


def provider_admin(actor: Actor, target: Target) -> bool:
    """admin of the selling provider"""
    return (target.provider_org_id is not None
            and actor.org_roles.get(target.provider_org_id) is OrgRole.ADMIN)


def audience(actor: Actor, target: Target) -> bool:
    """a member of an organization the offering is open to"""
    if target.audience_org_ids is None:
        return anyone(actor, target)
    return bool(target.audience_org_ids & actor.related_org_ids())


def any_of(*rules: Rule) -> Rule:
    """Allowed when one of ``rules`` allows."""

    def rule(actor: Actor, target: Target) -> bool:
        return any(r(actor, target) for r in rules)

    rule.__doc__ = " or ".join((r.__doc__ or r.__name__).strip() for r in rules)
    return rule


PROJECT_ANY = project_role(ProjectRole.PI, ProjectRole.MANAGER, ProjectRole.MEMBER)
PROJECT_LEADS = project_role(ProjectRole.PI, ProjectRole.MANAGER)


def node_user(actor: Actor, target: Target) -> bool:
    """the lessee project's members during its lease, else the owner's org admins"""
    if target.project_id is not None:
        return PROJECT_ANY(actor, target)
    return org_admin(actor, target)


def offered_to(actor: Actor, target: Target) -> bool:
    """anyone if offered to every project, else the project it is offered to"""
    return anyone(actor, target) if target.project_id is None else PROJECT_ANY(actor, target)


def public(actor: Actor, target: Target) -> bool:
    """anyone, for a public image"""
    return target.project_id is None and target.org_id is None and anyone(actor, target)


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
    # marketplace
    PROVIDER_CREATE = "provider.create"
    PROVIDER_LIST = "provider.list"
    PROVIDER_READ = "provider.read"
    PROVIDER_UPDATE = "provider.update"
    PROVIDER_DELETE = "provider.delete"
    OFFERING_CREATE = "offering.create"
    OFFERING_LIST = "offering.list"
    OFFERING_READ = "offering.read"
    OFFERING_UPDATE = "offering.update"
    PLAN_CREATE = "plan.create"
    PLAN_READ = "plan.read"
    # allocations
    ALLOCATION_REQUEST = "allocation.request"
    ALLOCATION_LIST = "allocation.list"
    ALLOCATION_READ = "allocation.read"
    ALLOCATION_DECIDE = "allocation.decide"
    ALLOCATION_CHANGE = "allocation.change"
    ALLOCATION_RELEASE = "allocation.release"
    ALLOCATION_CREDENTIALS = "allocation.credentials"
    ALLOCATION_DRIFT = "allocation.drift"
    # bare metal: inventory, isolation, offers and leases
    SITE_CREATE = "site.create"
    SITE_LIST = "site.list"
    SITE_READ = "site.read"
    SITE_DELETE = "site.delete"
    SWITCH_CREATE = "switch.create"
    SWITCH_LIST = "switch.list"
    SWITCH_READ = "switch.read"
    SWITCH_UPDATE = "switch.update"
    SWITCH_DELETE = "switch.delete"
    SWITCH_PORT_ADD = "switch.port.add"
    SWITCH_PORT_REMOVE = "switch.port.remove"
    NODE_CREATE = "node.create"
    NODE_LIST = "node.list"
    NODE_READ = "node.read"
    NODE_UPDATE = "node.update"
    NODE_DELETE = "node.delete"
    NODE_NIC_ADD = "node.nic.add"
    NODE_NIC_REMOVE = "node.nic.remove"
    NODE_CONNECT = "node.connect"
    NODE_DETACH = "node.detach"
    NODE_POWER = "node.power"
    NODE_BOOT_DEVICE = "node.boot_device"
    NETWORK_CREATE = "network.create"
    NETWORK_LIST = "network.list"
    NETWORK_READ = "network.read"
    NETWORK_DELETE = "network.delete"
    OFFER_CREATE = "offer.create"
    OFFER_LIST = "offer.list"
    OFFER_READ = "offer.read"
    OFFER_DELETE = "offer.delete"
    LEASE_CREATE = "lease.create"
    LEASE_LIST = "lease.list"
    LEASE_READ = "lease.read"
    LEASE_CANCEL = "lease.cancel"
    LEASE_EXTEND = "lease.extend"
    LEASE_RECLAIM = "lease.reclaim"
    # images: golden images, their clones, and snapshots of nodes' disks
    IMAGE_UPLOAD = "image.upload"
    IMAGE_PUBLISH = "image.publish"
    IMAGE_LIST = "image.list"
    IMAGE_READ = "image.read"
    IMAGE_CLONE = "image.clone"
    IMAGE_SNAPSHOT = "image.snapshot"
    IMAGE_DELETE = "image.delete"
    NODE_PROVISION = "node.provision"
    NODE_UNPROVISION = "node.unprovision"
    # single sign-on: an institution's SCIM provisioning client
    SCIM_TOKEN_CREATE = "scim_token.create"
    SCIM_TOKEN_LIST = "scim_token.list"
    SCIM_TOKEN_REVOKE = "scim_token.revoke"
    # onboarding: terms of use, invitations, join requests, PI eligibility, project requests
    TERMS_READ = "terms.read"
    TERMS_ACCEPT = "terms.accept"
    INVITATION_CREATE = "invitation.create"
    INVITATION_LIST = "invitation.list"
    INVITATION_REVOKE = "invitation.revoke"
    INVITATION_ACCEPT = "invitation.accept"
    JOIN_REQUEST_CREATE = "join_request.create"
    JOIN_REQUEST_LIST = "join_request.list"
    JOIN_REQUEST_READ = "join_request.read"
    JOIN_REQUEST_DECIDE = "join_request.decide"
    PI_ELIGIBILITY_REQUEST = "pi_eligibility.request"
    PI_ELIGIBILITY_LIST = "pi_eligibility.list"
    PI_ELIGIBILITY_READ = "pi_eligibility.read"
    PI_ELIGIBILITY_DECIDE = "pi_eligibility.decide"
    PI_ELIGIBILITY_REVOKE = "pi_eligibility.revoke"
    PROJECT_REQUEST_CREATE = "project_request.create"
    PROJECT_REQUEST_LIST = "project_request.list"
    PROJECT_REQUEST_READ = "project_request.read"
    PROJECT_REQUEST_DECIDE = "project_request.decide"
    ONBOARDING_POLICY_READ = "onboarding_policy.read"
    ONBOARDING_POLICY_UPDATE = "onboarding_policy.update"
    # billing: the price book, credits, invoices and reports
    PRICE_BOOK_READ = "price_book.read"
    PRICE_BOOK_UPDATE = "price_book.update"
    CREDIT_GRANT = "credit.grant"
    CREDIT_LIST = "credit.list"
    INVOICE_GENERATE = "invoice.generate"
    INVOICE_LIST = "invoice.list"
    INVOICE_READ = "invoice.read"
    INVOICE_SUMMARY = "invoice.summary"
    INVOICE_FINALIZE = "invoice.finalize"
    INVOICE_CORRECT = "invoice.correct"
    REPORT_SHOWBACK = "report.showback"
    REPORT_REVENUE = "report.revenue"
    BUDGET_READ = "budget.read"
    BUDGET_SET = "budget.set"
    # metering: usage recorded from provider events
    USAGE_READ = "usage.read"


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
    # marketplace: anyone browses what they may use; providers' admins run their shop
    Action.PROVIDER_CREATE: operator,
    Action.PROVIDER_LIST: anyone,
    Action.PROVIDER_READ: anyone,
    Action.PROVIDER_UPDATE: any_of(operator, provider_admin),
    Action.PROVIDER_DELETE: operator,
    Action.OFFERING_CREATE: any_of(operator, provider_admin),
    Action.OFFERING_LIST: anyone,  # filtered to offerings open to the caller
    Action.OFFERING_READ: any_of(operator, provider_admin, audience),
    Action.OFFERING_UPDATE: any_of(operator, provider_admin),
    Action.PLAN_CREATE: any_of(operator, provider_admin),
    Action.PLAN_READ: any_of(operator, provider_admin, audience),
    # allocations: the project asks, the provider decides
    Action.ALLOCATION_REQUEST: any_of(operator, PROJECT_LEADS),
    Action.ALLOCATION_LIST: anyone,  # filtered: own projects', own offerings'
    Action.ALLOCATION_READ: any_of(operator, provider_admin, org_admin, PROJECT_ANY),
    Action.ALLOCATION_DECIDE: any_of(operator, provider_admin),
    Action.ALLOCATION_CHANGE: any_of(operator, PROJECT_LEADS),
    Action.ALLOCATION_RELEASE: any_of(operator, provider_admin, PROJECT_LEADS),
    Action.ALLOCATION_CREDENTIALS: PROJECT_ANY,
    Action.ALLOCATION_DRIFT: any_of(operator, provider_admin, PROJECT_LEADS),
    # bare metal: owners' org admins run their inventory and offers; a node's user is its
    # lessee during a lease (the owner then only through an operator's reclaim)
    Action.SITE_CREATE: operator,
    Action.SITE_LIST: anyone,
    Action.SITE_READ: anyone,
    Action.SITE_DELETE: operator,
    Action.SWITCH_CREATE: any_of(operator, org_admin),
    Action.SWITCH_LIST: anyone,  # filtered to administered organizations' switches
    Action.SWITCH_READ: any_of(operator, org_admin),
    Action.SWITCH_UPDATE: any_of(operator, org_admin),
    Action.SWITCH_DELETE: any_of(operator, org_admin),
    Action.SWITCH_PORT_ADD: any_of(operator, org_admin),
    Action.SWITCH_PORT_REMOVE: any_of(operator, org_admin),
    Action.NODE_CREATE: any_of(operator, org_admin),
    Action.NODE_LIST: anyone,  # the exchange's catalogue; BMC settings only to owners
    Action.NODE_READ: anyone,
    Action.NODE_UPDATE: any_of(operator, org_admin),  # the owner, while not leased
    Action.NODE_DELETE: any_of(operator, org_admin),
    Action.NODE_NIC_ADD: any_of(operator, org_admin),
    Action.NODE_NIC_REMOVE: any_of(operator, org_admin),
    Action.NODE_CONNECT: any_of(operator, node_user),
    Action.NODE_DETACH: any_of(operator, node_user),
    Action.NODE_POWER: any_of(operator, node_user),
    Action.NODE_BOOT_DEVICE: any_of(operator, node_user),
    Action.NETWORK_CREATE: any_of(operator, org_admin, PROJECT_LEADS),
    Action.NETWORK_LIST: anyone,  # filtered to visible projects' networks
    Action.NETWORK_READ: any_of(operator, org_admin, PROJECT_ANY),
    Action.NETWORK_DELETE: any_of(operator, org_admin, PROJECT_LEADS),
    Action.OFFER_CREATE: any_of(operator, org_admin),
    Action.OFFER_LIST: anyone,  # filtered to offers open to the caller's projects
    Action.OFFER_READ: any_of(operator, org_admin, offered_to),
    Action.OFFER_DELETE: any_of(operator, org_admin),
    Action.LEASE_CREATE: any_of(operator, PROJECT_LEADS),
    Action.LEASE_LIST: anyone,  # filtered: own projects' leases, own nodes' leases
    Action.LEASE_READ: any_of(operator, org_admin, PROJECT_ANY),
    Action.LEASE_CANCEL: any_of(operator, PROJECT_LEADS),
    Action.LEASE_EXTEND: any_of(operator, PROJECT_LEADS),
    Action.LEASE_RECLAIM: operator,
    # images: a project's leads keep its images, its people boot them; operators publish
    # public images (operators run the sites); a snapshot is taken by the node's user
    Action.IMAGE_UPLOAD: any_of(operator, PROJECT_LEADS),
    Action.IMAGE_PUBLISH: operator,
    Action.IMAGE_LIST: anyone,  # filtered: public images and visible projects' images
    Action.IMAGE_READ: any_of(operator, public, org_admin, PROJECT_ANY),
    Action.IMAGE_CLONE: any_of(operator, PROJECT_LEADS),
    Action.IMAGE_SNAPSHOT: any_of(operator, node_user),
    Action.IMAGE_DELETE: any_of(operator, org_admin, PROJECT_LEADS),
    # diskless boot: the node's user (its lessee during a lease) maps it to an image
    Action.NODE_PROVISION: any_of(operator, node_user),
    Action.NODE_UNPROVISION: any_of(operator, node_user),
    # single sign-on: operators connect an institution's SCIM client
    Action.SCIM_TOKEN_CREATE: operator,
    Action.SCIM_TOKEN_LIST: operator,
    Action.SCIM_TOKEN_REVOKE: operator,
    # onboarding: people ask, a project's leads or the organization's admins decide
    Action.TERMS_READ: anyone,
    Action.TERMS_ACCEPT: anyone,
    Action.INVITATION_CREATE: any_of(operator, org_admin, PROJECT_LEADS),
    Action.INVITATION_LIST: any_of(operator, org_admin, PROJECT_LEADS),
    Action.INVITATION_REVOKE: any_of(operator, org_admin, PROJECT_LEADS),
    Action.INVITATION_ACCEPT: anyone,  # the link's holder, signed in with its address
    Action.JOIN_REQUEST_CREATE: any_of(operator, org_member),
    Action.JOIN_REQUEST_LIST: anyone,  # filtered: one's own, and those one may decide
    Action.JOIN_REQUEST_READ: any_of(operator, org_admin, PROJECT_LEADS, owner),
    Action.JOIN_REQUEST_DECIDE: any_of(operator, org_admin, PROJECT_LEADS),
    Action.PI_ELIGIBILITY_REQUEST: any_of(operator, org_member),
    Action.PI_ELIGIBILITY_LIST: anyone,  # filtered: one's own, administered organizations'
    Action.PI_ELIGIBILITY_READ: any_of(operator, org_admin, owner),
    Action.PI_ELIGIBILITY_DECIDE: any_of(operator, org_admin),
    Action.PI_ELIGIBILITY_REVOKE: any_of(operator, org_admin),
    Action.PROJECT_REQUEST_CREATE: any_of(operator, org_member),
    Action.PROJECT_REQUEST_LIST: anyone,  # filtered: one's own, administered organizations'
    Action.PROJECT_REQUEST_READ: any_of(operator, org_admin, owner),
    Action.PROJECT_REQUEST_DECIDE: any_of(operator, org_admin),
    Action.ONBOARDING_POLICY_READ: any_of(operator, org_member),
    Action.ONBOARDING_POLICY_UPDATE: any_of(operator, org_admin),
    # billing: operators close the month; providers price their own offerings; an
    # organization's admins read its invoices, a project's PI its own project's page
    Action.PRICE_BOOK_READ: any_of(operator, provider_admin, audience),
    Action.PRICE_BOOK_UPDATE: any_of(operator, provider_admin),
    Action.CREDIT_GRANT: operator,
    Action.CREDIT_LIST: anyone,  # filtered to administered organizations' credits
    Action.INVOICE_GENERATE: operator,
    Action.INVOICE_LIST: anyone,  # filtered to administered organizations' invoices
    Action.INVOICE_READ: any_of(operator, org_admin),
    Action.INVOICE_SUMMARY: any_of(operator, org_admin, project_role(ProjectRole.PI)),
    Action.INVOICE_FINALIZE: operator,
    Action.INVOICE_CORRECT: operator,
    Action.REPORT_SHOWBACK: any_of(operator, any_org_admin),  # filtered to administered orgs
    Action.REPORT_REVENUE: any_of(operator, provider_admin),  # what a provider earned
    # a project's budget: its leads set it, its people read it
    Action.BUDGET_READ: any_of(operator, org_admin, PROJECT_ANY),
    Action.BUDGET_SET: any_of(operator, org_admin, PROJECT_LEADS),
    # metering: a project's people see its usage, an organization's admins all of it
    Action.USAGE_READ: any_of(operator, org_admin, PROJECT_ANY),
}

# Which action decides whether a target is visible at all (else 404, not 403).
READ_ACTION: dict[str, Action] = {
    "organization": Action.ORG_READ,
    "user": Action.USER_READ,
    "project": Action.PROJECT_READ,
    "member": Action.PROJECT_READ,
    "token": Action.TOKEN_REVOKE,
    "operation": Action.OPERATION_READ,
    "provider": Action.PROVIDER_READ,
    "offering": Action.OFFERING_READ,
    "plan": Action.PLAN_READ,
    "allocation": Action.ALLOCATION_READ,
    "site": Action.SITE_READ,
    "switch": Action.SWITCH_READ,
    "node": Action.NODE_READ,
    "network": Action.NETWORK_READ,
    "offer": Action.OFFER_READ,
    "lease": Action.LEASE_READ,
    "image": Action.IMAGE_READ,
    "join_request": Action.JOIN_REQUEST_READ,
    "pi_eligibility": Action.PI_ELIGIBILITY_READ,
    "project_request": Action.PROJECT_REQUEST_READ,
    "price_book": Action.PRICE_BOOK_READ,
    "invoice": Action.INVOICE_READ,
    "budget": Action.BUDGET_READ,
}
# Creating something inside a parent is seen through the parent.
PARENT_READ: dict[Action, Action] = {
    Action.PROJECT_CREATE: Action.ORG_READ,
    Action.USER_CREATE: Action.ORG_READ,
    Action.ORG_MEMBER_LIST: Action.ORG_READ,
    Action.ORG_MEMBER_ADD: Action.ORG_READ,
    Action.ORG_MEMBER_REMOVE: Action.ORG_READ,
    Action.PLAN_CREATE: Action.OFFERING_READ,
    Action.ALLOCATION_REQUEST: Action.PROJECT_READ,
    Action.SWITCH_CREATE: Action.ORG_READ,
    Action.NODE_CREATE: Action.ORG_READ,
    Action.NETWORK_CREATE: Action.PROJECT_READ,
    Action.LEASE_CREATE: Action.PROJECT_READ,
    Action.IMAGE_UPLOAD: Action.PROJECT_READ,
    Action.IMAGE_CLONE: Action.PROJECT_READ,
    Action.IMAGE_SNAPSHOT: Action.NODE_READ,
    Action.INVITATION_CREATE: Action.PROJECT_READ,
    Action.INVITATION_LIST: Action.PROJECT_READ,
    Action.INVITATION_REVOKE: Action.PROJECT_READ,
    Action.JOIN_REQUEST_CREATE: Action.ORG_READ,
    Action.PI_ELIGIBILITY_REQUEST: Action.ORG_READ,
    Action.PROJECT_REQUEST_CREATE: Action.ORG_READ,
    Action.ONBOARDING_POLICY_READ: Action.ORG_READ,
    Action.ONBOARDING_POLICY_UPDATE: Action.ORG_READ,
    Action.USAGE_READ: Action.PROJECT_READ,
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
    if (target is not NO_TARGET and read is not None
            and (read is action or not can(actor, read, target))):
        raise NotFound(f"{read.value.split('.')[0]} not found")
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

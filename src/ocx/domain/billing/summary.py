"""The one-page summary of one project on an invoice (the data; rendering comes later)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.allocations.models import Allocation
from ocx.domain.billing.invoices import find_invoice, invoice_target
from ocx.domain.billing.models import Invoice, InvoiceLine
from ocx.domain.billing.schemas import Person, ProjectSummary, QuotaPeriod, ResourceUsage
from ocx.domain.identity.models import Membership, Project, ProjectRole, User
from ocx.domain.identity.service import find_project
from ocx.domain.metering.models import UsageShape, UsageSpan
from ocx.domain.policy import Action
from ocx.errors import NotFound

# Resource kinds shown in their own section; anything else is under "other".
SECTIONS = {"server": "servers", "volume": "volumes", "floating_ip": "floating_ips",
            "bucket": "object_storage", "user": "object_storage",
            "allocation": "allocations"}  # limit, fixed and one-time charges
# Span attributes worth showing per resource (the last span's values).
SHOWN = ("flavor", "vcpus", "ram_mib", "gpus", "gpu_type", "size_gib", "volume_type",
         "address")


def _usage(session: Session, lines: list[InvoiceLine]) -> dict[str, list[ResourceUsage]]:
    grouped: dict[tuple[str, str, str, str], list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        grouped[(line.resource_kind, line.resource_id, line.meter, line.unit)].append(line)
    sections: dict[str, list[ResourceUsage]] = defaultdict(list)
    for (kind, resource_id, meter, unit), group in grouped.items():
        last = _last_span_attributes(session, group)
        sections[SECTIONS.get(kind, "other")].append(ResourceUsage(
            resource_kind=kind, resource_id=resource_id, meter=meter, unit=unit,
            quantity=sum((line.quantity for line in group), Decimal(0)),
            amount=sum((line.amount for line in group), Decimal(0)),
            attributes={k: v for k, v in last.items() if k in SHOWN}))
    return dict(sections)


def _last_span_attributes(session: Session, lines: list[InvoiceLine]) -> dict[str, Any]:
    """The attributes of the last (by end) of the lines' spans: its shape's. Ids that
    are not integers (lines rated before spans had integer ids) are passed over."""
    ids = sorted({i for line in lines for i in line.span_ids if isinstance(i, int)})
    if not ids:
        return {}
    attributes = session.scalar(
        select(UsageShape.attributes).join(UsageSpan, UsageSpan.shape_id == UsageShape.id)
        .where(UsageSpan.id.in_(ids))
        .order_by(UsageSpan.ended_at.desc(), UsageSpan.id.desc()).limit(1))
    return dict(attributes or {})


def _people(session: Session, project: Project) -> list[Person]:
    rows = session.execute(select(User, Membership.role).join(
        Membership, Membership.user_id == User.id).where(
        Membership.project_id == project.id).order_by(User.email))
    return [Person(name=user.name, email=user.email, role=role.value) for user, role in rows]


def _quota_periods(session: Session, project: Project, invoice: Invoice) -> list[QuotaPeriod]:
    rows = session.scalars(select(Allocation).where(
        Allocation.project_id == project.id, Allocation.starts_at < invoice.period_end,
        or_(Allocation.ends_at.is_(None), Allocation.ends_at > invoice.period_start))
        .order_by(Allocation.starts_at))
    return [QuotaPeriod(offering_id=a.offering_id, state=a.state.value, quota=a.quota,
                        starts_at=a.starts_at, ends_at=a.ends_at) for a in rows]


def project_on_invoice(session: Session, actor: Actor, invoice_id: uuid.UUID,
                       project_ref: str) -> tuple[Invoice, Project]:
    """The invoice and one of its organization's projects, if the actor may read that
    project's part of it (operators, the organization's admins, the project's PI).

    Raises:
        NotFound: no such invoice, or the project is not its organization's.
        Forbidden: the actor may not read the project's part.
    """
    invoice = find_invoice(session, invoice_id)
    project = find_project(session, project_ref)
    if project.organization_id != invoice.organization_id:
        raise NotFound("project not found on this invoice")
    policy.authorize(actor, Action.INVOICE_SUMMARY, invoice_target(invoice, project.id))
    return invoice, project


def project_summary(session: Session, actor: Actor, invoice_id: uuid.UUID,
                    project_ref: str) -> ProjectSummary:
    """One project's page of an invoice (operators, the organization's admins, its PI)."""
    invoice, project = project_on_invoice(session, actor, invoice_id, project_ref)
    lines = [line for line in invoice.lines if line.project_id == project.id]
    subtotal = sum((line.amount for line in lines), Decimal(0))
    credited = sum((c.amount for c in invoice.credits if c.project_id == project.id),
                   Decimal(0))
    people = _people(session, project)
    return ProjectSummary(
        invoice_id=invoice.id, period=invoice.period, currency=invoice.currency,
        project_id=project.id, project=project.name, organization=project.organization.name,
        pis=[p for p in people if p.role == ProjectRole.PI.value], users=people,
        sections=_usage(session, lines), quota_periods=_quota_periods(session, project, invoice),
        subtotal=subtotal, credits=credited, total=subtotal - credited)

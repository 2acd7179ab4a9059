"""Usage: what a project used, recorded from its providers' events."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from ocx.api.deps import ActorDep, SessionDep, declares
from ocx.domain.metering import service
from ocx.domain.metering.schemas import UsageReport
from ocx.domain.policy import Action

router = APIRouter(prefix="/usage", tags=["usage"])


@router.get("", response_model=UsageReport, **declares(Action.USAGE_READ))
def show_usage(
    actor: ActorDep, session: SessionDep,
    project: Annotated[str, Query(min_length=1, max_length=130,
                                  description="project id, name, or ORG:NAME")],
    start: Annotated[AwareDatetime, Query(alias="from", description="start (ISO 8601, zoned)")],
    end: Annotated[AwareDatetime, Query(alias="to", description="end, excluded")],
) -> UsageReport:
    """A project's usage in [from, to): per-meter totals and the spans, cut to the period
    (running resources up to now). Its members, its organization's admins, operators."""
    return service.project_usage(session, actor, project, start.astimezone(UTC),
                                 end.astimezone(UTC))

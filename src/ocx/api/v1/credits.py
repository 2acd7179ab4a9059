"""Credits and subsidies an organization's invoices use before it pays."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.billing import credits, schemas
from ocx.domain.policy import Action

router = APIRouter(prefix="/credits", tags=["billing"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.CreditPublic,
             **declares(Action.CREDIT_GRANT))
def grant_credit(body: schemas.CreditCreate, actor: ActorDep,
                 session: SessionDep) -> schemas.CreditPublic:
    """Give an organization, or one of its projects, a credit or subsidy (operators)."""
    return schemas.CreditPublic.model_validate(credits.grant(session, actor, body))


@router.get("", response_model=PageOut[schemas.CreditPublic], **declares(Action.CREDIT_LIST))
def list_credits(
    actor: ActorDep, session: SessionDep, page: PageDep,
    organization: Annotated[str | None, Query(max_length=100)] = None,
) -> PageOut[schemas.CreditPublic]:
    """Credits of the organizations you administer (operators: all), with what is spent."""
    found = credits.list_credits(session, actor, cursor=page.cursor, limit=page.limit,
                                 organization=organization)
    spent = credits.spent(session, [c.id for c in found.items])
    return page_out(found, lambda c: schemas.CreditPublic.model_validate(c).model_copy(
        update={"used": spent.get(c.id, 0)}))

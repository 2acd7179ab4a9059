"""Listing operations: by target, only one's own, newest first (for the dashboard)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from ocx.domain.actor import Actor
from ocx.domain.identity.models import User
from ocx.domain.identity.tokens import actor_for
from ocx.domain.operations import service
from ocx.runtime import Runtime
from tests.support.world import World


def _actor(session, email: str) -> Actor:  # type: ignore[no-untyped-def]
    return actor_for(session, session.scalars(select(User).where(User.email == email)).one())


def test_filters_by_target_and_requester_newest_first(runtime: Runtime, world: World) -> None:
    target = uuid.uuid4()
    with runtime.sessions() as session, session.begin():
        pi, operator = (_actor(session, world[key].email) for key in ("pi_a", "operator"))
        mine = [service.enqueue(session, pi, kind="test.op", target=("allocation", target),
                                idempotency_key=f"k{i}").id for i in range(3)]
        service.enqueue(session, pi, kind="test.op", target=("allocation", uuid.uuid4()),
                        idempotency_key="elsewhere")
        theirs = service.enqueue(session, operator, kind="test.op",
                                 target=("allocation", target), idempotency_key="op").id
    with runtime.sessions() as session:
        pi, operator = (_actor(session, world[key].email) for key in ("pi_a", "operator"))

        def ids(actor: Actor, **options: object) -> list[uuid.UUID]:
            found = service.list_operations(session, actor, cursor=None, limit=10,
                                            **options)  # type: ignore[arg-type]
            return [op.id for op in found.items]

        assert ids(pi, target=("allocation", target)) == mine
        assert ids(pi, target=("allocation", target), newest_first=True) == mine[::-1]
        assert ids(operator, target=("allocation", target)) == [*mine, theirs]
        assert ids(operator, target=("allocation", target), mine=True) == [theirs]
        assert len(ids(pi)) == 4

"""A runtime on a SQLite file and an in-memory task queue: no sockets, no processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ocx.config import Environment, Settings
from ocx.domain.actor import SYSTEM
from ocx.domain.operations import service
from ocx.domain.operations.models import Operation
from ocx.persistence.db import make_engine
from ocx.persistence.models import Base
from ocx.runtime import Runtime, build_runtime


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime whose schema comes from the models (migrations are tested elsewhere)."""
    settings = Settings(environment=Environment.TEST, secret_key="unit-secret-key-0123456789",
                        database_url=f"sqlite:///{tmp_path / 'ocx.db'}",
                        task_broker_url="memory://", workers=0, operation_max_attempts=3,
                        operation_backoff_s=2.0, operation_backoff_max_s=10.0,
                        operation_lease_s=30.0)
    engine = make_engine(settings.database_url)
    Base.metadata.create_all(engine)
    built = build_runtime(settings, engine=engine)
    yield built
    built.close()


def enqueue(session: Session, key: str | None = None, kind: str = "test.echo") -> Operation:
    """A pending operation journalled by the system."""
    return service.enqueue(session, SYSTEM, kind=kind, target=("thing", uuid.uuid4()),
                           idempotency_key=key or f"test:{uuid.uuid4()}",
                           payload={"n": 1})

"""The runtime: everything built from settings that a process needs, made in one place.

The API app, the workers and the admin commands each build one ``Runtime``; nothing
global is created at import time, so tests build as many as they like.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ocx.config import Settings
from ocx.persistence.db import engine_from_settings, make_session_factory


@dataclass
class Runtime:
    """Settings, database engine and session factory of one process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = make_session_factory(self.engine)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def build_runtime(settings: Settings, engine: Engine | None = None) -> Runtime:
    """A runtime for ``settings``; pass ``engine`` to share one (tests)."""
    return Runtime(settings=settings, engine=engine or engine_from_settings(settings))

"""The runtime: everything built from settings that a process needs, made in one place.

The API app, the workers and the admin commands each build one ``Runtime``; nothing
global is created at import time, so tests build as many as they like.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from ocx.config import Settings
from ocx.domain.operations.service import MAX_ATTEMPTS_KEY, WAKEUPS_KEY, take_wakeups
from ocx.drivers.notifier import Notifier
from ocx.drivers.registry import DriverRegistry
from ocx.persistence.db import engine_from_settings, make_session_factory
from ocx.persistence.sealed import Sealer

if TYPE_CHECKING:
    from ocx.workers.engine import TaskEngine

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Settings, database engine, session factory, task engine and drivers of one process."""

    settings: Settings
    engine: Engine
    drivers: DriverRegistry = field(init=False)
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.drivers = DriverRegistry(allow_fakes=self.settings.allow_fake_drivers)
        self.sessions = make_session_factory(self.engine)
        self.sessions.configure(info={MAX_ATTEMPTS_KEY: self.settings.operation_max_attempts})
        event.listen(self.sessions, "after_commit", self._publish_wakeups)
        event.listen(self.sessions, "after_soft_rollback", self._drop_wakeups)

    @cached_property
    def tasks(self) -> TaskEngine:
        """The task engine (Huey), built on first use."""
        from ocx.workers.engine import TaskEngine

        return TaskEngine(self)

    @cached_property
    def sealer(self) -> Sealer:
        """Seals secrets stored in the database (driver settings, credentials)."""
        return Sealer(self.settings.secret_key.get_secret_value())

    @cached_property
    def notifier(self) -> Notifier:
        """The configured notifier driver.

        Raises:
            InvalidInput: unknown driver name or invalid settings.
        """
        return self.drivers.create(Notifier, self.settings.notifier_driver,
                                   self.settings.notifier_settings)

    def _publish_wakeups(self, session: Session) -> None:
        # Fires for savepoints too; only the outermost commit makes rows visible.
        if session.in_nested_transaction():
            return
        operation_ids = take_wakeups(session)
        if not operation_ids:
            return
        try:
            self.tasks.publish(operation_ids)
        except Exception:
            log.warning("could not wake workers for %d operation(s); the sweep will",
                        len(operation_ids), exc_info=True)

    def _drop_wakeups(self, session: Session, previous: SessionTransaction) -> None:
        if previous.parent is None:
            session.info.pop(WAKEUPS_KEY, None)

    def close(self) -> None:
        """Release database and broker connections."""
        if "tasks" in self.__dict__:
            self.tasks.close()
        self.engine.dispose()


def build_runtime(settings: Settings, engine: Engine | None = None) -> Runtime:
    """A runtime for ``settings``; pass ``engine`` to share one (tests)."""
    return Runtime(settings=settings, engine=engine or engine_from_settings(settings))

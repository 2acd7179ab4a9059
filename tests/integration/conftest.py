"""Database-backed fixtures: every test here runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete

from ocx.api.app import create_app
from ocx.config import Environment, Settings
from ocx.persistence.db import make_engine
from ocx.persistence.migrate import upgrade
from ocx.persistence.models import Base
from ocx.runtime import Runtime, build_runtime
from tests.integration.objectstore.server import RadosGateway, rgw_server
from tests.servers.ceph import Ceph
from tests.servers.openstack import shared
from tests.servers.postgres import postgres_server, temporary_database
from tests.support.world import World, build_world

TEST_SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture(scope="session")
def postgres_admin_dsn() -> Iterator[str]:
    """A reachable PostgreSQL server (the machine's, or one started for the run)."""
    with postgres_server() as dsn:
        yield dsn


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql",
                                                                marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """A fresh, migrated-to-nothing database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'ocx.db'}"
        return
    admin_dsn = request.getfixturevalue("postgres_admin_dsn")
    with temporary_database(admin_dsn) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated with Alembic (so migrations are tested too)."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """The migrated engine, emptied after each test."""
    yield migrated_engine
    with migrated_engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Test settings: no worker threads, an in-memory task queue."""
    return Settings(environment=Environment.TEST, database_url=database_url,
                    secret_key=TEST_SECRET, workers=0, task_broker_url="memory://",
                    cookie_secure=False)


@pytest.fixture
def runtime(settings: Settings, engine: Engine) -> Runtime:
    """A runtime sharing the test engine."""
    return build_runtime(settings, engine=engine)


@pytest.fixture(scope="module")
def shared_app(database_url: str, migrated_engine: Engine) -> FastAPI:
    """One app per test module and database, built once.

    FastAPI prepares each route on its first request (a quarter of a second for the
    whole API); building a new app for each of thousands of tests spent most of the
    suite's time there. The app holds no state of its own: each test gives it its
    fresh runtime (and web context) through ``app``.
    """
    settings = Settings(environment=Environment.TEST, database_url=database_url,
                        secret_key=TEST_SECRET, workers=0, task_broker_url="memory://",
                        cookie_secure=False)
    return create_app(runtime=build_runtime(settings, engine=migrated_engine))


@pytest.fixture
def app(shared_app: FastAPI, runtime: Runtime) -> FastAPI:
    """The API app, serving this test's runtime (its settings, drivers and queue)."""
    from ocx.web.pages import WebContext

    shared_app.state.runtime = runtime
    shared_app.state.web = WebContext.build(runtime.settings)
    return shared_app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An unauthenticated HTTP client for the app."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def world(runtime: Runtime) -> World:
    """Two organizations, each with an admin, a project, a PI, a manager and a member."""
    return build_world(runtime)


@pytest.fixture
def ceph(request: pytest.FixtureRequest) -> Ceph:
    """A real single-host Ceph cluster (mon, mgr, memstore OSD, an ``rbd`` pool, radosgw),
    started at most once per session and shared by the RBD and the object storage tests
    (tests/servers/ceph.py)."""
    return shared(request, "ceph-rgw", rgw_server).ceph


@pytest.fixture
def rgw(request: pytest.FixtureRequest) -> RadosGateway:
    """A real Ceph cluster with radosgw and an admin-ops user, started at most once per
    session (tests/integration/objectstore/server.py)."""
    return shared(request, "ceph-rgw", rgw_server)

"""A PostgreSQL server for the tests: the machine's own if one runs, else one we start.

Each test session gets its own freshly created database, dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

SYSTEM_DSN = os.environ.get("OCX_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
# One port per pytest-xdist worker ("gw0", "gw1"...), should several start their own.
OWN_PORT = 55432 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def _reachable(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not versions:
        subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=True,
                       stdout=subprocess.DEVNULL)
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed and apt-get could not install it")
    return versions[-1].parent


@contextmanager
def _own_server() -> Iterator[str]:
    """initdb + pg_ctl in a temporary directory on an unusual port (runs as postgres)."""
    bindir = _pg_bin()
    base = Path(tempfile.mkdtemp(prefix="ocx-pg-"))
    shutil.chown(base, "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*as_pg, str(bindir / "initdb"), "-D", str(base / "data"), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync"], check=True,
                   stdout=subprocess.DEVNULL)
    opts = f"-c listen_addresses=127.0.0.1 -p {OWN_PORT} -k {base} -c fsync=off"
    subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(base / "data"), "-l",
                    str(base / "pg.log"), "-w", "-o", opts, "start"], check=True,
                   stdout=subprocess.DEVNULL)
    try:
        yield f"postgresql://postgres@127.0.0.1:{OWN_PORT}/postgres"
    finally:
        subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "fast",
                        "-w", "stop"], check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    """The admin DSN of a running PostgreSQL server."""
    if _reachable(SYSTEM_DSN):
        yield SYSTEM_DSN
        return
    with _own_server() as dsn:
        yield dsn


@contextmanager
def temporary_database(admin_dsn: str) -> Iterator[str]:
    """Create a uniquely named database; yield its SQLAlchemy URL; drop it afterwards."""
    name = f"ocx_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_dsn.rpartition("/")
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

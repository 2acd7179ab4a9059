"""The CLI starts without loading the server's stack (SQLAlchemy, FastAPI)."""

from __future__ import annotations

import subprocess
import sys


def test_cli_does_not_import_the_server_stack() -> None:
    probe = ("import sys, ocx.cli.main; "
             "print(sorted(m for m in ('sqlalchemy', 'fastapi', 'huey') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_invalid_settings_are_reported_without_their_values() -> None:
    env = {"PATH": "/usr/bin:/bin", "OCX_ENVIRONMENT": "production",
           "OCX_SECRET_KEY": "tiny-secret", "OCX_DATABASE_URL": "sqlite:///:memory:"}
    out = subprocess.run([sys.executable, "-m", "ocx.cli.main", "db", "current"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "OCX_SECRET_KEY must be at least 16 characters" in out.stderr
    assert "tiny-secret" not in out.stderr + out.stdout

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

"""Serve one OpenStack WSGI application under gunicorn (run by the OpenStack venv).

``OCX_WSGI_APP`` names it as ``module:attribute``; ``OCX_WSGI_ARGS`` are the
command-line arguments the application should see (``--config-file ...``).
Two traps are handled here:
oslo.config parses the *process* arguments, so gunicorn's argv is hidden while the
application is imported; and Keystone on SQLite needs foreign keys switched on, or
deleted application credentials leave orphans and the next one fails with 409.
"""

import importlib
import os
import sys

_module, _, _attribute = os.environ["OCX_WSGI_APP"].partition(":")
if _module.startswith("keystone."):
    from keystone.common.sql import core

    core.enable_sqlite_foreign_key()

_argv, sys.argv = sys.argv, sys.argv[:1] + os.environ.get("OCX_WSGI_ARGS", "").split()
try:
    application = getattr(importlib.import_module(_module), _attribute)
finally:
    sys.argv = _argv

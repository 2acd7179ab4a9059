"""Fixtures shared by every test group."""

from __future__ import annotations

import os

# Tests never read the developer's environment for OCX settings.
for _name in [n for n in os.environ if n.startswith("OCX_")]:
    del os.environ[_name]

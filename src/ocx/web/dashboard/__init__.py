"""The dashboard: pages for researchers, PIs, providers and operators.

Each area is one module with its own router and its templates under
``templates/<area>/``; every page is built from domain services (never the ORM) with the
signed-in actor from ``common.SignedInDep``, so a page shows and does exactly what the
API would let that person see and do.
"""

from __future__ import annotations

from fastapi import FastAPI

from ocx.web.dashboard import common, invoices, members, operator, projects, provider, usage


def mount_dashboard(app: FastAPI) -> None:
    """Add every dashboard area's routes to ``app``."""
    for module in (projects, members, usage, invoices, provider, operator):
        app.include_router(module.router)
    app.add_exception_handler(common.SignInRequired, common.sign_in_required)
    common.install_page_errors(app)

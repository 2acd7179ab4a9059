"""The web UI's routes: sign in and out, and the home page (single sign-on: ``sso``).

Handlers call domain services (``ocx.domain.identity``), never the ORM; every form
post carries a CSRF token; the browser session lives in a signed cookie.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response
from fastapi.staticfiles import StaticFiles

from ocx.api.deps import SessionDep
from ocx.domain.actor import Actor
from ocx.domain.identity import onboarding, service
from ocx.errors import Unauthenticated
from ocx.logging import request_id_var
from ocx.runtime import Runtime
from ocx.web import accounts, saml, sso
from ocx.web import onboarding as onboarding_pages
from ocx.web.csrf import CsrfRejected
from ocx.web.dashboard import mount_dashboard
from ocx.web.dashboard import projects as dashboard_projects
from ocx.web.dashboard.common import navigation
from ocx.web.deps import BrowserDep, WebDep, get_web, require_csrf
from ocx.web.pages import STATIC_DIR, WebContext
from ocx.web.sessions import BrowserSession, signed_in

if TYPE_CHECKING:
    from ocx.domain.allocations.models import Allocation
    from ocx.domain.identity.models import Organization, Project

HOME_LIMIT = 100


router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Row:
    """One line of a table on the home page (a project's has its link and allocations)."""

    name: str
    detail: str
    role: str
    href: str = ""
    allocations: tuple[Allocation, ...] = ()


def _org_rows(actor: Actor, orgs: list[Organization]) -> list[Row]:
    return [Row(org.name, org.display_name,
                actor.org_roles[org.id].value if org.id in actor.org_roles else "")
            for org in orgs]


def _project_rows(actor: Actor, projects: list[Project],
                  allocations: dict[uuid.UUID, list[Allocation]]) -> list[Row]:
    return [Row(f"{project.organization.name}/{project.name}", project.description,
                actor.project_roles[project.id].value if project.id in actor.project_roles
                else "", href=f"/projects/{project.id}",
                allocations=tuple(allocations.get(project.id, ())))
            for project in projects]


@router.get("/")
def home(request: Request, web: WebDep, browser: BrowserDep, db: SessionDep) -> Response:
    """The signed-in user's organizations, projects with their allocations, and latest
    operations; the sign-in page otherwise."""
    actor = accounts.current_actor(db, browser, request_id_var.get())
    if actor is None:
        return web.redirect(_signed_out(browser), "/login")
    if onboarding.needs_terms(db, actor, web.settings.terms_version):
        return web.redirect(browser, "/terms")
    orgs = service.list_orgs(db, actor, cursor=None, limit=HOME_LIMIT)
    projects = service.list_projects(db, actor, cursor=None, limit=HOME_LIMIT)
    allocations = dashboard_projects.allocations_by_project(db, actor)
    return web.render(request, browser, "home.html", actor=actor, nav=navigation(actor),
                      orgs=_org_rows(actor, orgs.items), more_orgs=bool(orgs.next_cursor),
                      projects=_project_rows(actor, projects.items, allocations),
                      more_projects=bool(projects.next_cursor),
                      operations=dashboard_projects.recent_operations(db, actor),
                      providers=web.settings.oidc_providers,
                      saml_providers=web.settings.saml_providers)


def _signed_out(browser: BrowserSession) -> BrowserSession:
    """``browser`` if anonymous; else a fresh session saying the old one ended."""
    if browser.user_id is None:
        return browser
    fresh = BrowserSession()
    fresh.flash("info", "Your session has ended; please sign in again.")
    return fresh


def _sign_in_options(web: WebContext) -> dict[str, Any]:
    """The institutions' identity providers the sign-in page offers."""
    return {"providers": web.settings.oidc_providers,
            "saml_providers": web.settings.saml_providers}


@router.get("/login")
def login_form(request: Request, web: WebDep, browser: BrowserDep, db: SessionDep) -> Response:
    """The sign-in form (signed-in users go home)."""
    if accounts.current_actor(db, browser) is not None:
        return web.redirect(browser, "/")
    return web.render(request, _signed_out(browser), "login.html", email="",
                      **_sign_in_options(web))


@router.post("/login", dependencies=[Depends(require_csrf)])
def login(request: Request, web: WebDep, browser: BrowserDep, db: SessionDep,
          email: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "") -> Response:
    """Check the email and password; on success start a new session and go home."""
    try:
        user = accounts.sign_in(db, email, password, request_id_var.get())
    except Unauthenticated as exc:
        return web.render(request, browser, "login.html", status=401, email=email[:320],
                          error=exc.message, **_sign_in_options(web))
    session = signed_in(str(user.id), user.password_hash, user.session_version)
    session.flash("success", f"Signed in as {user.email}.")
    return web.redirect(session, "/")


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(web: WebDep) -> Response:
    """End the browser session and return to the sign-in page."""
    fresh = BrowserSession()
    fresh.flash("success", "You have signed out.")
    return web.redirect(fresh, "/login")


def _csrf_rejected(request: Request, exc: Exception) -> Response:
    web = get_web(request)
    browser = web.codec.load(request)
    return web.render(request, browser, "error.html", status=403, title="Form expired",
                      message="This form was sent without a valid security token: it may be "
                      "older than your session or come from another site. Go back, reload "
                      "the page and try again.")


def mount_web(app: FastAPI, runtime: Runtime) -> None:
    """Add the web UI's routes and static files to ``app``."""
    app.state.web = WebContext.build(runtime.settings)
    app.include_router(router)
    app.include_router(sso.router)
    app.include_router(saml.router)
    app.include_router(onboarding_pages.router)
    mount_dashboard(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(CsrfRejected, _csrf_rejected)

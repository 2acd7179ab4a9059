"""What every dashboard page shares: the signed-in person, navigation, form errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from ocx.api.deps import SessionDep
from ocx.domain.actor import Actor
from ocx.domain.identity import onboarding
from ocx.errors import OcxError
from ocx.logging import request_id_var
from ocx.web import accounts
from ocx.web.deps import BrowserDep, WebDep
from ocx.web.pages import WebContext
from ocx.web.sessions import BrowserSession


class SignInRequired(Exception):
    """Raised by ``signed_in`` when nobody (valid) is signed in: the page redirects."""

    def __init__(self, browser: BrowserSession, to: str = "/login") -> None:
        super().__init__(to)
        self.browser, self.to = browser, to


def sign_in_required(request: Request, exc: Exception) -> Response:
    """Send the browser to the sign-in page (or the terms, until accepted)."""
    assert isinstance(exc, SignInRequired)
    web: WebContext = request.app.state.web
    return web.redirect(exc.browser, exc.to)


@dataclass
class Page:
    """A request of a signed-in person: render and redirect with their session."""

    request: Request
    web: WebContext
    browser: BrowserSession
    db: Session
    actor: Actor

    def render(self, template: str, *, status: int = 200, **context: Any) -> Response:
        """``template`` with the actor and the navigation."""
        return self.web.render(self.request, self.browser, template, actor=self.actor,
                               status=status, nav=navigation(self.actor), **context)

    def redirect(self, url: str, message: str | None = None,
                 category: str = "success") -> Response:
        """303 to ``url`` (same site), flashing ``message`` there."""
        if message:
            self.browser.flash(category, message)
        return self.web.redirect(self.browser, url)

    def failed(self, exc: OcxError, template: str, **context: Any) -> Response:
        """Re-render a form's page with the domain's message and its HTTP status."""
        return self.render(template, status=exc.status, error=exc.message, **context)


def signed_in(request: Request, web: WebDep, browser: BrowserDep, db: SessionDep) -> Page:
    """The signed-in person's page context; else SignInRequired (to /login or /terms)."""
    actor = accounts.current_actor(db, browser, request_id_var.get())
    if actor is None:
        raise SignInRequired(browser)
    if onboarding.needs_terms(db, actor, web.settings.terms_version):
        raise SignInRequired(browser, "/terms")
    return Page(request=request, web=web, browser=browser, db=db, actor=actor)


SignedInDep = Annotated[Page, Depends(signed_in)]


@dataclass(frozen=True)
class NavItem:
    """One link of the top navigation."""

    label: str
    href: str


def navigation(actor: Actor) -> list[NavItem]:
    """The areas this person may use: everyone has projects and billing; organization
    admins (who run providers) the provider area; operators the operator area."""
    items = [NavItem("Home", "/"), NavItem("Invoices", "/invoices")]
    if actor.is_operator or actor.admin_org_ids():
        items.append(NavItem("Provider", "/provider"))
    if actor.is_operator:
        items.append(NavItem("Operator", "/operator"))
    return items

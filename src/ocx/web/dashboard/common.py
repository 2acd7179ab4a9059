"""What every dashboard page shares: the signed-in person, navigation, form errors."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from ocx.api.deps import SessionDep
from ocx.domain.actor import Actor
from ocx.domain.identity import onboarding
from ocx.errors import Forbidden, InvalidInput, OcxError
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

    def error(self, exc: OcxError) -> Response:
        """The error page for something the person may not see or do (404, 403, 409...)."""
        return self.render("error.html", status=exc.status, title=error_title(exc),
                           message=exc.message)


def signed_in(request: Request, web: WebDep, browser: BrowserDep, db: SessionDep) -> Page:
    """The signed-in person's page context; else SignInRequired (to /login or /terms)."""
    actor = accounts.current_actor(db, browser, request_id_var.get())
    if actor is None:
        raise SignInRequired(browser)
    if onboarding.needs_terms(db, actor, web.settings.terms_version):
        raise SignInRequired(browser, "/terms")
    page = Page(request=request, web=web, browser=browser, db=db, actor=actor)
    # The error page of a domain error raised later in this request shows the navigation.
    request.state.dashboard_page = page
    return page


SignedInDep = Annotated[Page, Depends(signed_in)]


class HttpError(OcxError):
    """An HTTP error met while serving a page (an unknown address, a wrong method)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status  # type: ignore[misc]  # per instance: it mirrors the HTTP one


class OperatorsOnly(Forbidden):
    """A page or form of the operator area was asked for by someone else."""

    title = "Operators only"


def operator(page: SignedInDep) -> Page:
    """The signed-in person's page context if they are an operator; else OperatorsOnly."""
    if not page.actor.is_operator:
        raise OperatorsOnly("These pages are for the exchange's operators.")
    return page


OperatorDep = Annotated[Page, Depends(operator)]

ERROR_TITLES = {401: "Sign-in needed", 403: "Not allowed", 404: "Not found",
                405: "Not possible here", 409: "That clashes with the current state",
                422: "That did not work"}
# Machines' paths: they keep the API's JSON errors.
API_PREFIXES = ("/api/", "/scim/", "/boot/")


def error_title(exc: OcxError) -> str:
    """The heading of the error page of ``exc``."""
    title = getattr(exc, "title", None)
    return title if isinstance(title, str) else ERROR_TITLES.get(exc.status, "That did not work")


def install_page_errors(app: FastAPI) -> None:
    """Show errors met while serving a page as the error page, with status and message.

    Domain errors, invalid path or query values and unknown pages; the API (``/api/``,
    ``/scim/``, ``/boot/``) keeps the JSON errors of the handlers registered before.
    """
    for kind in (OcxError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, _for_pages(app.exception_handlers.get(kind)))


def _for_pages(api_handler: Callable[..., Any] | None) -> Callable[..., Any]:
    async def handle(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(API_PREFIXES) and api_handler is not None:
            answer = api_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer  # type: ignore[no-any-return]
        return error_page(request, as_domain_error(request, exc))
    return handle


def as_domain_error(request: Request, exc: Exception) -> OcxError:
    """What a page says of ``exc``: a domain error as it is, the others in words."""
    if isinstance(exc, OcxError):
        return exc
    if isinstance(exc, RequestValidationError):
        fields = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'value'}: "
                  f"{str(e.get('msg', '')).removeprefix('Value error, ')}"
                  for e in exc.errors()[:3]]
        return InvalidInput("; ".join(fields) or "the address holds an invalid value")
    assert isinstance(exc, StarletteHTTPException)
    return HttpError(exc.status_code, f"There is no page at {request.url.path}."
                     if exc.status_code == 404 else str(exc.detail))


def error_page(request: Request, exc: OcxError) -> Response:
    """``exc`` as the error page: with the navigation when someone is signed in."""
    page: Page | None = getattr(request.state, "dashboard_page", None)
    if page is not None:
        return page.error(exc)
    web: WebContext = request.app.state.web
    return web.render(request, web.codec.load(request), "error.html", status=exc.status,
                      title=error_title(exc), message=exc.message)


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

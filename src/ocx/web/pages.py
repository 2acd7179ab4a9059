"""Rendering pages: templates, the session cookie, CSRF tokens and security headers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates

from ocx import __version__
from ocx.config import Settings
from ocx.domain.actor import Actor
from ocx.web import csrf
from ocx.web.sessions import BrowserSession, SessionCodec

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; "
                                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def money(amount: Decimal | int) -> str:
    """An amount of money as every page shows it: two decimals, thousands separated."""
    return f"{amount:,.2f}"


@dataclass
class WebContext:
    """What every page needs: settings, templates and the session cookie codec."""

    settings: Settings
    templates: Jinja2Templates
    codec: SessionCodec

    @classmethod
    def build(cls, settings: Settings) -> WebContext:
        """The web context for a server's settings."""
        templates = Jinja2Templates(directory=TEMPLATES_DIR)
        templates.env.filters["money"] = money
        return cls(settings=settings, templates=templates, codec=SessionCodec(settings))

    def csrf_token(self, browser: BrowserSession) -> str:
        """The token this browser's forms must carry."""
        return csrf.token_for(self.settings.secret_key.get_secret_value(), browser.nonce)

    def check_csrf(self, browser: BrowserSession, submitted: str) -> None:
        """Raise CsrfRejected unless the form's token belongs to this browser's session."""
        csrf.check(self.settings.secret_key.get_secret_value(), browser.nonce, submitted)

    def render(self, request: Request, browser: BrowserSession, name: str, *,
               actor: Actor | None = None, status: int = 200, **context: Any) -> Response:
        """A page from template ``name``, with the session written back."""
        context.update(actor=actor, csrf_token=self.csrf_token(browser), version=__version__,
                       flashes=browser.pop_flashes())
        response = self.templates.TemplateResponse(request, name, context, status_code=status,
                                                   headers=SECURITY_HEADERS)
        self.codec.save(response, browser)
        return response

    def redirect(self, browser: BrowserSession, url: str) -> Response:
        """A 303 See Other to ``url`` (same site only), with the session written back."""
        response = RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)
        self.codec.save(response, browser)
        return response

    def redirect_away(self, browser: BrowserSession, url: str) -> Response:
        """A 303 to another site: only for identity providers named in the settings."""
        return self.redirect(browser, url)

    def sign_in_failed(self, request: Request, browser: BrowserSession, status: int,
                       message: str) -> Response:
        """The error page of a single sign-on that did not succeed."""
        return self.render(request, browser, "error.html", status=status,
                           title="Sign-in failed", message=message)

"""Onboarding pages: the terms of use, shown until the signed-in user accepts this version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from ocx.api.deps import SessionDep
from ocx.domain.identity import onboarding
from ocx.errors import InvalidInput
from ocx.logging import request_id_var
from ocx.web import accounts
from ocx.web.deps import BrowserDep, WebDep, require_csrf

router = APIRouter(include_in_schema=False)


@router.get("/terms")
def terms(request: Request, web: WebDep, browser: BrowserDep, db: SessionDep) -> Response:
    """The terms of use in force, with an Accept button while the user has not accepted."""
    actor = accounts.current_actor(db, browser, request_id_var.get())
    if actor is None:
        return web.redirect(browser, "/login")
    settings = web.settings
    return web.render(request, browser, "terms.html", actor=actor,
                      terms_version=settings.terms_version, url=settings.terms_url,
                      pending=onboarding.needs_terms(db, actor, settings.terms_version))


@router.post("/terms", dependencies=[Depends(require_csrf)])
def accept_terms(request: Request, web: WebDep, browser: BrowserDep, db: SessionDep,
                 version: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Accept the version of the terms the page showed; then go home."""
    actor = accounts.current_actor(db, browser, request_id_var.get())
    if actor is None:
        return web.redirect(browser, "/login")
    try:
        onboarding.accept_terms(db, actor, web.settings.terms_version, version)
    except InvalidInput as exc:
        browser.flash("error", exc.message)
        return web.redirect(browser, "/terms")
    browser.flash("success", "Thank you: you accepted the terms of use.")
    return web.redirect(browser, "/")

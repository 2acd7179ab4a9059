"""Onboarding pages: the terms of use, shown until the signed-in user accepts this version,
and the page an invitation link opens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request, Response

from ocx.api.deps import SessionDep
from ocx.domain.identity import invitations, onboarding
from ocx.errors import InvalidInput, OcxError
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


InvitationToken = Annotated[str, Path(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/invitations/{token}")
def invitation(token: InvitationToken, request: Request, web: WebDep, browser: BrowserDep,
               db: SessionDep) -> Response:
    """Where an invitation link leads: sign in, then accept it with one button."""
    actor = accounts.current_actor(db, browser, request_id_var.get())
    return web.render(request, browser, "invitation.html", actor=actor, token=token)


@router.post("/invitations/{token}", dependencies=[Depends(require_csrf)])
def accept_invitation(token: InvitationToken, web: WebDep, browser: BrowserDep,
                      db: SessionDep) -> Response:
    """Accept the invitation as the signed-in user; go home with the outcome."""
    actor = accounts.current_actor(db, browser, request_id_var.get())
    if actor is None:
        return web.redirect(browser, "/login")
    try:
        with db.begin_nested():
            membership = invitations.accept(db, actor, token)
    except OcxError as exc:
        browser.flash("error", exc.message)
        return web.redirect(browser, "/")
    project = membership.project
    browser.flash("success", f"You joined the project {project.organization.name}/"
                             f"{project.name} as a {membership.role.value}.")
    return web.redirect(browser, "/")

"""Typed dependencies of the web UI's routes: the web context, the browser session, CSRF."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request

from ocx.web.pages import WebContext
from ocx.web.sessions import BrowserSession


def get_web(request: Request) -> WebContext:
    """The web context built by ``mount_web``."""
    web: WebContext = request.app.state.web
    return web


WebDep = Annotated[WebContext, Depends(get_web)]


def get_browser(request: Request, web: WebDep) -> BrowserSession:
    """This browser's session, from its cookie (a new anonymous one if none)."""
    return web.codec.load(request)


BrowserDep = Annotated[BrowserSession, Depends(get_browser)]


def require_csrf(web: WebDep, browser: BrowserDep,
                 csrf_token: Annotated[str, Form()] = "") -> None:
    """Refuse a form post without this session's CSRF token."""
    web.check_csrf(browser, csrf_token)

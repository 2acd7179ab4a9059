"""Single sign-on in the browser: OpenID Connect login, identity linking, and
"sign out everywhere".

``/auth/oidc/{provider}/login`` sends the browser to the institution's provider with a
fresh state, nonce and PKCE verifier kept in the signed session cookie; the callback
takes them out again (so a replayed callback finds nothing), checks the state, redeems
the code and validates the ID token, then signs the user in (created on first login).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from ocx.api.deps import SessionDep
from ocx.api.v1.sso import ProvidersDep
from ocx.domain.identity import federation, lifecycle, service
from ocx.domain.identity.oidc import FederatedClaims, OidcProvider, PendingLogin
from ocx.errors import DriverError, NotFound, OcxError
from ocx.logging import request_id_var
from ocx.web import accounts
from ocx.web.deps import BrowserDep, WebDep, require_csrf
from ocx.web.pages import WebContext
from ocx.web.sessions import BrowserSession, signed_in

router = APIRouter(include_in_schema=False)
MAX_PARAM = 2048


def _label(provider: OidcProvider) -> str:
    return provider.config.display_name or provider.name


def _redirect_uri(request: Request, web: WebContext, name: str) -> str:
    """Where the provider sends the browser back: under ``OCX_PUBLIC_URL`` when set (the
    request's Host header is the client's to choose), else under the request's own URL."""
    if web.settings.public_url:
        return f"{web.settings.public_url.rstrip('/')}/auth/oidc/{name}/callback"
    return str(request.url_for("oidc_callback", name=name))


@router.get("/auth/oidc/{name}/login")
def oidc_login(name: str, request: Request, web: WebDep, browser: BrowserDep,
               providers: ProvidersDep, link: bool = False) -> Response:
    """Send the browser to the identity provider ``name`` (``?link=true``: link it to the
    signed-in account instead of signing in)."""
    try:
        provider = providers.get(name)
        url, pending = provider.start(_redirect_uri(request, web, name))
    except (NotFound, DriverError) as exc:
        return web.sign_in_failed(request, browser, exc.status, exc.message)
    browser.sso = {**pending.as_dict(), "link": "1" if link and browser.user_id else ""}
    browser.changed = True
    return web.redirect_away(browser, url)


def _take_pending(browser: BrowserSession, name: str, state: str) -> PendingLogin | None:
    """The login this browser started with ``name`` and ``state``, removed from the session."""
    data, browser.sso = browser.sso, {}
    browser.changed = True
    try:
        pending = PendingLogin.from_dict(data)
    except KeyError:
        return None
    if pending.provider != name or not hmac.compare_digest(pending.state.encode(),
                                                           state.encode()):
        return None
    return pending


@router.get("/auth/oidc/{name}/callback", name="oidc_callback")
def oidc_callback(name: str, request: Request, web: WebDep, browser: BrowserDep,
                  db: SessionDep, providers: ProvidersDep,
                  code: Annotated[str, Query(max_length=MAX_PARAM)] = "",
                  state: Annotated[str, Query(max_length=MAX_PARAM)] = "",
                  error: Annotated[str, Query(max_length=MAX_PARAM)] = "") -> Response:
    """Finish a sign-in at the provider: check state, code and ID token, then sign in."""
    linking = browser.sso.get("link") == "1"
    pending = _take_pending(browser, name, state)
    if pending is None or error or not code:
        reason = f"the identity provider answered: {error}" if error else (
            "this sign-in was not started here, or was already used")
        return web.sign_in_failed(request, browser, 400,
                                  f"Sign-in failed: {reason}. Please start again.")
    try:
        provider = providers.get(name)
        claims = provider.finish(_redirect_uri(request, web, name), pending, code)
        if linking:
            return _link(web, browser, db, provider, claims)
        with db.begin_nested():
            user = federation.sign_in(db, provider.config, claims, request_id_var.get())
    except OcxError as exc:
        return web.sign_in_failed(request, browser, exc.status, exc.message)
    session = signed_in(str(user.id), user.password_hash, user.session_version)
    session.flash("success", f"Signed in as {user.email} with {_label(provider)}.")
    return web.redirect(session, "/")


def _link(web: WebContext, browser: BrowserSession, db: Session, provider: OidcProvider,
          claims: FederatedClaims) -> Response:
    actor = accounts.current_actor(db, browser, request_id_var.get())
    if actor is None or actor.user_id is None:
        fresh = BrowserSession()
        fresh.flash("error", "Sign in first, then link another identity.")
        return web.redirect(fresh, "/login")
    with db.begin_nested():
        federation.link(db, service.find_user(db, actor.user_id), claims)
    browser.flash("success", f"Your {_label(provider)} identity is now linked to this account.")
    return web.redirect(browser, "/")


@router.post("/logout/everywhere", dependencies=[Depends(require_csrf)])
def logout_everywhere(web: WebDep, browser: BrowserDep, db: SessionDep) -> Response:
    """End every web session of the signed-in user, in every browser."""
    actor = accounts.current_actor(db, browser, request_id_var.get())
    if actor is not None and actor.user_id is not None:
        lifecycle.end_web_sessions(db, actor, service.find_user(db, actor.user_id))
    fresh = BrowserSession()
    fresh.flash("success", "You have signed out of every browser.")
    return web.redirect(fresh, "/login")

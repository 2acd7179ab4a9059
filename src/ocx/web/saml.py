"""SAML 2.0 sign-in in the browser: OCX's SP metadata, the AuthnRequest and the ACS.

The IdP posts its response from its own site, and a SameSite=Lax session cookie is not
sent on such a cross-site POST; the pending request therefore lives in its own signed,
short-lived cookie, SameSite=None (and so Secure) whenever cookies are Secure.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ocx.api.deps import SessionDep
from ocx.domain.identity import federation, service
from ocx.domain.identity.models import User
from ocx.domain.identity.oidc import FederatedClaims
from ocx.domain.identity.saml import SamlProviders
from ocx.errors import OcxError, Unauthenticated
from ocx.logging import request_id_var
from ocx.web import accounts
from ocx.web.deps import BrowserDep, WebDep
from ocx.web.pages import WebContext
from ocx.web.sessions import BrowserSession, signed_in

router = APIRouter(include_in_schema=False)
PENDING_COOKIE = "ocx_saml"
PENDING_TTL_S = 600
MAX_RESPONSE = 200_000
MAX_BASE_URLS = 8


def get_saml(request: Request) -> SamlProviders:
    """The service provider for this server's base URL (built once per base URL):
    ``OCX_PUBLIC_URL`` when set, else the request's own."""
    public_url: str = request.app.state.runtime.settings.public_url
    base = public_url.rstrip("/") or str(request.base_url).rstrip("/")
    cache: dict[str, SamlProviders] = request.app.state.__dict__.setdefault("saml_sps", {})
    if base not in cache:
        if len(cache) >= MAX_BASE_URLS:  # the Host header is the client's: bound the cache
            cache.clear()
        cache[base] = SamlProviders(request.app.state.runtime.settings, base)
    return cache[base]


SamlDep = Annotated[SamlProviders, Depends(get_saml)]


def _serializer(web: WebContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(web.settings.secret_key.get_secret_value(), "ocx.web.saml.v1")


@router.get("/auth/saml/metadata")
def sp_metadata(saml: SamlDep) -> Response:
    """OCX's SAML service provider metadata (give it to the IdP or the federation)."""
    return Response(saml.metadata(), media_type="application/samlmetadata+xml")


@router.get("/auth/saml/{name}/login")
def saml_login(name: str, request: Request, web: WebDep, browser: BrowserDep,
               saml: SamlDep, link: bool = False) -> Response:
    """Send the browser to SAML identity provider ``name`` with a new AuthnRequest
    (``?link=true``: link that identity to the signed-in account instead of signing in)."""
    try:
        started = saml.start(name, relay_state=secrets.token_urlsafe(16))
    except OcxError as exc:
        return web.sign_in_failed(request, browser, exc.status, exc.message)
    response = web.redirect_away(browser, started.url)
    data = {"p": name, "r": started.request_id}
    if link and browser.user_id:
        # The session cookie is SameSite=Lax, so the IdP's cross-site POST will not carry
        # it: who is linking travels in this signed cookie, checked again at the ACS.
        data |= {"u": browser.user_id, "f": browser.fingerprint}
    pending = _serializer(web).dumps(data)
    response.set_cookie(PENDING_COOKIE, pending, max_age=PENDING_TTL_S, httponly=True,
                        path="/auth/saml/", secure=web.settings.cookie_secure,
                        samesite="none" if web.settings.cookie_secure else "lax")
    return response


def _pending(request: Request, web: WebContext, name: str) -> dict[str, Any] | None:
    raw = request.cookies.get(PENDING_COOKIE, "")
    try:
        data: dict[str, Any] = _serializer(web).loads(raw, max_age=PENDING_TTL_S)
    except BadSignature:
        return None
    return data if data.get("p") == name and data.get("r") else None


@router.post("/auth/saml/{name}/acs")
def saml_acs(name: str, request: Request, web: WebDep, browser: BrowserDep, db: SessionDep,
             saml: SamlDep, SAMLResponse: Annotated[str, Form(max_length=MAX_RESPONSE)] = "",
             ) -> Response:
    """Check the IdP's signed response to this browser's request; sign the user in."""
    pending = _pending(request, web, name)
    if pending is None or not SAMLResponse:
        response = web.sign_in_failed(request, browser, 400, "Sign-in failed: this response "
                                      "answers no sign-in started here, or was already used.")
    else:
        response = _finish(request, web, browser, db, saml, name, SAMLResponse, pending)
    response.delete_cookie(PENDING_COOKIE, path="/auth/saml/")  # one response per request
    return response


def _finish(request: Request, web: WebContext, browser: BrowserSession, db: SessionDep,
            saml: SamlProviders, name: str, saml_response: str,
            pending: dict[str, Any]) -> Response:
    request_id = str(pending["r"])
    label = saml.provider(name).display_name or name
    try:
        claims = saml.finish(name, saml_response, request_id)
        with db.begin_nested():
            federation.consume(db, f"saml:{name}:{request_id}", timedelta(seconds=PENDING_TTL_S))
            if pending.get("u"):
                user = _link(db, pending, claims)
                message = f"Your {label} identity is now linked to this account."
            else:
                user = federation.sign_in(db, saml.provider(name), claims, request_id_var.get())
                message = f"Signed in as {user.email} with {label}."
    except OcxError as exc:
        return web.sign_in_failed(request, browser, exc.status, exc.message)
    session = signed_in(str(user.id), user.password_hash, user.session_version)
    session.flash("success", message)
    return web.redirect(session, "/")


def _link(db: SessionDep, pending: dict[str, Any], claims: FederatedClaims) -> User:
    """Link the SAML identity to the account that started the login, if still signed in.

    Raises:
        Unauthenticated: that session ended meanwhile (signed out everywhere, deactivated).
    """
    linker = BrowserSession(user_id=str(pending["u"]), fingerprint=str(pending.get("f", "")))
    actor = accounts.current_actor(db, linker, request_id_var.get())
    if actor is None or actor.user_id is None:
        raise Unauthenticated("Your session ended before the identity could be linked; "
                              "sign in and try again.")
    user = service.find_user(db, actor.user_id)
    federation.link(db, user, claims)
    return user
